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

func adProto(s detect.Setting, typ string, ch loginChoice) adProtocol {
	p := adProtocol{
		Type: typ, Server: s.Host, Port: s.Port, DomainRequired: "off", SPA: onOff(ch.Row.Outlook.SPA),
		SSL: onOff(s.Security != detect.SecurityNone), Encryption: adEncryption(s.Security),
		AuthRequired: onOff(ch.Row.Outlook.AuthRequired),
	}
	if ch.Row.Outlook.AuthRequired {
		p.LoginName = s.Username
	}
	return p
}

// outlookWarnings are the table's notes plus what Outlook users must do by hand.
func outlookWarnings(a Account, in, out loginChoice) []string {
	w := loginNotes(in, out)
	for _, s := range []string{clearTextWarning("incoming", a.Incoming, in), clearTextWarning("outgoing", a.Outgoing, out)} {
		if s != "" {
			w = append(w, s)
		}
	}
	return w
}

func writeAutodiscover(a Account, w io.Writer) ([]string, error) {
	in, out, err := bothLogins(clientOutlook, "outlook", a)
	if err != nil {
		return nil, err
	}
	inP := adProto(a.Incoming, strings.ToUpper(string(a.Incoming.Protocol)), in)
	outP := adProto(a.Outgoing, "SMTP", out)
	outP.UsePOPAuth = onOff(out.Row.Outlook.AuthRequired && a.Outgoing.Username == a.Incoming.Username)
	outP.SMTPLast = onOff(a.Outgoing.Auth == detect.AuthPOPBeforeSMTP)
	doc := autodiscover{Response: adResponse{Account: adAccount{AccountType: "email", Action: "settings", Protocol: []adProtocol{inP, outP}}}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return nil, err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("export outlook: %w", err)
	}
	_, err = io.WriteString(w, "\n")
	return outlookWarnings(a, in, out), err
}

// regString quotes a .reg string value: backslash and double quote are escaped.
func regString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// writeReg writes a .reg file for classic Outlook 2016 and later (16.0: 2016, 2019,
// 2021, 2024, Microsoft 365 apps). It points Outlook's Autodiscover at the local XML
// (PreferLocalXML, a value named by the domain), skips the Microsoft 365 endpoint that
// Outlook asks first (ExcludeExplicitO365Endpoint), and switches off simplified account
// creation (DisableOffice365SimplifiedAccountCreation, Microsoft KB 3189194), whose
// dialog is widely reported to ignore local XML for IMAP/POP accounts. CRLF line
// endings, as regedit expects.
func writeReg(a Account, opts Options, w io.Writer) ([]string, error) {
	in, out, err := bothLogins(clientOutlook, "outlook-reg", a)
	if err != nil {
		return nil, err
	}
	path := opts.OutlookXMLPath
	if path == "" {
		path = `C:\MailSetup\` + a.Domain + `.xml`
	}
	if err := checkText("Outlook XML path", path); err != nil {
		return nil, err
	}
	lines := []string{
		"Windows Registry Editor Version 5.00",
		"",
		"; Mail Setup Assistant: let classic Outlook (2016, 2019, 2021, 2024, Microsoft 365) set up",
		"; " + a.Address + " from a local Autodiscover file.",
		"; 1. Save the Outlook Autodiscover export as " + path,
		"; 2. Double-click this file and confirm.",
		"; 3. Outlook > File > Add Account, type " + a.Address + ", then Connect: the classic",
		";    dialog reads the local file. The new Outlook for Windows reads none of this:",
		";    use the 'New Outlook sheet' instead; the Outlook profile (.prf) is the surer route",
		";    for classic Outlook.",
		"; Afterwards you may delete the values again; the account stays.",
		`[HKEY_CURRENT_USER\Software\Microsoft\Office\16.0\Outlook\AutoDiscover]`,
		regString(a.Domain) + "=" + regString(path),
		`"PreferLocalXML"=dword:00000001`,
		`"ExcludeExplicitO365Endpoint"=dword:00000001`,
		"",
		`[HKEY_CURRENT_USER\Software\Microsoft\Office\16.0\Outlook\Setup]`,
		`"DisableOffice365SimplifiedAccountCreation"=dword:00000001`,
		"",
	}
	_, err = io.WriteString(w, strings.Join(lines, "\r\n"))
	return outlookWarnings(a, in, out), err
}
