// Package apple reads the mail accounts of an Apple configuration profile
// (.mobileconfig, payload com.apple.mail.managed) as Apple Mail on macOS and iOS
// installs it: plain XML or binary property lists, and profiles signed as CMS
// (PKCS #7) SignedData, whose content is unwrapped and whose signature is checked.
// Passwords in a profile are never read.
package apple

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/smallstep/pkcs7"
	"howett.net/plist"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/detect"
)

// MailPayloadType is the payload type of an email account.
const MailPayloadType = "com.apple.mail.managed"

// ErrEncrypted says the profile is encrypted to a device's key and cannot be read here.
var ErrEncrypted = errors.New("apple: the profile is encrypted for one device and cannot be read here")

// mailPayload holds the keys of com.apple.mail.managed the check needs (no passwords).
type mailPayload struct {
	PayloadType                      string `plist:"PayloadType"`
	PayloadIdentifier                string `plist:"PayloadIdentifier"`
	EmailAccountDescription          string `plist:"EmailAccountDescription"`
	EmailAccountName                 string `plist:"EmailAccountName"`
	EmailAccountType                 string `plist:"EmailAccountType"`
	EmailAddress                     string `plist:"EmailAddress"`
	IncomingMailServerAuthentication string `plist:"IncomingMailServerAuthentication"`
	IncomingMailServerHostName       string `plist:"IncomingMailServerHostName"`
	IncomingMailServerPortNumber     int    `plist:"IncomingMailServerPortNumber"`
	IncomingMailServerUseSSL         bool   `plist:"IncomingMailServerUseSSL"`
	IncomingMailServerUsername       string `plist:"IncomingMailServerUsername"`
	OutgoingMailServerAuthentication string `plist:"OutgoingMailServerAuthentication"`
	OutgoingMailServerHostName       string `plist:"OutgoingMailServerHostName"`
	OutgoingMailServerPortNumber     int    `plist:"OutgoingMailServerPortNumber"`
	OutgoingMailServerUseSSL         bool   `plist:"OutgoingMailServerUseSSL"`
	OutgoingMailServerUsername       string `plist:"OutgoingMailServerUsername"`
}

type profile struct {
	PayloadType        string        `plist:"PayloadType"`
	PayloadDisplayName string        `plist:"PayloadDisplayName"`
	PayloadContent     []mailPayload `plist:"PayloadContent"`
	EncryptedContent   []byte        `plist:"EncryptedPayloadContent"`
}

// Signature describes the CMS signature of a signed profile.
type Signature struct {
	// Signer is the signing certificate's subject.
	Signer string
	// Valid is true when the signature matches the content (the signer's chain is not
	// judged: macOS shows that as "Verified" or "Unverified" when installing).
	Valid bool
	Err   string
}

// Unwrap returns the property list inside data: data itself when it is a plain
// property list, the SignedData content when it is a CMS-signed profile.
func Unwrap(data []byte) ([]byte, *Signature, error) {
	trim := bytes.TrimLeft(data, " \t\r\n\xef\xbb\xbf")
	if bytes.HasPrefix(trim, []byte("<?xml")) || bytes.HasPrefix(trim, []byte("<plist")) || bytes.HasPrefix(trim, []byte("<!DOCTYPE")) || bytes.HasPrefix(trim, []byte("bplist")) {
		return data, nil, nil
	}
	if len(data) == 0 || data[0] != 0x30 {
		return nil, nil, errors.New("apple: neither a property list nor a signed profile")
	}
	p7, err := pkcs7.Parse(data)
	if err != nil {
		return nil, nil, fmt.Errorf("apple: signed profile: %w", err)
	}
	if len(p7.Content) == 0 {
		return nil, nil, errors.New("apple: the signed profile carries no content (detached signature)")
	}
	sig := &Signature{Valid: true}
	if c := p7.GetOnlySigner(); c != nil {
		sig.Signer = subject(c)
	}
	if err := p7.Verify(); err != nil {
		sig.Valid, sig.Err = false, err.Error()
	}
	return p7.Content, sig, nil
}

func subject(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return c.Subject.String()
}

// Parse reads the mail accounts of a .mobileconfig; source names the file.
func Parse(data []byte, source string) ([]clients.Account, []string, error) {
	inner, sig, err := Unwrap(data)
	if err != nil {
		return nil, nil, err
	}
	var p profile
	if _, err := plist.Unmarshal(inner, &p); err != nil {
		return nil, nil, fmt.Errorf("apple: %s: not a configuration profile: %w", source, err)
	}
	if len(p.EncryptedContent) > 0 {
		return nil, nil, ErrEncrypted
	}
	var notes, problems []string
	if sig != nil {
		if sig.Valid {
			notes = append(notes, fmt.Sprintf("The profile is signed by %q and the signature matches its content.", sig.Signer))
		} else {
			notes = append(notes, fmt.Sprintf("The profile says it is signed by %q, but the signature does not match (%s): it may have been changed.", sig.Signer, sig.Err))
		}
	}
	var out []clients.Account
	for i, m := range p.PayloadContent {
		if m.PayloadType != MailPayloadType {
			continue
		}
		a, note, err := account(m, fmt.Sprintf("%s (payload %d)", source, i+1))
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if note != "" {
			a.Notes = append(a.Notes, note)
		}
		a.Notes = append(a.Notes, notes...)
		out = append(out, a)
	}
	if len(out) == 0 && len(problems) == 0 {
		return nil, nil, fmt.Errorf("apple: %s: %w (no %s payload)", source, clients.ErrNoAccounts, MailPayloadType)
	}
	return out, problems, nil
}

// security turns Apple's UseSSL into a mode: Mail speaks TLS from the start on the
// implicit-TLS ports and negotiates STARTTLS on the others.
func security(useSSL bool, port int) detect.Security {
	switch {
	case !useSSL:
		return detect.SecurityNone
	case port == 465 || port == 993 || port == 995:
		return detect.SecurityTLS
	}
	return detect.SecurityStartTLS
}

func authWord(a string) string {
	switch a {
	case "EmailAuthNone":
		return "none"
	case "EmailAuthCRAMMD5", "EmailAuthHTTPMD5":
		return "password-encrypted"
	case "EmailAuthNTLM":
		return "NTLM"
	}
	return "password-cleartext"
}

func account(m mailPayload, file string) (clients.Account, string, error) {
	a := clients.Account{Client: clients.Apple, Name: m.EmailAccountDescription, Address: m.EmailAddress}
	if a.Name == "" {
		a.Name = m.EmailAccountName
	}
	proto := detect.IMAP
	if m.EmailAccountType == "EmailTypePOP" {
		proto = detect.POP3
	}
	note := ""
	inPort := m.IncomingMailServerPortNumber
	inKeys := map[clients.Field]string{clients.FieldHost: "IncomingMailServerHostName", clients.FieldProtocol: "EmailAccountType",
		clients.FieldSecurity: "IncomingMailServerUseSSL", clients.FieldAuth: "IncomingMailServerAuthentication", clients.FieldUsername: "IncomingMailServerUsername"}
	if inPort == 0 {
		inPort = clients.DefaultPort(proto, map[bool]detect.Security{true: detect.SecurityTLS, false: detect.SecurityNone}[m.IncomingMailServerUseSSL])
	} else {
		inKeys[clients.FieldPort] = "IncomingMailServerPortNumber"
	}
	in := detect.Setting{Protocol: proto, Host: m.IncomingMailServerHostName, Port: inPort,
		Security: security(m.IncomingMailServerUseSSL, inPort), Auth: authWord(m.IncomingMailServerAuthentication),
		Username: m.IncomingMailServerUsername}
	a.Incoming = &in
	a.InOrigin = clients.Origin{File: file, Keys: inKeys}
	if m.OutgoingMailServerHostName != "" {
		outPort := m.OutgoingMailServerPortNumber
		outKeys := map[clients.Field]string{clients.FieldHost: "OutgoingMailServerHostName", clients.FieldSecurity: "OutgoingMailServerUseSSL",
			clients.FieldAuth: "OutgoingMailServerAuthentication", clients.FieldUsername: "OutgoingMailServerUsername"}
		if outPort == 0 {
			// Mail tries 25, 587 and 465 in turn; the check starts with 587, the submission port.
			outPort = 587
			if m.OutgoingMailServerUseSSL {
				outPort = 465
			}
			note = fmt.Sprintf("The profile names no outgoing port (Mail then tries 25, 587 and 465); checking %d.", outPort)
		} else {
			outKeys[clients.FieldPort] = "OutgoingMailServerPortNumber"
		}
		out := detect.Setting{Protocol: detect.SMTP, Host: m.OutgoingMailServerHostName, Port: outPort,
			Security: security(m.OutgoingMailServerUseSSL, outPort), Auth: authWord(m.OutgoingMailServerAuthentication),
			Username: m.OutgoingMailServerUsername}
		if out.Auth == detect.AuthNone {
			out.Username = ""
		}
		a.Outgoing = &out
		a.OutOrigin = clients.Origin{File: file, Keys: outKeys}
	}
	if strings.TrimSpace(a.Address) == "" && strings.Contains(in.Username, "@") {
		a.Address = in.Username
	}
	if err := clients.ValidateAccount(&a); err != nil {
		return clients.Account{}, "", fmt.Errorf("%s: %w", file, err)
	}
	return a, note, nil
}
