package export

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"text/template"

	"github.com/mailsetup/mailsetup/detect"
)

// clientConfig is Mozilla's clientConfig v1.1 document.
type clientConfig struct {
	XMLName       xml.Name `xml:"clientConfig"`
	Version       string   `xml:"version,attr"`
	EmailProvider struct {
		ID               string     `xml:"id,attr"`
		Domain           string     `xml:"domain"`
		DisplayName      string     `xml:"displayName"`
		DisplayShortName string     `xml:"displayShortName"`
		Incoming         []ccServer `xml:"incomingServer"`
		Outgoing         []ccServer `xml:"outgoingServer"`
	} `xml:"emailProvider"`
}

type ccServer struct {
	Type           string `xml:"type,attr"`
	Hostname       string `xml:"hostname"`
	Port           int    `xml:"port"`
	SocketType     string `xml:"socketType"`
	Authentication string `xml:"authentication"`
	Username       string `xml:"username,omitempty"`
}

func ccSocket(s detect.Security) string {
	switch s {
	case detect.SecurityTLS:
		return "SSL"
	case detect.SecurityStartTLS:
		return "STARTTLS"
	}
	return "plain"
}

func ccAuth(s detect.Setting) string {
	switch {
	case s.Auth == "pop-before-smtp":
		return "smtp-after-pop"
	case !passwordAuth(s):
		return "none"
	case encryptedAuth(s):
		return "password-encrypted"
	}
	return "password-cleartext"
}

// ccUsername writes the user name with placeholders where it is the address or local part,
// so the file also serves other users of the domain.
func ccUsername(a Account, u string) string {
	switch u {
	case a.Address:
		return "%EMAILADDRESS%"
	case a.Local:
		return "%EMAILLOCALPART%"
	}
	return u
}

func writeClientConfig(a Account, w io.Writer) error {
	var cc clientConfig
	cc.Version = "1.1"
	cc.EmailProvider.ID = a.Domain
	cc.EmailProvider.Domain = a.Domain
	cc.EmailProvider.DisplayName = a.Domain + " mail"
	if a.Provider != nil {
		cc.EmailProvider.DisplayName = a.Provider.Name
	}
	cc.EmailProvider.DisplayShortName = a.Domain
	cc.EmailProvider.Incoming = []ccServer{{Type: string(a.Incoming.Protocol), Hostname: a.Incoming.Host, Port: a.Incoming.Port,
		SocketType: ccSocket(a.Incoming.Security), Authentication: ccAuth(a.Incoming), Username: ccUsername(a, a.Incoming.Username)}}
	out := ccServer{Type: "smtp", Hostname: a.Outgoing.Host, Port: a.Outgoing.Port,
		SocketType: ccSocket(a.Outgoing.Security), Authentication: ccAuth(a.Outgoing)}
	if passwordAuth(a.Outgoing) {
		out.Username = ccUsername(a, a.Outgoing.Username)
	}
	cc.EmailProvider.Outgoing = []ccServer{out}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(cc); err != nil {
		return fmt.Errorf("export thunderbird: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// Thunderbird pref values: socketType 0 plain, 2 STARTTLS, 3 SSL/TLS; authMethod
// 1 none, 3 normal password, 4 encrypted password.
func tbSocket(s detect.Security) int {
	switch s {
	case detect.SecurityTLS:
		return 3
	case detect.SecurityStartTLS:
		return 2
	}
	return 0
}

func tbAuth(s detect.Setting) int {
	switch {
	case !passwordAuth(s):
		return 1
	case encryptedAuth(s):
		return 4
	}
	return 3
}

var userJS = template.Must(template.New("user.js").Funcs(template.FuncMap{
	"q":      func(s string) string { return fmt.Sprintf("%q", s) },
	"socket": tbSocket, "auth": tbAuth,
	"lower": func(p detect.Protocol) string { return strings.ToLower(string(p)) },
}).Parse(`// Mail Setup Assistant: Thunderbird account for {{.Address}}.
// Install: quit Thunderbird, open your profile folder (Help → Troubleshooting
// Information → Profile Folder → Open Folder), append these lines to user.js (create
// the file if there is none), start Thunderbird, then delete the lines again so they do
// not override later changes. Thunderbird asks for the password on first use.
// The ids (account90, id90, server90, smtp90) are chosen not to clash with existing ones;
// if the profile already has an account90, change 90 everywhere below.
user_pref("mail.account.account90.identities", "id90");
user_pref("mail.account.account90.server", "server90");
user_pref("mail.identity.id90.fullName", {{q .DisplayName}});
user_pref("mail.identity.id90.useremail", {{q .Address}});
user_pref("mail.identity.id90.smtpServer", "smtp90");
user_pref("mail.identity.id90.valid", true);
user_pref("mail.server.server90.type", {{q (lower .Incoming.Protocol)}});
user_pref("mail.server.server90.hostname", {{q .Incoming.Host}});
user_pref("mail.server.server90.port", {{.Incoming.Port}});
user_pref("mail.server.server90.socketType", {{socket .Incoming.Security}});
user_pref("mail.server.server90.authMethod", {{auth .Incoming}});
user_pref("mail.server.server90.userName", {{q .Incoming.Username}});
user_pref("mail.server.server90.name", {{q .Address}});
user_pref("mail.smtpserver.smtp90.hostname", {{q .Outgoing.Host}});
user_pref("mail.smtpserver.smtp90.port", {{.Outgoing.Port}});
user_pref("mail.smtpserver.smtp90.try_ssl", {{socket .Outgoing.Security}});
user_pref("mail.smtpserver.smtp90.authMethod", {{auth .Outgoing}});
user_pref("mail.smtpserver.smtp90.username", {{q .Outgoing.Username}});
user_pref("mail.smtpserver.smtp90.description", {{q .Address}});
// Thunderbird shows only the accounts listed in mail.accountmanager.accounts. These two
// lines are commented out so they can never hide accounts you already have:
// - new, empty profile: remove the leading "// " from both lines;
// - profile with accounts: in Settings → General → Config Editor, append ",account90" to
//   mail.accountmanager.accounts and ",smtp90" to mail.smtpservers instead.
// user_pref("mail.accountmanager.accounts", "account90");
// user_pref("mail.smtpservers", "smtp90");
`))

func writeUserJS(a Account, w io.Writer) error {
	if err := userJS.Execute(w, a); err != nil {
		return fmt.Errorf("export thunderbird-prefs: %w", err)
	}
	return nil
}
