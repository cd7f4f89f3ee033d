package export

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/template"
	"unicode/utf16"

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

// ccServer is one server; Authentication may list several values, and Thunderbird's
// reader takes the first one it supports (e.g. OAuth2, then a password).
type ccServer struct {
	Type           string   `xml:"type,attr"`
	Hostname       string   `xml:"hostname"`
	Port           int      `xml:"port"`
	SocketType     string   `xml:"socketType"`
	Authentication []string `xml:"authentication"`
	Username       string   `xml:"username,omitempty"`
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

// ccUsername writes the user name with placeholders where it is the address or local
// part, so the file serves every user of the domain; ok is false for a literal name.
func ccUsername(a Account, u string) (string, bool) {
	if local, domain, found := strings.Cut(u, "@"); found && local == a.Local &&
		(strings.EqualFold(domain, a.Domain) || strings.EqualFold(domain, a.DomainUnicode)) {
		return "%EMAILADDRESS%", true
	}
	if u == a.Local {
		return "%EMAILLOCALPART%", true
	}
	return u, false
}

// ccAuthentication lists the clientConfig values for one server: the table's value, and
// after an OAuth2 value the password value Thunderbird falls back to when it has no
// OAuth2 configuration for the host.
func ccAuthentication(s detect.Setting, offered []string, ch loginChoice) []string {
	vals := []string{ch.Row.TB.Config}
	if ch.Row.isOAuth() && offered != nil {
		if alt, ok := standIn(clientThunderbird, s, offered, ch.Row, ch.Mech); ok {
			vals = append(vals, alt.Row.TB.Config)
		}
	}
	return vals
}

func writeClientConfig(a Account, w io.Writer) ([]string, error) {
	in, out, err := bothLogins(clientThunderbird, "thunderbird", a)
	if err != nil {
		return nil, err
	}
	warnings := tbWarnings(a, in, out)
	var cc clientConfig
	cc.Version = "1.1"
	cc.EmailProvider.ID = a.Domain
	cc.EmailProvider.Domain = a.Domain
	cc.EmailProvider.DisplayName = a.Domain + " mail"
	if a.Provider != nil && a.Provider.Name != "" {
		cc.EmailProvider.DisplayName = a.Provider.Name
	}
	cc.EmailProvider.DisplayShortName = a.Domain
	inUser, inGeneric := ccUsername(a, a.Incoming.Username)
	cc.EmailProvider.Incoming = []ccServer{{Type: string(a.Incoming.Protocol), Hostname: a.Incoming.Host, Port: a.Incoming.Port,
		SocketType: ccSocket(a.Incoming.Security), Authentication: ccAuthentication(a.Incoming, a.IncomingOffered, in), Username: inUser}}
	o := ccServer{Type: "smtp", Hostname: a.Outgoing.Host, Port: a.Outgoing.Port,
		SocketType: ccSocket(a.Outgoing.Security), Authentication: ccAuthentication(a.Outgoing, a.OutgoingOffered, out)}
	outGeneric := true
	if out.Row.usesPassword() {
		o.Username, outGeneric = ccUsername(a, a.Outgoing.Username)
	}
	cc.EmailProvider.Outgoing = []ccServer{o}
	if !inGeneric || !outGeneric {
		warnings = append(warnings, "The user name is not the address or its local part, so this file sets up "+a.Address+" only; other users of "+a.Domain+" must change the user name.")
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return nil, err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(cc); err != nil {
		return nil, fmt.Errorf("export thunderbird: %w", err)
	}
	_, err = io.WriteString(w, "\n")
	return warnings, err
}

func tbWarnings(a Account, in, out loginChoice) []string {
	w := loginNotes(in, out)
	for _, s := range []string{clearTextWarning("incoming", a.Incoming, in), clearTextWarning("outgoing", a.Outgoing, out)} {
		if s != "" {
			w = append(w, s)
		}
	}
	if a.Outgoing.Auth == detect.AuthPOPBeforeSMTP {
		w = append(w, "Sending works only shortly after Thunderbird has checked for new messages (POP before SMTP): get messages before sending.")
	}
	return w
}

// tbSocket is Thunderbird's nsMsgSocketType: 0 plain, 2 STARTTLS, 3 SSL/TLS.
func tbSocket(s detect.Security) int {
	switch s {
	case detect.SecurityTLS:
		return 3
	case detect.SecurityStartTLS:
		return 2
	}
	return 0
}

// prefString quotes s for a Mozilla prefs file. The prefs parser
// (modules/libpref/parser/src/lib.rs) accepts only \" \' \\ \n \r \xNN and \uNNNN
// escapes and refuses \x00 / \u0000; anything else makes it drop the pref. Non-ASCII
// is written as \uNNNN (surrogate pairs above U+FFFF) so the file stays ASCII whatever
// editor the user opens it in.
func prefString(s string) (string, error) {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == 0:
			return "", &InvalidError{Field: "text", Value: s, Reason: "a NUL character cannot be written to a Mozilla prefs file"}
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02X`, r)
		case r < 0x80:
			b.WriteRune(r)
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04X\u%04X`, hi, lo)
		default:
			fmt.Fprintf(&b, `\u%04X`, r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

var userJS = template.Must(template.New("user.js").Parse(`// Mail Setup Assistant: Thunderbird account for {{.Address}}.
// Install: quit Thunderbird, open your profile folder (Help → Troubleshooting
// Information → Profile Folder → Open Folder), append these lines to user.js (create
// the file if there is none), start Thunderbird, then delete the lines again so they do
// not override later changes. Thunderbird asks for the password on first use.
// The ids (account90, id90, server90, smtp90) are chosen not to clash with existing ones;
// if the profile already has an account90, change 90 everywhere below.
{{range .Prefs}}user_pref("{{.Name}}", {{.Value}});
{{end}}// Thunderbird shows only the accounts listed in mail.accountmanager.accounts. These two
// lines are commented out so they can never hide accounts you already have:
// - new, empty profile: remove the leading "// " from both lines;
// - profile with accounts: in Settings → General → Config Editor, append ",account90" to
//   mail.accountmanager.accounts and ",smtp90" to mail.smtpservers instead.
// user_pref("mail.accountmanager.accounts", "account90");
// user_pref("mail.smtpservers", "smtp90");
`))

type pref struct{ Name, Value string }

func writeUserJS(a Account, w io.Writer) ([]string, error) {
	in, out, err := bothLogins(clientThunderbird, "thunderbird-prefs", a)
	if err != nil {
		return nil, err
	}
	var prefs []pref
	var qerr error
	str := func(name, v string) {
		q, err := prefString(v)
		if err != nil && qerr == nil {
			qerr = err
		}
		prefs = append(prefs, pref{name, q})
	}
	num := func(name string, n int) { prefs = append(prefs, pref{name, strconv.Itoa(n)}) }
	str("mail.account.account90.identities", "id90")
	str("mail.account.account90.server", "server90")
	str("mail.identity.id90.fullName", a.DisplayName)
	str("mail.identity.id90.useremail", a.Address)
	str("mail.identity.id90.smtpServer", "smtp90")
	prefs = append(prefs, pref{"mail.identity.id90.valid", "true"})
	str("mail.server.server90.type", strings.ToLower(string(a.Incoming.Protocol)))
	str("mail.server.server90.hostname", a.Incoming.Host)
	num("mail.server.server90.port", a.Incoming.Port)
	num("mail.server.server90.socketType", tbSocket(a.Incoming.Security))
	num("mail.server.server90.authMethod", in.Row.TB.Method)
	str("mail.server.server90.userName", a.Incoming.Username)
	str("mail.server.server90.name", a.Address)
	str("mail.smtpserver.smtp90.hostname", a.Outgoing.Host)
	num("mail.smtpserver.smtp90.port", a.Outgoing.Port)
	num("mail.smtpserver.smtp90.try_ssl", tbSocket(a.Outgoing.Security))
	num("mail.smtpserver.smtp90.authMethod", out.Row.TB.Method)
	if out.Row.usesPassword() {
		str("mail.smtpserver.smtp90.username", a.Outgoing.Username)
	}
	str("mail.smtpserver.smtp90.description", a.Address)
	if qerr != nil {
		return nil, qerr
	}
	data := struct {
		Address string
		Prefs   []pref
	}{strings.NewReplacer("\n", " ", "\r", " ").Replace(a.Address), prefs}
	if err := userJS.Execute(w, data); err != nil {
		return nil, fmt.Errorf("export thunderbird-prefs: %w", err)
	}
	return tbWarnings(a, in, out), nil
}
