package export

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/i18n"
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
	"upper": func(p detect.Protocol) string { return strings.ToUpper(string(p)) },
	"style": func() template.HTML { return sheetStyle },
}).Parse(`<!DOCTYPE html>
<html lang="{{.L.Code}}">
<head>
<meta charset="utf-8">
<title>{{.L.T "text.title" "address" .A.Address}}</title>
{{style}}
</head>
<body>
{{if .Logo}}<p><img src="{{.Logo}}" alt="{{.A.Organization}}" style="max-height: 4em; max-width: 16em"></p>
{{end}}<h1>{{.L.T "text.title" "address" .A.Address}}</h1>
<p class="small">{{if .A.Provider}}{{.L.T "sheet.provider" "provider" .A.Provider.Name}} {{end}}{{.Verified}}</p>
<table>
<tr><th></th><th>{{.L.T "sheet.incoming" "protocol" (upper .A.Incoming.Protocol)}}</th><th>{{.L.T "sheet.outgoing"}}</th></tr>
<tr><th>{{.L.T "field.server"}}</th><td>{{.A.Incoming.Host}}</td><td>{{.A.Outgoing.Host}}</td></tr>
<tr><th>{{.L.T "field.port"}}</th><td>{{.A.Incoming.Port}}</td><td>{{.A.Outgoing.Port}}</td></tr>
<tr><th>{{.L.T "field.security"}}</th><td>{{.L.Security .A.Incoming.Security}}</td><td>{{.L.Security .A.Outgoing.Security}}</td></tr>
<tr><th>{{.L.T "field.username"}}</th><td>{{.A.Incoming.Username}}</td><td>{{.A.Outgoing.Username}}</td></tr>
<tr><th>{{.L.T "field.login"}}</th><td>{{.InAuth}}</td><td>{{.OutAuth}}</td></tr>
<tr><th>{{.L.T "sheet.proven"}}</th><td>{{if .A.Incoming.Verified}}<span class="ok">{{.L.T "sheet.proven_yes"}}</span>{{else}}<span class="warn">{{.L.T "sheet.not_tested"}}</span>{{end}}</td><td>{{if .A.Outgoing.Verified}}<span class="ok">{{.L.T "sheet.proven_yes"}}</span>{{else}}<span class="warn">{{.L.T "sheet.not_tested"}}</span>{{end}}</td></tr>
</table>
<p>{{.Password}}</p>
{{if .Port25}}<p class="warn">{{.Port25}}</p>{{end}}
{{if .Notes}}<h2>{{.L.T "result.good_to_know"}}</h2>
<ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Branding}}<p class="small">{{.Branding}}</p>
{{end}}</body>
</html>
`))

// brandingLine says who prepared the settings and how to reach them, as one sentence
// with a leading space ("" without branding).
func brandingLine(a Account, l *i18n.Lang) string {
	var who []string
	for _, s := range []string{a.PreparedBy, a.Organization} {
		if s != "" {
			who = append(who, s)
		}
	}
	var out string
	if a.PreparedBy != "" {
		out = " " + l.T("sheet.prepared_by", "who", strings.Join(who, ", "))
	}
	if a.Contact != "" {
		out += " " + l.T("sheet.contact", "contact", strings.TrimSuffix(a.Contact, "."))
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

// sheetLang is the translator of an account's sheet and text.
func sheetLang(a Account) *i18n.Lang { return i18n.New(a.Language) }

// loginWordKeys key the login table's plain words (loginRow.Words) in the catalogs, so
// the sheet and the text name the login method in their language.
var loginWordKeys = map[string]string{
	"normal password (the connection is encrypted)":    "login.normal_encrypted",
	"SCRAM (password never sent)":                      "login.scram",
	"encrypted password (CRAM-MD5)":                    "login.cram_md5",
	"encrypted password (APOP)":                        "login.apop",
	"normal password":                                  "login.normal",
	"NTLM (Windows login)":                             "login.ntlm",
	"Kerberos (GSSAPI)":                                "login.kerberos",
	"OAuth2 (sign in in the browser)":                  "login.oauth2",
	"no login (this network is trusted by the server)": "login.none",
	"check mail first (POP before SMTP)":               "login.pop_before_smtp",
	"normal password (method not tested)":              "login.not_tested",
}

// authText names a setting's login method in l's language.
func authText(l *i18n.Lang, s detect.Setting) string {
	if r := findRow(s.Protocol, s.Auth, s.Security); r != nil {
		if key, ok := loginWordKeys[r.Words]; ok {
			return l.T(key)
		}
		return r.Words
	}
	return l.T("login.unusable", "auth", s.Auth)
}

func writeSheet(a Account, w io.Writer) error {
	l := sheetLang(a)
	data := struct {
		A               Account
		L               *i18n.Lang
		Notes           []string
		Port25          string
		Verified        string
		Password        template.HTML
		InAuth, OutAuth string
		Logo            template.URL
		Branding        string
	}{A: a, L: l, Notes: noteLines(a, l), InAuth: authText(l, a.Incoming), OutAuth: authText(l, a.Outgoing),
		Logo: logoURI(a), Branding: strings.TrimSpace(brandingLine(a, l))}
	switch {
	case a.VerifiedAt != "" && a.Organization != "":
		data.Verified = l.T("sheet.verified_at_for", "when", a.VerifiedAt, "org", a.Organization)
	case a.VerifiedAt != "":
		data.Verified = l.T("sheet.verified_at", "when", a.VerifiedAt)
	case a.Organization != "":
		data.Verified = l.T("sheet.verified_for", "org", a.Organization)
	default:
		data.Verified = l.T("sheet.verified")
	}
	// The catalog's sentence marks "app password" with <strong>; everything else in it is
	// escaped text.
	if a.Provider != nil && a.Provider.Notes.AppPassword {
		data.Password = template.HTML(strongOnly(l.T("sheet.password_app")))
	} else {
		data.Password = template.HTML(template.HTMLEscapeString(l.T("sheet.password")))
	}
	switch a.Port25 {
	case detect.Port25Blocked:
		data.Port25 = l.T("sheet.port25_blocked")
	case detect.Port25Intercepted:
		data.Port25 = l.T("sheet.port25_intercepted")
	}
	if err := sheetTmpl.Execute(w, data); err != nil {
		return fmt.Errorf("export sheet: %w", err)
	}
	return nil
}

// strongOnly escapes s as HTML text, keeping its <strong> and </strong> tags.
func strongOnly(s string) string {
	s = template.HTMLEscapeString(s)
	return strings.NewReplacer("&lt;strong&gt;", "<strong>", "&lt;/strong&gt;", "</strong>").Replace(s)
}

func writeText(a Account, w io.Writer) error {
	l := sheetLang(a)
	var b strings.Builder
	b.WriteString(l.T("text.title", "address", a.Address) + "\n")
	labels := []string{l.T("field.server"), l.T("field.port"), l.T("field.security"), l.T("field.username"), l.T("field.login"), l.T("text.status")}
	width := 0
	for i, x := range labels {
		labels[i] = l.T("text.label", "label", x) // "Server:" — French writes "Serveur :"
		width = max(width, utf8.RuneCountInString(labels[i]))
	}
	for _, x := range []struct {
		label string
		s     detect.Setting
	}{{l.T("sheet.incoming", "protocol", strings.ToUpper(string(a.Incoming.Protocol))), a.Incoming}, {l.T("sheet.outgoing"), a.Outgoing}} {
		proven := l.T("text.not_tested")
		if x.s.Verified {
			proven = l.T("text.proven")
		}
		b.WriteString("\n" + x.label + "\n")
		for i, v := range []string{x.s.Host, strconv.Itoa(x.s.Port), l.Security(x.s.Security), x.s.Username, authText(l, x.s), proven} {
			b.WriteString("  " + labels[i] + strings.Repeat(" ", width+1-utf8.RuneCountInString(labels[i])) + v + "\n")
		}
	}
	if notes := noteLines(a, l); len(notes) > 0 {
		b.WriteString("\n" + l.T("text.good_to_know") + "\n")
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
	}{a.Address, fields, samePassword(a), append(append([]string{}, warnings...), noteLines(a, i18n.New(i18n.English))...)}
	if err := newOutlookTmpl.Execute(w, data); err != nil {
		return nil, fmt.Errorf("export outlook-new: %w", err)
	}
	return warnings, nil
}
