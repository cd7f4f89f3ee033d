// Package outlook reads the IMAP and POP3 accounts of Outlook classic (2016, 2019, 2021
// and Microsoft 365, registry version 16.0) from the registry on Windows or from a .reg
// export of it on any system, and from Outlook PRF profile files. Passwords are never
// read.
//
// Layout (confirmed by public tools that read it, e.g. RegRipper's outlook2 plugin and
// account scripts): HKCU\Software\Microsoft\Office\16.0\Outlook\Profiles\<profile>\
// 9375CFF0413111d3B88A00104B2A6676\<8 hex digits> is one account; "Account Name",
// "Email", "Display Name", "<P> Server" and "<P> User" (P = IMAP, POP3, SMTP) are
// REG_BINARY UTF-16LE strings (REG_SZ is read too); "<P> Port" is a REG_DWORD, present
// only when not the default. Assumed from account tools and Outlook's dialogs, not from
// Microsoft documentation: "<P> Use SSL" (DWORD, 1 = SSL/TLS), "SMTP Secure Connection"
// and "<P> Secure Connection" (DWORD: 0 none, 1 SSL/TLS, 2 STARTTLS ("TLS" in Outlook),
// 3 Auto), "SMTP Use Auth" (DWORD, 1 = the outgoing server needs a login) and
// "<P> Use SPA" (DWORD, 1 = NTLM). Missing ports default to 143/993, 110/995, 25/465.
package outlook

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/detect"
)

// ErrNoRegistry says this system has no Windows registry; open a .reg export instead.
var ErrNoRegistry = errors.New("outlook: the Windows registry exists only on Windows; open a .reg export of it instead")

// AccountsKeyGUID is the profile subkey that holds one subkey per mail account.
const AccountsKeyGUID = "9375CFF0413111d3B88A00104B2A6676"

// ProfilesPath is the registry path (under HKEY_CURRENT_USER) of Outlook 16.0's profiles.
const ProfilesPath = `Software\Microsoft\Office\16.0\Outlook\Profiles`

var accountKeyRe = regexp.MustCompile(`(?i)\\Outlook\\Profiles\\([^\\]+)\\` + AccountsKeyGUID + `\\([0-9a-f]{8})$`)

// Accounts returns the IMAP and POP3 accounts among keys (all other keys are ignored),
// sorted by profile and account number. source names where the keys came from (a
// .reg file) and prefixes each Origin's File.
func Accounts(keys []Key, source string) ([]clients.Account, []string) {
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].Path < keys[j].Path })
	var out []clients.Account
	var problems []string
	for _, k := range keys {
		m := accountKeyRe.FindStringSubmatch(k.Path)
		if m == nil {
			continue
		}
		a, ok, err := account(k, source)
		if err != nil {
			problems = append(problems, fmt.Sprintf("profile %s account %s: %v", m[1], m[2], err))
			continue
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, problems
}

type values struct{ k Key }

func (v values) str(names ...string) (string, string) {
	for _, n := range names {
		if val, ok := v.k.Values[n]; ok {
			if s, ok := val.String(); ok {
				return strings.TrimSpace(s), n
			}
		}
	}
	return "", ""
}

func (v values) num(names ...string) (uint64, string, bool) {
	for _, n := range names {
		if val, ok := v.k.Values[n]; ok {
			if u, ok := val.Uint(); ok {
				return u, n, true
			}
		}
	}
	return 0, "", false
}

// account builds one account from an account key; ok is false for keys that are not
// IMAP or POP3 accounts (Exchange, PST, address books).
func account(k Key, source string) (clients.Account, bool, error) {
	v := values{k: k}
	var proto detect.Protocol
	var p string
	switch {
	case hasString(k, "IMAP Server"):
		proto, p = detect.IMAP, "IMAP"
	case hasString(k, "POP3 Server"):
		proto, p = detect.POP3, "POP3"
	default:
		return clients.Account{}, false, nil
	}
	file := k.Path
	if source != "" {
		file = source + ": " + k.Path
	}
	a := clients.Account{Client: clients.Outlook}
	a.Name, _ = v.str("Account Name")
	a.Address, _ = v.str("Email", "SMTP Email Address")
	in, inKeys, note := setting(v, proto, p)
	a.Incoming = &in
	a.InOrigin = clients.Origin{File: file, Keys: inKeys}
	if note != "" {
		a.Notes = append(a.Notes, note)
	}
	if host, _ := v.str("SMTP Server"); host != "" {
		out, outKeys, note := setting(v, detect.SMTP, "SMTP")
		if auth, _, ok := v.num("SMTP Use Auth"); ok && auth == 0 {
			out.Auth, out.Username = "none", ""
		} else if out.Username == "" {
			out.Username = in.Username // "use same settings as my incoming mail server"
		}
		a.Outgoing = &out
		a.OutOrigin = clients.Origin{File: file, Keys: outKeys}
		if note != "" {
			a.Notes = append(a.Notes, note)
		}
	}
	if err := clients.ValidateAccount(&a); err != nil {
		return clients.Account{}, false, err
	}
	return a, true, nil
}

func hasString(k Key, name string) bool {
	v, ok := k.Values[name]
	if !ok {
		return false
	}
	s, ok := v.String()
	return ok && strings.TrimSpace(s) != ""
}

// setting reads one server's values with the P prefix (IMAP, POP3, SMTP).
func setting(v values, proto detect.Protocol, p string) (detect.Setting, map[clients.Field]string, string) {
	keys := map[clients.Field]string{}
	s := detect.Setting{Protocol: proto, Auth: "password-cleartext"}
	s.Host, keys[clients.FieldHost] = v.str(p + " Server")
	s.Username, keys[clients.FieldUsername] = v.str(p+" User", p+" User Name")
	sec, secKey, note := security(v, p)
	s.Security = sec
	if secKey != "" {
		keys[clients.FieldSecurity] = secKey
	}
	if port, name, ok := v.num(p + " Port"); ok && port > 0 && port < 65536 {
		s.Port = int(port)
		keys[clients.FieldPort] = name
	} else {
		s.Port = defaultPort(proto, sec)
	}
	if note == "auto" {
		// Outlook negotiates "Auto"; judge by the port what it ends up using.
		s.Security = detect.SecurityStartTLS
		if s.Port == 465 || s.Port == 993 || s.Port == 995 {
			s.Security = detect.SecurityTLS
		}
		note = fmt.Sprintf("Outlook's encryption for %s is \"Auto\"; taken as %s for port %d.", p, detect.SecurityWords(s.Security), s.Port)
	}
	if spa, name, ok := v.num(p + " Use SPA"); ok && spa == 1 {
		s.Auth = "NTLM"
		keys[clients.FieldAuth] = name
	}
	return s, keys, note
}

// security reads "<P> Secure Connection" or, failing that, "<P> Use SSL".
func security(v values, p string) (detect.Security, string, string) {
	if n, name, ok := v.num(p + " Secure Connection"); ok {
		switch n {
		case 1:
			return detect.SecurityTLS, name, ""
		case 2:
			return detect.SecurityStartTLS, name, ""
		case 3:
			return detect.SecurityStartTLS, name, "auto"
		default:
			return detect.SecurityNone, name, ""
		}
	}
	if n, name, ok := v.num(p + " Use SSL"); ok {
		switch n {
		case 0:
			return detect.SecurityNone, name, ""
		case 2:
			return detect.SecurityStartTLS, name, ""
		case 3:
			return detect.SecurityStartTLS, name, "auto"
		default:
			return detect.SecurityTLS, name, ""
		}
	}
	return detect.SecurityNone, "", ""
}

// defaultPort is Outlook's port when none is stored: 25 for SMTP (465 with SSL).
func defaultPort(p detect.Protocol, sec detect.Security) int {
	if p == detect.SMTP && sec != detect.SecurityTLS {
		return 25
	}
	return clients.DefaultPort(p, sec)
}

// isSecretValue reports whether a registry value holds a password (never read).
func isSecretValue(name string) bool {
	return strings.Contains(strings.ToLower(name), "password")
}
