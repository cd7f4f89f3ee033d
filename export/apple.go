package export

import (
	"fmt"
	"io"
	"strings"

	"howett.net/plist"

	"github.com/mailsetup/mailsetup/detect"
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

// appleMail is the com.apple.mail.managed payload.
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
	IncomingPassword                       string `plist:"IncomingPassword,omitempty"`
	OutgoingMailServerAuthentication       string `plist:"OutgoingMailServerAuthentication"`
	OutgoingMailServerHostName             string `plist:"OutgoingMailServerHostName"`
	OutgoingMailServerPortNumber           int    `plist:"OutgoingMailServerPortNumber"`
	OutgoingMailServerUseSSL               bool   `plist:"OutgoingMailServerUseSSL"`
	OutgoingMailServerUsername             string `plist:"OutgoingMailServerUsername,omitempty"`
	OutgoingPassword                       string `plist:"OutgoingPassword,omitempty"`
	OutgoingPasswordSameAsIncomingPassword bool   `plist:"OutgoingPasswordSameAsIncomingPassword"`
	PayloadDescription                     string `plist:"PayloadDescription"`
	PayloadDisplayName                     string `plist:"PayloadDisplayName"`
	PayloadIdentifier                      string `plist:"PayloadIdentifier"`
	PayloadType                            string `plist:"PayloadType"`
	PayloadUUID                            string `plist:"PayloadUUID"`
	PayloadVersion                         int    `plist:"PayloadVersion"`
}

// appleAuth maps a mechanism to Apple's Authentication values.
func appleAuth(s detect.Setting) string {
	switch {
	case !passwordAuth(s):
		return "EmailAuthNone"
	case strings.EqualFold(s.Auth, "CRAM-MD5"):
		return "EmailAuthCRAMMD5"
	default:
		return "EmailAuthPassword"
	}
}

// writeApple writes the profile. UseSSL is true for implicit TLS and for STARTTLS alike:
// Apple's flag means "use TLS", and Mail negotiates STARTTLS when the port is not an
// implicit-TLS port (587, 143, 110); a profile has no separate STARTTLS setting.
func writeApple(a Account, opts Options, w io.Writer) ([]string, error) {
	id := "net.mailsetup.profile." + strings.ReplaceAll(a.Address, "@", ".")
	mail := appleMail{
		EmailAccountDescription:                a.Address,
		EmailAccountName:                       a.DisplayName,
		EmailAccountType:                       map[bool]string{true: "EmailTypePOP", false: "EmailTypeIMAP"}[a.Incoming.Protocol == detect.POP3],
		EmailAddress:                           a.Address,
		IncomingMailServerAuthentication:       appleAuth(a.Incoming),
		IncomingMailServerHostName:             a.Incoming.Host,
		IncomingMailServerPortNumber:           a.Incoming.Port,
		IncomingMailServerUseSSL:               a.Incoming.Security != detect.SecurityNone,
		IncomingMailServerUsername:             a.Incoming.Username,
		OutgoingMailServerAuthentication:       appleAuth(a.Outgoing),
		OutgoingMailServerHostName:             a.Outgoing.Host,
		OutgoingMailServerPortNumber:           a.Outgoing.Port,
		OutgoingMailServerUseSSL:               a.Outgoing.Security != detect.SecurityNone,
		OutgoingMailServerUsername:             a.Outgoing.Username,
		OutgoingPasswordSameAsIncomingPassword: passwordAuth(a.Outgoing) && a.Outgoing.Username == a.Incoming.Username,
		PayloadDescription:                     "Mail account " + a.Address,
		PayloadDisplayName:                     a.Address,
		PayloadIdentifier:                      id + ".mail",
		PayloadType:                            "com.apple.mail.managed",
		PayloadUUID:                            derivedUUID("apple-mail", a.Address, a.Incoming.Host, a.Outgoing.Host),
		PayloadVersion:                         1,
	}
	var warnings []string
	if opts.IncludePassword && opts.Password != "" {
		mail.IncomingPassword = opts.Password
		if passwordAuth(a.Outgoing) {
			mail.OutgoingPassword = opts.Password
		}
		warnings = append(warnings, "This profile contains the password in readable form: send it only over a safe channel and delete it after installing.")
	}
	p := appleProfile{
		PayloadContent:      []appleMail{mail},
		PayloadDescription:  fmt.Sprintf("Mail settings for %s, verified by Mail Setup Assistant.", a.Address),
		PayloadDisplayName:  "Mail: " + a.Address,
		PayloadIdentifier:   id,
		PayloadOrganization: a.Organization,
		PayloadType:         "Configuration",
		PayloadUUID:         derivedUUID("apple-profile", a.Address),
		PayloadVersion:      1,
	}
	enc := plist.NewEncoderForFormat(w, plist.XMLFormat)
	enc.Indent("\t")
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("export apple: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return warnings, err
}
