package export

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"howett.net/plist"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/i18n"
)

// appleProfile is a configuration profile (.mobileconfig) with one mail payload.
type appleProfile struct {
	PayloadContent      []appleMail `plist:"PayloadContent"`
	PayloadDescription  string      `plist:"PayloadDescription"`
	PayloadDisplayName  string      `plist:"PayloadDisplayName"`
	PayloadIdentifier   string      `plist:"PayloadIdentifier"`
	PayloadOrganization string      `plist:"PayloadOrganization,omitempty"`
	PayloadType         string      `plist:"PayloadType"`
	PayloadUUID         string      `plist:"PayloadUUID"`
	PayloadVersion      int         `plist:"PayloadVersion"`
}

// appleMail is the com.apple.mail.managed payload. It has no password keys: Apple's
// schema allows IncomingPassword/OutgoingPassword only in encrypted profiles, so Mail
// asks for the password when the profile is installed.
type appleMail struct {
	EmailAccountDescription                string `plist:"EmailAccountDescription"`
	EmailAccountName                       string `plist:"EmailAccountName"`
	EmailAccountType                       string `plist:"EmailAccountType"`
	EmailAddress                           string `plist:"EmailAddress"`
	IncomingMailServerAuthentication       string `plist:"IncomingMailServerAuthentication"`
	IncomingMailServerHostName             string `plist:"IncomingMailServerHostName"`
	IncomingMailServerPortNumber           int    `plist:"IncomingMailServerPortNumber"`
	IncomingMailServerUseSSL               bool   `plist:"IncomingMailServerUseSSL"`
	IncomingMailServerUsername             string `plist:"IncomingMailServerUsername"`
	OutgoingMailServerAuthentication       string `plist:"OutgoingMailServerAuthentication"`
	OutgoingMailServerHostName             string `plist:"OutgoingMailServerHostName"`
	OutgoingMailServerPortNumber           int    `plist:"OutgoingMailServerPortNumber"`
	OutgoingMailServerUseSSL               bool   `plist:"OutgoingMailServerUseSSL"`
	OutgoingMailServerUsername             string `plist:"OutgoingMailServerUsername,omitempty"`
	OutgoingPasswordSameAsIncomingPassword bool   `plist:"OutgoingPasswordSameAsIncomingPassword"`
	PayloadDescription                     string `plist:"PayloadDescription"`
	PayloadDisplayName                     string `plist:"PayloadDisplayName"`
	PayloadIdentifier                      string `plist:"PayloadIdentifier"`
	PayloadType                            string `plist:"PayloadType"`
	PayloadUUID                            string `plist:"PayloadUUID"`
	PayloadVersion                         int    `plist:"PayloadVersion"`
}

// writeApple writes the profile, signed when opts.Signer is set. UseSSL is true for
// implicit TLS and for STARTTLS alike: Apple's flag means "use TLS", and Mail negotiates
// STARTTLS when the port is not an implicit-TLS port (587, 143, 110); a profile has no
// separate STARTTLS setting.
func writeApple(a Account, opts Options, w io.Writer) ([]string, error) {
	in, out, err := bothLogins(clientApple, "apple", a)
	if err != nil {
		return nil, err
	}
	id := "net.mailsetup.profile." + strings.ReplaceAll(a.Address, "@", ".")
	mail := appleMail{
		EmailAccountDescription:                a.Address,
		EmailAccountName:                       a.DisplayName,
		EmailAccountType:                       map[bool]string{true: "EmailTypePOP", false: "EmailTypeIMAP"}[a.Incoming.Protocol == detect.POP3],
		EmailAddress:                           a.Address,
		IncomingMailServerAuthentication:       in.Row.Apple,
		IncomingMailServerHostName:             a.Incoming.Host,
		IncomingMailServerPortNumber:           a.Incoming.Port,
		IncomingMailServerUseSSL:               a.Incoming.Security != detect.SecurityNone,
		IncomingMailServerUsername:             a.Incoming.Username,
		OutgoingMailServerAuthentication:       out.Row.Apple,
		OutgoingMailServerHostName:             a.Outgoing.Host,
		OutgoingMailServerPortNumber:           a.Outgoing.Port,
		OutgoingMailServerUseSSL:               a.Outgoing.Security != detect.SecurityNone,
		OutgoingPasswordSameAsIncomingPassword: samePassword(a),
		PayloadDescription:                     "Mail account " + a.Address,
		PayloadDisplayName:                     a.Address,
		PayloadIdentifier:                      id + ".mail",
		PayloadType:                            "com.apple.mail.managed",
		PayloadUUID:                            derivedUUID("apple-mail", a.Address, a.Incoming.Host, a.Outgoing.Host),
		PayloadVersion:                         1,
	}
	if out.Row.usesPassword() {
		mail.OutgoingMailServerUsername = a.Outgoing.Username
	}
	warnings := appleWarnings(a, in, out)
	p := appleProfile{
		PayloadContent:      []appleMail{mail},
		PayloadDescription:  fmt.Sprintf("Mail settings for %s, verified by Mail Setup Assistant.", a.Address) + brandingLine(a, i18n.New(i18n.English)),
		PayloadDisplayName:  "Mail: " + a.Address,
		PayloadIdentifier:   id,
		PayloadOrganization: a.Organization,
		PayloadType:         "Configuration",
		PayloadUUID:         derivedUUID("apple-profile", a.Address),
		PayloadVersion:      1,
	}
	var buf bytes.Buffer
	enc := plist.NewEncoderForFormat(&buf, plist.XMLFormat)
	enc.Indent("\t")
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("export apple: %w", err)
	}
	buf.WriteString("\n")
	data := buf.Bytes()
	if opts.Signer != nil {
		if data, err = opts.Signer.Sign(data); err != nil {
			return nil, err
		}
	}
	_, err = w.Write(data)
	return warnings, err
}

func appleWarnings(a Account, in, out loginChoice) []string {
	w := loginNotes(in, out)
	for _, s := range []string{clearTextWarning("incoming", a.Incoming, in), clearTextWarning("outgoing", a.Outgoing, out)} {
		if s != "" {
			w = append(w, s)
		}
	}
	if a.Outgoing.Auth == detect.AuthPOPBeforeSMTP {
		w = append(w, "Sending works only shortly after Mail has checked for new messages (POP before SMTP).")
	}
	return w
}
