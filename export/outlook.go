package export

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/mailsetup/mailsetup/detect"
)

// Autodiscover POX response (responseschema 2006a) for Outlook.
type autodiscover struct {
	XMLName  xml.Name   `xml:"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006 Autodiscover"`
	Response adResponse `xml:"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a Response"`
}

type adResponse struct {
	Account adAccount `xml:"Account"`
}

type adAccount struct {
	AccountType string       `xml:"AccountType"`
	Action      string       `xml:"Action"`
	Protocol    []adProtocol `xml:"Protocol"`
}

// adProtocol lists SPA explicitly: Outlook assumes SPA on when the element is missing.
type adProtocol struct {
	Type           string `xml:"Type"`
	Server         string `xml:"Server"`
	Port           int    `xml:"Port"`
	DomainRequired string `xml:"DomainRequired"`
	LoginName      string `xml:"LoginName,omitempty"`
	SPA            string `xml:"SPA"`
	SSL            string `xml:"SSL"`
	Encryption     string `xml:"Encryption"`
	AuthRequired   string `xml:"AuthRequired"`
	UsePOPAuth     string `xml:"UsePOPAuth,omitempty"`
	SMTPLast       string `xml:"SMTPLast,omitempty"`
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func adEncryption(s detect.Security) string {
	switch s {
	case detect.SecurityTLS:
		return "SSL"
	case detect.SecurityStartTLS:
		return "TLS"
	}
	return "None"
}

func adProto(s detect.Setting, typ string) adProtocol {
	p := adProtocol{
		Type: typ, Server: s.Host, Port: s.Port, DomainRequired: "off", SPA: "off",
		SSL: onOff(s.Security != detect.SecurityNone), Encryption: adEncryption(s.Security),
		AuthRequired: onOff(passwordAuth(s)),
	}
	if passwordAuth(s) {
		p.LoginName = s.Username
	}
	return p
}

func writeAutodiscover(a Account, w io.Writer) error {
	in := adProto(a.Incoming, strings.ToUpper(string(a.Incoming.Protocol)))
	out := adProto(a.Outgoing, "SMTP")
	out.UsePOPAuth = onOff(passwordAuth(a.Outgoing) && a.Outgoing.Username == a.Incoming.Username)
	out.SMTPLast = onOff(a.Outgoing.Auth == "pop-before-smtp")
	doc := autodiscover{Response: adResponse{Account: adAccount{AccountType: "email", Action: "settings", Protocol: []adProtocol{in, out}}}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("export outlook: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// writeReg writes a .reg file that makes Outlook 2016 and later (16.0, also Microsoft 365
// apps) read the Autodiscover XML from a local file for the domain. CRLF line endings,
// as regedit expects.
func writeReg(a Account, opts Options, w io.Writer) error {
	path := opts.OutlookXMLPath
	if path == "" {
		path = `C:\MailSetup\` + a.Domain + `.xml`
	}
	esc := strings.ReplaceAll(path, `\`, `\\`)
	lines := []string{
		"Windows Registry Editor Version 5.00",
		"",
		"; Mail Setup Assistant: let Outlook set up " + a.Address + " from a local file.",
		"; 1. Save the Outlook export (autodiscover XML) as " + path,
		"; 2. Double-click this file and confirm; then in Outlook: File > Add Account,",
		";    type " + a.Address + " and Connect. Outlook reads the file instead of asking the web.",
		"; Remove the two values again afterwards if you like; the account stays.",
		`[HKEY_CURRENT_USER\Software\Microsoft\Office\16.0\Outlook\AutoDiscover]`,
		fmt.Sprintf(`"%s"="%s"`, a.Domain, esc),
		`"PreferLocalXML"=dword:00000001`,
		"",
	}
	_, err := io.WriteString(w, strings.Join(lines, "\r\n"))
	return err
}
