// Package thunderbird reads Thunderbird's mail accounts from its profiles (profiles.ini,
// prefs.js and user.js; the regular, snap and flatpak folders on Linux and the Windows
// and macOS ones), never its passwords (logins.json is not opened), and fixes a
// server's settings in place by writing only the changed prefs into user.js while
// Thunderbird is not running, with a backup to undo it.
package thunderbird

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/detect"
)

// Thunderbird's socketType values (nsMsgSocketType in MailNewsTypes2.idl): 0 plain,
// 2 alwaysSTARTTLS, 3 SSL. 1 (trySTARTTLS) is gone; Thunderbird migrates it to 2.
const (
	socketPlain    = 0
	socketTrySTART = 1
	socketSTARTTLS = 2
	socketSSL      = 3
)

// Thunderbird's authMethod values (nsMsgAuthMethod in MailNewsTypes2.idl).
const (
	authNone       = 1
	authOld        = 2
	authCleartext  = 3
	authEncrypted  = 4
	authGSSAPI     = 5
	authNTLM       = 6
	authExternal   = 7
	authSecure     = 8
	authAnything   = 9
	authOAuth2     = 10
	defaultAuthPWD = authCleartext // mail.server.default.authMethod and SmtpServer's default
)

// SecurityOf maps a socketType number to the engine's security word.
func SecurityOf(socketType int) (detect.Security, bool) {
	switch socketType {
	case socketPlain:
		return detect.SecurityNone, true
	case socketTrySTART, socketSTARTTLS:
		return detect.SecurityStartTLS, true
	case socketSSL:
		return detect.SecurityTLS, true
	}
	return "", false
}

// SocketType maps the engine's security word to Thunderbird's socketType number.
func SocketType(s detect.Security) int {
	switch s {
	case detect.SecurityTLS:
		return socketSSL
	case detect.SecurityStartTLS:
		return socketSTARTTLS
	}
	return socketPlain
}

// AuthWord maps an authMethod number to the word a Setting carries: "none",
// "password-cleartext", "password-encrypted", "GSSAPI", "NTLM", "TLS-certificate",
// "OAuth2" or "any" (let the program pick).
func AuthWord(m int) string {
	switch m {
	case authNone:
		return "none"
	case authOld, authCleartext:
		return "password-cleartext"
	case authEncrypted:
		return "password-encrypted"
	case authGSSAPI:
		return "GSSAPI"
	case authNTLM:
		return "NTLM"
	case authExternal:
		return "TLS-certificate"
	case authSecure:
		return "password-encrypted"
	case authOAuth2:
		return "OAuth2"
	}
	return "any"
}

// AuthMethod maps a Setting's auth word (or an engine mechanism name) to Thunderbird's
// authMethod number.
func AuthMethod(word string) int {
	switch strings.ToUpper(word) {
	case "NONE":
		return authNone
	case "PASSWORD-ENCRYPTED", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "APOP":
		return authEncrypted
	case "GSSAPI":
		return authGSSAPI
	case "NTLM":
		return authNTLM
	case "TLS-CERTIFICATE", "EXTERNAL":
		return authExternal
	case "OAUTH2", "XOAUTH2", "OAUTHBEARER":
		return authOAuth2
	case "ANY":
		return authAnything
	}
	return authCleartext
}

// Accounts turns a profile's merged prefs into its mail accounts: every account with
// an IMAP or POP3 server, once per identity, with the identity's outgoing server
// (or the default one). An SMTP server shared by two identities is one server and two
// accounts. file names where the prefs came from, for each Origin.
func Accounts(p Prefs, file string) ([]clients.Account, []string) {
	var out []clients.Account
	var problems []string
	smtp := smtpServers(p, file)
	for _, key := range accountKeys(p) {
		serverKey := p.Str("mail.account." + key + ".server")
		if serverKey == "" {
			continue
		}
		in, inOrigin, name, note, err := incoming(p, serverKey, file)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s (%s): %v", key, serverKey, err))
			continue
		}
		if in == nil {
			continue // Local Folders, news, feeds
		}
		ids := list(p.Str("mail.account." + key + ".identities"))
		if len(ids) == 0 {
			ids = []string{""}
		}
		for _, id := range ids {
			a := clients.Account{Client: clients.Thunderbird, Name: name, InOrigin: inOrigin}
			inCopy := *in
			a.Incoming = &inCopy
			if note != "" {
				a.Notes = append(a.Notes, note)
			}
			smtpKey := ""
			if id != "" {
				a.Address = p.Str("mail.identity." + id + ".useremail")
				smtpKey = p.Str("mail.identity." + id + ".smtpServer")
			}
			if smtpKey == "" {
				smtpKey = p.Str("mail.smtp.defaultserver")
				if smtpKey == "" && len(smtp.order) > 0 {
					smtpKey = smtp.order[0]
				}
			}
			if s, ok := smtp.byKey[smtpKey]; ok {
				if s.err != nil {
					problems = append(problems, fmt.Sprintf("outgoing server %s: %v", smtpKey, s.err))
				} else {
					out1 := s.setting
					a.Outgoing = &out1
					a.OutOrigin = s.origin
					a.Notes = append(a.Notes, s.notes...)
				}
			}
			if err := clients.ValidateAccount(&a); err != nil {
				problems = append(problems, err.Error())
				continue
			}
			out = append(out, a)
		}
	}
	return out, problems
}

// accountKeys lists mail.accountmanager.accounts; a lone user.js (such as an export,
// which leaves that list commented out) has none, and then every account it defines counts.
func accountKeys(p Prefs) []string {
	if keys := list(p.Str("mail.accountmanager.accounts")); len(keys) > 0 {
		return keys
	}
	var keys []string
	for name := range p {
		if k, ok := strings.CutPrefix(name, "mail.account."); ok && strings.HasSuffix(k, ".server") {
			keys = append(keys, strings.TrimSuffix(k, ".server"))
		}
	}
	sort.Strings(keys)
	return keys
}

func list(s string) []string {
	var out []string
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// incoming reads mail.server.<key>.*; it returns nil for server types that are not
// IMAP or POP3.
func incoming(p Prefs, key, file string) (*detect.Setting, clients.Origin, string, string, error) {
	b := "mail.server." + key + "."
	var proto detect.Protocol
	switch p.Str(b + "type") {
	case "imap":
		proto = detect.IMAP
	case "pop3":
		proto = detect.POP3
	default:
		return nil, clients.Origin{}, "", "", nil
	}
	o := clients.Origin{File: file, Keys: map[clients.Field]string{clients.FieldProtocol: b + "type"}}
	host := p.Str(b + "hostname")
	o.Keys[clients.FieldHost] = b + "hostname"
	port := 0
	if h, ps, ok := strings.Cut(host, ":"); ok && !strings.Contains(ps, ":") {
		// Thunderbird splits "host:port" in hostname into hostname and port.
		host = h
		if n, err := strconv.Atoi(ps); err == nil {
			port = n
		}
	}
	sec, note, err := socket(p, b, "socketType")
	if err != nil {
		return nil, o, "", "", err
	}
	if p.Has(b + "socketType") {
		o.Keys[clients.FieldSecurity] = b + "socketType"
	} else if p.Has(b + "isSecure") {
		o.Keys[clients.FieldSecurity] = b + "isSecure"
	}
	if n := p.IntOr(b+"port", 0); n > 1 {
		port = n
		o.Keys[clients.FieldPort] = b + "port"
	}
	if port == 0 {
		port = clients.DefaultPort(proto, sec)
	}
	auth := p.IntOr(b+"authMethod", p.IntOr("mail.server.default.authMethod", defaultAuthPWD))
	if p.Has(b + "authMethod") {
		o.Keys[clients.FieldAuth] = b + "authMethod"
	}
	user := p.Str(b + "userName")
	o.Keys[clients.FieldUsername] = b + "userName"
	s := &detect.Setting{Protocol: proto, Host: host, Port: port, Security: sec, Auth: AuthWord(auth), Username: user}
	if auth == authOAuth2 && note == "" {
		note = "This account signs in with OAuth2; the check tests the connection and encryption, and the login only with an app password."
	}
	name := p.Str(b + "name")
	if name == "" {
		name = user + " on " + host
	}
	return s, o, name, note, nil
}

// socket reads a socketType pref (with the old isSecure fallback for incoming servers).
func socket(p Prefs, branch, pref string) (detect.Security, string, error) {
	st := socketPlain
	note := ""
	switch {
	case p.Has(branch + pref):
		st = p.IntOr(branch+pref, -1)
	case p.Has(branch+"isSecure") && p[branch+"isSecure"].Bool:
		st = socketSSL
	default:
		st = p.IntOr("mail.server.default.socketType", socketPlain)
	}
	sec, ok := SecurityOf(st)
	if !ok {
		return "", "", fmt.Errorf("%s%s = %d is not a socket type Thunderbird knows", branch, pref, st)
	}
	if st == socketTrySTART {
		note = "Thunderbird's old \"STARTTLS if available\" (1) counts as STARTTLS: Thunderbird itself upgrades it so."
	}
	return sec, note, nil
}

type smtpServer struct {
	setting detect.Setting
	origin  clients.Origin
	notes   []string
	err     error
}

type smtpSet struct {
	byKey map[string]smtpServer
	order []string
}

// smtpServers reads every mail.smtpserver.<key> listed in mail.smtpservers.
func smtpServers(p Prefs, file string) smtpSet {
	set := smtpSet{byKey: map[string]smtpServer{}}
	keys := list(p.Str("mail.smtpservers"))
	if d := p.Str("mail.smtp.defaultserver"); d != "" && !contains(keys, d) {
		keys = append(keys, d)
	}
	// Servers defined but not listed (a lone user.js) are read too, after the listed ones.
	var extra []string
	for name := range p {
		if k, ok := strings.CutPrefix(name, "mail.smtpserver."); ok && strings.HasSuffix(k, ".hostname") {
			if k = strings.TrimSuffix(k, ".hostname"); !contains(keys, k) {
				extra = append(extra, k)
			}
		}
	}
	sort.Strings(extra)
	keys = append(keys, extra...)
	for _, key := range keys {
		b := "mail.smtpserver." + key + "."
		if t := p.Str(b + "type"); t != "" && t != "smtp" {
			continue // an EWS or other non-SMTP outgoing server
		}
		o := clients.Origin{File: file, Keys: map[clients.Field]string{clients.FieldHost: b + "hostname", clients.FieldUsername: b + "username"}}
		sec, note, err := socket(p, b, "try_ssl")
		srv := smtpServer{origin: o}
		if note != "" {
			srv.notes = append(srv.notes, note)
		}
		if err != nil {
			srv.err = err
			set.byKey[key] = srv
			set.order = append(set.order, key)
			continue
		}
		if p.Has(b + "try_ssl") {
			o.Keys[clients.FieldSecurity] = b + "try_ssl"
		}
		port := p.IntOr(b+"port", 0)
		if port > 0 {
			o.Keys[clients.FieldPort] = b + "port"
		} else {
			// SmtpClient: port 0 means 465 with SSL, else 587.
			port = clients.DefaultPort(detect.SMTP, sec)
		}
		auth := p.IntOr(b+"authMethod", p.IntOr("mail.smtpserver.default.authMethod", defaultAuthPWD))
		if p.Has(b + "authMethod") {
			o.Keys[clients.FieldAuth] = b + "authMethod"
		}
		srv.setting = detect.Setting{Protocol: detect.SMTP, Host: p.Str(b + "hostname"), Port: port, Security: sec,
			Auth: AuthWord(auth), Username: p.Str(b + "username")}
		srv.origin = o
		set.byKey[key] = srv
		set.order = append(set.order, key)
	}
	return set
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// maxPrefsFile caps a prefs.js or user.js read (real ones are well under a few MiB).
const maxPrefsFile = 32 << 20

// ReadProfile reads a profile folder's prefs.js and then user.js (whose values win, as
// Thunderbird applies it last) and returns its accounts. Syntax errors that the
// parser recovered from are returned as notes, not failures.
func ReadProfile(dir string) ([]clients.Account, []string, error) {
	p := Prefs{}
	var notes []string
	found := false
	for _, name := range []string{"prefs.js", "user.js"} {
		path := filepath.Join(dir, name)
		data, err := readLimited(path)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("thunderbird: %w", err)
		}
		found = true
		prefs, errs := ParsePrefs(data)
		for _, e := range errs {
			notes = append(notes, fmt.Sprintf("%s %v (skipped, as Thunderbird does)", name, e))
		}
		Merge(p, prefs)
	}
	if !found {
		return nil, nil, fmt.Errorf("thunderbird: %s has no prefs.js: %w", dir, os.ErrNotExist)
	}
	accts, problems := Accounts(p, filepath.Join(dir, "prefs.js"))
	for i := range accts {
		accts[i].Profile = dir
	}
	notes = append(notes, problems...)
	return accts, notes, nil
}

// ParseFile reads a single prefs.js or user.js that is not part of a profile folder.
func ParseFile(path string, data []byte) ([]clients.Account, []string, error) {
	prefs, errs := ParsePrefs(data)
	if len(prefs) == 0 {
		return nil, nil, fmt.Errorf("thunderbird: %s holds no preferences", path)
	}
	var notes []string
	for _, e := range errs {
		notes = append(notes, fmt.Sprintf("%v (skipped)", e))
	}
	accts, problems := Accounts(Merge(nil, prefs), path)
	return accts, append(notes, problems...), nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxPrefsFile {
		return nil, fmt.Errorf("%s is %d bytes, more than a prefs file can be", path, st.Size())
	}
	data := make([]byte, st.Size())
	n, err := io.ReadFull(f, data)
	return data[:n], err
}
