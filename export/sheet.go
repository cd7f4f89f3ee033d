package export

import (
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/mailsetup/mailsetup/detect"
)

var sheetTmpl = template.Must(template.New("sheet").Funcs(template.FuncMap{
	"sec":   securityWords,
	"upper": func(p detect.Protocol) string { return strings.ToUpper(string(p)) },
	"auth":  authWords,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Mail settings for {{.A.Address}}</title>
<style>
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 2em; color: #1b1b1b; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
table { border-collapse: collapse; margin: 1em 0; min-width: 60%; }
th, td { border: 1px solid #bbb; padding: 0.4em 0.8em; text-align: left; }
th { background: #eef3fb; }
.ok { color: #186a3b; font-weight: bold; }
.warn { color: #8a4b00; }
.small { color: #555; font-size: 0.9em; }
@media print { body { margin: 1cm; } }
</style>
</head>
<body>
<h1>Mail settings for {{.A.Address}}</h1>
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
</body>
</html>
`))

// authWords names the login method the way mail programs' menus do.
func authWords(s detect.Setting) string {
	switch {
	case s.Auth == "pop-before-smtp":
		return "check mail first (POP before SMTP)"
	case !passwordAuth(s):
		return "no login"
	case encryptedAuth(s):
		return "encrypted password (" + s.Auth + ")"
	}
	return "normal password"
}

func writeSheet(a Account, w io.Writer) error {
	data := struct {
		A           Account
		Notes       []string
		Port25      string
		AppPassword bool
	}{A: a, Notes: noteLines(a), AppPassword: a.Provider != nil && a.Provider.Notes.AppPassword}
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
