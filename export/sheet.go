package export

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/mailsetup/mailsetup/detect"
)

const sheetStyle = `<style>
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 2em; color: #1b1b1b; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
table { border-collapse: collapse; margin: 1em 0; min-width: 60%; }
th, td { border: 1px solid #bbb; padding: 0.4em 0.8em; text-align: left; }
th { background: #eef3fb; }
.ok { color: #186a3b; font-weight: bold; }
.warn { color: #8a4b00; }
.small { color: #555; font-size: 0.9em; }
@media print { body { margin: 1cm; } }
</style>`

var sheetTmpl = template.Must(template.New("sheet").Funcs(template.FuncMap{
	"sec":   securityWords,
	"upper": func(p detect.Protocol) string { return strings.ToUpper(string(p)) },
	"auth":  authWords,
	"style": func() template.HTML { return sheetStyle },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Mail settings for {{.A.Address}}</title>
{{style}}
</head>
<body>
{{if .Logo}}<p><img src="{{.Logo}}" alt="{{.A.Organization}}" style="max-height: 4em; max-width: 16em"></p>
{{end}}<h1>Mail settings for {{.A.Address}}</h1>
<p class="small">{{if .A.Provider}}Provider: {{.A.Provider.Name}}. {{end}}{{if .A.VerifiedAt}}Verified {{.A.VerifiedAt}}{{else}}Verified{{end}} by Mail Setup Assistant{{if .A.Organization}} for {{.A.Organization}}{{end}}.</p>
<table>
<tr><th></th><th>Incoming ({{upper .A.Incoming.Protocol}})</th><th>Outgoing (SMTP)</th></tr>
<tr><th>Server</th><td>{{.A.Incoming.Host}}</td><td>{{.A.Outgoing.Host}}</td></tr>
<tr><th>Port</th><td>{{.A.Incoming.Port}}</td><td>{{.A.Outgoing.Port}}</td></tr>
<tr><th>Security</th><td>{{sec .A.Incoming.Security}}</td><td>{{sec .A.Outgoing.Security}}</td></tr>
<tr><th>User name</th><td>{{.A.Incoming.Username}}</td><td>{{.A.Outgoing.Username}}</td></tr>
<tr><th>Login</th><td>{{auth .A.Incoming}}</td><td>{{auth .A.Outgoing}}</td></tr>
<tr><th>Proven</th><td>{{if .A.Incoming.Verified}}<span class="ok">yes, by a real login</span>{{else}}<span class="warn">not tested</span>{{end}}</td><td>{{if .A.Outgoing.Verified}}<span class="ok">yes, by a real login</span>{{else}}<span class="warn">not tested</span>{{end}}</td></tr>
</table>
<p>Password: the one you chose for this mailbox{{if .AppPassword}} — or an <strong>app password</strong>, which this provider requires when two-step verification is on{{end}}. It is not written on this sheet.</p>
{{if .Port25}}<p class="warn">{{.Port25}}</p>{{end}}
{{if .Notes}}<h2>Good to know</h2>
<ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Branding}}<p class="small">{{.Branding}}</p>
{{end}}</body>
</html>
`))

// brandingLine says who prepared the settings and how to reach them, as one sentence
// with a leading space ("" without branding).
func brandingLine(a Account) string {
	var who []string
	for _, s := range []string{a.PreparedBy, a.Organization} {
		if s != "" {
			who = append(who, s)
		}
	}
	var out string
	if a.PreparedBy != "" {
		out = " Prepared by " + strings.Join(who, ", ") + "."
	}
	if a.Contact != "" {
		out += " Contact: " + a.Contact
		if !strings.HasSuffix(a.Contact, ".") {
			out += "."
		}
	}
	return out
}

// logoURI embeds the account's logo as a data: URI, "" without one.
func logoURI(a Account) template.URL {
	t, err := LogoType(a.Logo)
	if len(a.Logo) == 0 || err != nil {
		return ""
	}
	return template.URL("data:" + t + ";base64," + base64.StdEncoding.EncodeToString(a.Logo))
}

func writeSheet(a Account, w io.Writer) error {
	data := struct {
		A           Account
		Notes       []string
		Port25      string
		AppPassword bool
		Logo        template.URL
		Branding    string
	}{A: a, Notes: noteLines(a), AppPassword: a.Provider != nil && a.Provider.Notes.AppPassword,
		Logo: logoURI(a), Branding: strings.TrimSpace(brandingLine(a))}
	switch a.Port25 {
	case detect.Port25Blocked:
		data.Port25 = "The network this was verified from blocks outgoing port 25; these settings do not need it."
	case detect.Port25Intercepted:
		data.Port25 = "The network this was verified from intercepts port 25; these settings avoid it."
	}
	if err := sheetTmpl.Execute(w, data); err != nil {
		return fmt.Errorf("export sheet: %w", err)
	}
	return nil
}

func writeText(a Account, w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Mail settings for %s\n", a.Address)
	for _, x := range []struct {
		label string
		s     detect.Setting
	}{{"Incoming (" + strings.ToUpper(string(a.Incoming.Protocol)) + ")", a.Incoming}, {"Outgoing (SMTP)", a.Outgoing}} {
		proven := "not tested"
		if x.s.Verified {
			proven = "proven by a real login"
		}
		fmt.Fprintf(&b, "\n%s\n  Server:    %s\n  Port:      %d\n  Security:  %s\n  User name: %s\n  Login:     %s\n  Status:    %s\n",
			x.label, x.s.Host, x.s.Port, securityWords(x.s.Security), x.s.Username, authWords(x.s), proven)
	}
	if notes := noteLines(a); len(notes) > 0 {
		b.WriteString("\nGood to know:\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// newOutlookField is one field of the new Outlook's account dialog, in the order it asks.
type newOutlookField struct {
	Step, Field, Value string
}

// newOutlookSecurity is the new Outlook's "Secure connection type" choice.
func newOutlookSecurity(s detect.Security) string {
	switch s {
	case detect.SecurityTLS:
		return "SSL/TLS"
	case detect.SecurityStartTLS:
		return "StartTLS"
	}
	return "None"
}

var newOutlookTmpl = template.Must(template.New("new-outlook").Funcs(template.FuncMap{
	"style": func() template.HTML { return sheetStyle },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>New Outlook for Windows: {{.Address}}</title>
{{style}}
</head>
<body>
<h1>Set up {{.Address}} in the new Outlook for Windows</h1>
<p class="small">The new Outlook reads no registry values and no profile files, so it is set up by hand: Settings (gear) &gt; Accounts &gt; Email accounts &gt; Add account. Fill in the fields in the order the dialog asks for them.</p>
<table>
<tr><th>Step</th><th>Field</th><th>Type or choose</th></tr>
{{range .Fields}}<tr><td>{{.Step}}</td><td>{{.Field}}</td><td><strong>{{.Value}}</strong></td></tr>
{{end}}</table>
<p>Passwords are not written on this sheet.{{if .OnePassword}} The same password works for both servers.{{end}}</p>
{{if .Notes}}<h2>Good to know</h2>
<ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body>
</html>
`))

// writeNewOutlook writes the settings sheet for the new Outlook for Windows, whose
// "Add account" dialog takes the address, then the account type, then (under "Show
// more") the incoming and outgoing server fields.
func writeNewOutlook(a Account, w io.Writer) ([]string, error) {
	in, out, err := bothLogins(clientOutlook, "outlook-new", a)
	if err != nil {
		return nil, err
	}
	for _, x := range []struct {
		s  detect.Setting
		ch loginChoice
	}{{a.Incoming, in}, {a.Outgoing, out}} {
		if x.ch.Row.Outlook.SPA {
			return nil, &UnsupportedError{Format: "outlook-new", Client: "the new Outlook", Protocol: x.s.Protocol, Mechanism: x.s.Auth, Security: x.s.Security,
				Reason: "its account dialog has no Secure Password Authentication (NTLM) option; use classic Outlook"}
		}
	}
	proto := strings.ToUpper(string(a.Incoming.Protocol))
	if a.Incoming.Protocol == detect.POP3 {
		proto = "POP"
	}
	pw := "(your password)"
	if samePassword(a) {
		pw = "(the same password)"
	}
	fields := []newOutlookField{
		{"1", "Email address", a.Address},
		{"1", "", "Continue"},
		{"2", "Account type", proto},
		{"3", "Email address", a.Address},
		{"3", "Display name", a.DisplayName},
		{"3", proto + " password", "(your password)"},
		{"3", "", "Show more"},
		{"4", proto + " incoming server", a.Incoming.Host},
		{"4", "Port", fmt.Sprint(a.Incoming.Port)},
		{"4", "Secure connection type", newOutlookSecurity(a.Incoming.Security)},
		{"4", proto + " username", a.Incoming.Username},
	}
	if out.Row.Outlook.AuthRequired {
		fields = append(fields,
			newOutlookField{"5", "SMTP username", a.Outgoing.Username},
			newOutlookField{"5", "SMTP password", pw})
	} else {
		fields = append(fields,
			newOutlookField{"5", "SMTP username", "(leave empty)"},
			newOutlookField{"5", "SMTP password", "(leave empty)"})
	}
	fields = append(fields,
		newOutlookField{"5", "SMTP outgoing server", a.Outgoing.Host},
		newOutlookField{"5", "Port", fmt.Sprint(a.Outgoing.Port)},
		newOutlookField{"5", "Secure connection type", newOutlookSecurity(a.Outgoing.Security)},
		newOutlookField{"6", "", "Continue"})
	warnings := outlookWarnings(a, in, out)
	if a.Outgoing.Auth == detect.AuthPOPBeforeSMTP {
		warnings = append(warnings, "This server lets you send only shortly after checking mail (POP before SMTP): select Sync or Send/Receive before sending.")
	}
	data := struct {
		Address     string
		Fields      []newOutlookField
		OnePassword bool
		Notes       []string
	}{a.Address, fields, samePassword(a), append(append([]string{}, warnings...), noteLines(a)...)}
	if err := newOutlookTmpl.Execute(w, data); err != nil {
		return nil, fmt.Errorf("export outlook-new: %w", err)
	}
	return warnings, nil
}
