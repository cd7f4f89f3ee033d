package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mailsetup/mailsetup/detect"
)

// engineMechs are the auth values a report can carry: what the engine verifies (SCRAM,
// CRAM-MD5, PLAIN, LOGIN, USER, APOP), what bestOffered can name for an unverified cell
// (any offered mechanism, upper-cased, or nothing), the coming "oauth2", and junk.
var engineMechs = []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN", "USER", "APOP",
	"XOAUTH2", "OAUTHBEARER", "oauth2", "NTLM", "GSSAPI", "", "EXTERNAL"}

// userForms are the user-name shapes a login can have.
var userForms = []string{"address", "local", "other", "domain-case", "empty"}

func userFor(form, address, local string) string {
	switch form {
	case "address":
		return address
	case "local":
		return local
	case "other":
		return "u12345"
	case "domain-case":
		return local + "@EXAMPLE.com"
	}
	return ""
}

func standardPort(p detect.Protocol, s detect.Security) int {
	switch {
	case p == detect.IMAP && s == detect.SecurityTLS:
		return 993
	case p == detect.IMAP:
		return 143
	case p == detect.POP3 && s == detect.SecurityTLS:
		return 995
	case p == detect.POP3:
		return 110
	case s == detect.SecurityTLS:
		return 465
	case s == detect.SecurityStartTLS:
		return 587
	}
	return 25
}

// offerSets are what the report may say the server offered: unknown (no probe), the
// mechanism alone, with PLAIN/LOGIN, with CRAM-MD5.
func offerSets(mech string) [][]string {
	m := normMech(mech)
	one := []string{}
	if m != "" {
		one = []string{m}
	}
	return [][]string{nil, one, append(slices.Clone(one), "PLAIN", "LOGIN"), append(slices.Clone(one), "CRAM-MD5")}
}

type combo struct {
	name    string
	report  *detect.Report
	in, out detect.Setting
	inOff   []string
	outOff  []string
}

func reportFor(in, out detect.Setting, inOff, outOff []string) *detect.Report {
	r := &detect.Report{Address: "jane.doe@example.com", Domain: "example.com",
		Recommended: detect.Recommendation{Incoming: &in, Outgoing: &out}}
	for _, x := range []struct {
		s   detect.Setting
		off []string
	}{{in, inOff}, {out, outOff}} {
		if x.off != nil {
			r.Probes = append(r.Probes, detect.ProbeResult{Protocol: x.s.Protocol, Host: x.s.Host, Port: x.s.Port, Security: x.s.Security,
				Status: detect.StatusOK, AuthMechanisms: x.off})
		}
	}
	return r
}

// combos enumerates every incoming (protocol, port, security, mechanism, user-name form,
// verified, offers) with a fixed outgoing, and every outgoing one with a fixed incoming.
func combos() []combo {
	const addr, local = "jane.doe@example.com", "jane.doe"
	var out []combo
	baseOut := detect.Setting{Protocol: detect.SMTP, Host: "smtp.example.com", Port: 465, Security: detect.SecurityTLS, Auth: "PLAIN", Username: addr, Verified: true}
	secs := []detect.Security{detect.SecurityTLS, detect.SecurityStartTLS, detect.SecurityNone}
	for _, proto := range []detect.Protocol{detect.IMAP, detect.POP3} {
		for _, sec := range secs {
			for _, port := range []int{standardPort(proto, sec), 10000 + standardPort(proto, sec)} {
				for _, mech := range append(slices.Clone(engineMechs), "none", "pop-before-smtp") {
					for _, uf := range userForms {
						for _, ver := range []bool{true, false} {
							for oi, off := range offerSets(mech) {
								in := detect.Setting{Protocol: proto, Host: string(proto) + ".example.com", Port: port, Security: sec, Auth: mech, Username: userFor(uf, addr, local), Verified: ver}
								o := baseOut
								if proto == detect.POP3 && oi == 0 {
									o.Username = in.Username // vary the pairing a little
								}
								out = append(out, combo{name: fmt.Sprintf("in %s/%d/%s/%q/%s/v=%v/off%d", proto, port, sec, mech, uf, ver, oi),
									report: reportFor(in, o, off, []string{"PLAIN", "LOGIN"}), in: in, out: o, inOff: off, outOff: []string{"PLAIN", "LOGIN"}})
							}
						}
					}
				}
			}
		}
	}
	smtpPorts := map[detect.Security][]int{detect.SecurityTLS: {465, 2465}, detect.SecurityStartTLS: {587, 2525}, detect.SecurityNone: {25, 587}}
	for _, sec := range secs {
		for _, port := range smtpPorts[sec] {
			for _, mech := range append(slices.Clone(engineMechs), "none", "pop-before-smtp") {
				for _, uf := range userForms {
					for _, ver := range []bool{true, false} {
						for oi, off := range offerSets(mech) {
							in := detect.Setting{Protocol: detect.IMAP, Host: "imap.example.com", Port: 993, Security: detect.SecurityTLS, Auth: "PLAIN", Username: addr, Verified: true}
							inOff := []string{"PLAIN", "LOGIN"}
							if mech == "pop-before-smtp" || oi == 3 {
								in = detect.Setting{Protocol: detect.POP3, Host: "pop.example.com", Port: 995, Security: detect.SecurityTLS, Auth: "USER", Username: addr, Verified: true}
								inOff = []string{"USER", "PLAIN"}
							}
							o := detect.Setting{Protocol: detect.SMTP, Host: "smtp.example.com", Port: port, Security: sec, Auth: mech, Username: userFor(uf, addr, local), Verified: ver}
							out = append(out, combo{name: fmt.Sprintf("out %d/%s/%q/%s/v=%v/off%d", port, sec, mech, uf, ver, oi),
								report: reportFor(in, o, inOff, off), in: in, out: o, inOff: inOff, outOff: off})
						}
					}
				}
			}
		}
	}
	return out
}

// revealing reports whether the engine's own mechanism sent the password as is.
func revealing(mech string) bool {
	return slices.Contains([]string{"PLAIN", "LOGIN", "USER", ""}, normMech(mech))
}

func secure(s detect.Security) bool { return s == detect.SecurityTLS || s == detect.SecurityStartTLS }

// usableBy says whether a client that sends one of mechs can log in, given what was
// verified and what the server offered (unknown offers: the verified mechanism, or a
// cleartext mechanism over TLS, which the table documents as an assumption).
func usableBy(mechs []string, s detect.Setting, offered []string) bool {
	m := normMech(s.Auth)
	if m == "OAUTH2" {
		m = "XOAUTH2"
	}
	if slices.Contains(mechs, m) || m == "" && slices.ContainsFunc(mechs, func(x string) bool { return slices.Contains(clearMechs, x) }) {
		return true
	}
	if offered == nil {
		return secure(s.Security) && slices.ContainsFunc(mechs, func(x string) bool { return slices.Contains(clearMechs, x) })
	}
	return slices.ContainsFunc(mechs, func(x string) bool { return slices.Contains(offered, x) })
}

// leaks reports a client sending the password in clear where the engine's login did not.
func leaks(mechs []string, s detect.Setting) bool {
	if secure(s.Security) || revealing(s.Auth) {
		return false
	}
	for _, m := range mechs {
		if !slices.Contains(clearMechs, m) {
			return false // the client tries the hiding one first and only
		}
	}
	return len(mechs) > 0
}

// checkFile reads one export as its client does and checks the client's login would work.
func checkFile(format string, data []byte, c combo, acc Account) error {
	inS, outS := acc.Incoming, acc.Outgoing
	loginOK := func(who string, mechs []string, s detect.Setting, off []string, none bool) error {
		if !passwordAuth(s) {
			if !none {
				return fmt.Errorf("%s: %s must not log in", who, s.Protocol)
			}
			return nil
		}
		if none {
			return fmt.Errorf("%s: %s has no login", who, s.Protocol)
		}
		if !usableBy(mechs, s, off) {
			return fmt.Errorf("%s: %s client sends %v, server verified %q offered %v", who, s.Protocol, mechs, s.Auth, off)
		}
		if leaks(mechs, s) {
			return fmt.Errorf("%s: %s client would send the password in clear (%v) where %q hid it", who, s.Protocol, mechs, s.Auth)
		}
		return nil
	}
	switch format {
	case "thunderbird":
		in, out, err := readClientConfig(data)
		if err != nil {
			return err
		}
		if in.Port != inS.Port || out.Port != outS.Port || in.Socket != tbSocket(inS.Security) || out.Socket != tbSocket(outS.Security) {
			return fmt.Errorf("ports/sockets %+v %+v", in, out)
		}
		if err := loginOK("thunderbird", tbMechanisms(in.Auth, in.Type), inS, c.inOff, in.Auth == 1); err != nil {
			return err
		}
		if out.Auth == 3 || out.Auth == 4 {
			if out.Username == "" {
				return errors.New("outgoing username empty")
			}
		}
		if u := strings.NewReplacer("%EMAILADDRESS%", acc.Address, "%EMAILLOCALPART%", acc.Local).Replace(in.Username); !strings.EqualFold(u, inS.Username) {
			return fmt.Errorf("incoming user %q resolves to %q, want %q", in.Username, u, inS.Username)
		}
		return loginOK("thunderbird", tbMechanisms(out.Auth, "smtp"), outS, c.outOff, out.Auth == 1)
	case "thunderbird-prefs":
		prefs, err := parsePrefs(data)
		if err != nil {
			return fmt.Errorf("prefs parser: %w", err)
		}
		if len(prefs) < 18 {
			return fmt.Errorf("only %d prefs parsed", len(prefs))
		}
		if prefs["mail.server.server90.userName"] != inS.Username || prefs["mail.identity.id90.fullName"] != acc.DisplayName || prefs["mail.server.server90.hostname"] != inS.Host {
			return fmt.Errorf("strings did not round-trip: %q %q", prefs["mail.server.server90.userName"], prefs["mail.identity.id90.fullName"])
		}
		inM, _ := prefs["mail.server.server90.authMethod"].(int)
		outM, _ := prefs["mail.smtpserver.smtp90.authMethod"].(int)
		if inM == 10 && !thunderbirdOAuthHost(inS.Host) || outM == 10 && !thunderbirdOAuthHost(outS.Host) {
			return errors.New("OAuth2 for a host Thunderbird has no OAuth2 configuration for")
		}
		for _, k := range []string{"mail.server.server90.socketType", "mail.smtpserver.smtp90.try_ssl"} {
			if v, _ := prefs[k].(int); v != 0 && v != 2 && v != 3 {
				return fmt.Errorf("%s=%v", k, prefs[k])
			}
		}
		if err := loginOK("user.js", tbMechanisms(inM, string(inS.Protocol)), inS, c.inOff, inM == 1); err != nil {
			return err
		}
		return loginOK("user.js", tbMechanisms(outM, "smtp"), outS, c.outOff, outM == 1)
	case "apple":
		m, err := checkAppleProfile(data)
		if err != nil {
			return err
		}
		appleMechs := func(v any, s detect.Setting) []string {
			switch v {
			case "EmailAuthPassword":
				if s.Protocol == detect.POP3 {
					return []string{"PLAIN", "LOGIN", "USER"}
				}
				return []string{"PLAIN", "LOGIN"}
			case "EmailAuthCRAMMD5":
				return []string{"CRAM-MD5"}
			case "EmailAuthNTLM":
				return []string{"NTLM"}
			}
			return nil
		}
		if m["IncomingMailServerUseSSL"] != secure(inS.Security) || m["OutgoingMailServerUseSSL"] != secure(outS.Security) {
			return errors.New("UseSSL")
		}
		if same, _ := m["OutgoingPasswordSameAsIncomingPassword"].(bool); same != (passwordAuth(outS) && (inS.Verified && outS.Verified || inS.Username == outS.Username)) {
			return fmt.Errorf("OutgoingPasswordSameAsIncomingPassword=%v", same)
		}
		if err := loginOK("apple", appleMechs(m["IncomingMailServerAuthentication"], inS), inS, c.inOff, m["IncomingMailServerAuthentication"] == "EmailAuthNone"); err != nil {
			return err
		}
		return loginOK("apple", appleMechs(m["OutgoingMailServerAuthentication"], outS), outS, c.outOff, m["OutgoingMailServerAuthentication"] == "EmailAuthNone")
	case "outlook":
		ps, err := readPOX(data)
		if err != nil {
			return err
		}
		if len(ps) != 2 || ps[0].Type != strings.ToUpper(string(inS.Protocol)) || ps[1].Type != "SMTP" {
			return fmt.Errorf("protocols %+v", ps)
		}
		for i, s := range []detect.Setting{inS, outS} {
			off := []([]string){c.inOff, c.outOff}[i]
			mechs := []string{"PLAIN", "LOGIN", "USER"}
			if ps[i].SPA == "on" {
				mechs = []string{"NTLM"}
			}
			if err := loginOK("outlook", mechs, s, off, ps[i].AuthRequired == "off"); err != nil {
				return err
			}
		}
		return nil
	case "outlook-prf":
		secs, err := readPRF(data)
		if err != nil {
			return err
		}
		a := secs["Account1"]
		prefix := map[detect.Protocol]string{detect.IMAP: "IMAP", detect.POP3: "POP3"}[inS.Protocol]
		if a[prefix+"Server"] != inS.Host || a[prefix+"Port"] != strconv.Itoa(inS.Port) || a[prefix+"UseSSL"] != strconv.Itoa(prfEncryption(inS.Security)) {
			return fmt.Errorf("incoming %v", a)
		}
		inMechs := []string{"PLAIN", "LOGIN", "USER"}
		if a[prefix+"UseSPA"] == "1" {
			inMechs = []string{"NTLM"}
		}
		outMechs := []string{"PLAIN", "LOGIN"}
		if a["SMTPUseSPA"] == "1" {
			outMechs = []string{"NTLM"}
		}
		if err := loginOK("prf", inMechs, inS, c.inOff, false); err != nil {
			return err
		}
		return loginOK("prf", outMechs, outS, c.outOff, a["SMTPUseAuth"] == "0")
	case "outlook-prf-cmd":
		if bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) || !bytes.Contains(data, []byte("/importprf")) {
			return errors.New("cmd: not CRLF or no /importprf")
		}
		for _, l := range strings.Split(string(data), "\r\n") {
			if strings.HasPrefix(l, "rem ") || strings.HasPrefix(l, "echo ") || strings.HasPrefix(l, "  echo ") {
				if strings.ContainsAny(l[4:], "%^&|<>!\"()") && !strings.HasPrefix(l, "  echo") {
					return fmt.Errorf("cmd line with a character cmd.exe interprets: %q", l)
				}
			}
		}
		return nil
	case "outlook-reg":
		s := string(data)
		if !strings.HasPrefix(s, "Windows Registry Editor Version 5.00\r\n") || strings.Contains(strings.ReplaceAll(s, "\r\n", ""), "\n") {
			return errors.New("reg header or line endings")
		}
		return nil
	case "outlook-new", "sheet":
		text, err := htmlText(data)
		if err != nil {
			return err
		}
		if !strings.Contains(text, inS.Host) || !strings.Contains(text, outS.Host) {
			return errors.New("sheet lacks a server")
		}
		return nil
	case "text":
		if !bytes.Contains(data, []byte(inS.Host)) {
			return errors.New("text lacks the incoming host")
		}
		return nil
	}
	return fmt.Errorf("no checker for %s", format)
}

// TestEveryPath renders every format for every combination the recommender can produce
// and checks each file as its client would read it. A client that cannot log in with a
// combination must say so with an *UnsupportedError, never with a file.
func TestEveryPath(t *testing.T) {
	t.Parallel()
	cs := combos()
	var files, unsupported, invalid atomic.Int64
	perFormat := map[string]*atomic.Int64{}
	for _, f := range Formats {
		perFormat[f] = &atomic.Int64{}
	}
	for i := 0; i < len(cs); i += 500 {
		batch := cs[i:min(i+500, len(cs))]
		t.Run(fmt.Sprintf("batch%d", i/500), func(t *testing.T) {
			t.Parallel()
			for _, c := range batch {
				acc, err := FromReport(c.report, Options{DisplayName: "Jane \"JD\" Doe\\ Ünïcødé ;=[x]"})
				if err != nil {
					var ie *InvalidError
					hostile := c.in.Auth == "none" || c.in.Auth == "pop-before-smtp" || c.out.Auth == "pop-before-smtp" && c.in.Protocol != detect.POP3
					if !errors.As(err, &ie) || !hostile {
						t.Errorf("%s: FromReport: %v", c.name, err)
					}
					invalid.Add(1)
					continue
				}
				for _, f := range Formats {
					var b bytes.Buffer
					_, err := Write(f, acc, Options{}, &b)
					if err != nil {
						var ue *UnsupportedError
						if !errors.As(err, &ue) || ue.Reason == "" || !errors.Is(err, ErrUnsupported) {
							t.Errorf("%s %s: %v", c.name, f, err)
						}
						if safeCommonPath(f, acc) {
							t.Errorf("%s %s: a common path was refused: %v", c.name, f, err)
						}
						unsupported.Add(1)
						continue
					}
					if err := checkFile(f, b.Bytes(), c, acc); err != nil {
						t.Errorf("%s %s: %v\n%s", c.name, f, err, b.Bytes())
					}
					files.Add(1)
					perFormat[f].Add(1)
				}
			}
		})
	}
	t.Cleanup(func() {
		t.Logf("checked %d combinations × %d formats: %d files read as their client reads them, %d typed refusals (client cannot log in), %d reports refused as invalid",
			len(cs), len(Formats), files.Load(), unsupported.Load(), invalid.Load())
		for _, f := range Formats {
			t.Logf("  %-18s %d files", f, perFormat[f].Load())
		}
	})
}

// safeCommonPath is a combination no client may refuse: a password login the engine
// verified with PLAIN, LOGIN or USER on an encrypted connection.
func safeCommonPath(format string, a Account) bool {
	for _, s := range []detect.Setting{a.Incoming, a.Outgoing} {
		common := slices.Contains([]string{"PLAIN", "LOGIN"}, s.Auth) || s.Auth == "USER" && s.Protocol == detect.POP3
		if !secure(s.Security) || !common {
			return false
		}
	}
	return format != ""
}

// TestHostileReports feeds reports as --in would read them (JSON), with values no mail
// program can take or that would break a file's syntax: each is either refused with a
// typed error or written so that every checker still reads it and the strings round-trip.
func TestHostileReports(t *testing.T) {
	t.Parallel()
	base := func() map[string]any {
		return map[string]any{"address": "jane.doe@example.com", "domain": "example.com",
			"recommended": map[string]any{
				"incoming": map[string]any{"protocol": "imap", "host": "imap.example.com", "port": 993, "security": "tls", "auth": "PLAIN", "username": "jane.doe@example.com", "verified": true},
				"outgoing": map[string]any{"protocol": "smtp", "host": "smtp.example.com", "port": 465, "security": "tls", "auth": "PLAIN", "username": "jane.doe@example.com", "verified": true},
			}}
	}
	set := func(role, key string, v any) func(map[string]any) {
		return func(m map[string]any) { m["recommended"].(map[string]any)[role].(map[string]any)[key] = v }
	}
	tests := []struct {
		name    string
		mutate  func(map[string]any)
		wantErr bool
	}{
		{"host with a space", set("incoming", "host", "imap example.com"), true},
		{"host with markup", set("incoming", "host", "<script>.example.com"), true},
		{"host with newline", set("outgoing", "host", "smtp.example.com\nX"), true},
		{"host too long", set("incoming", "host", strings.Repeat("a", 64)+".example.com"), true},
		{"unicode host becomes punycode", set("incoming", "host", "imap.bücher.example"), false},
		{"ip host", set("incoming", "host", "192.0.2.7"), false},
		{"ipv6 host", set("incoming", "host", "2001:db8::7"), false},
		{"port zero", set("incoming", "port", 0), true},
		{"port too high", set("outgoing", "port", 70000), true},
		{"negative port", set("outgoing", "port", -25), true},
		{"unknown security", set("incoming", "security", "ssl"), true},
		{"smtp as incoming", set("incoming", "protocol", "smtp"), true},
		{"imap as outgoing", set("outgoing", "protocol", "imap"), true},
		{"incoming without login", set("incoming", "auth", "none"), true},
		{"user with quotes and backslash", set("incoming", "username", `ja"ne\doe'`), false},
		{"user with unicode and emoji", set("incoming", "username", "jäne😀"), false},
		{"user with NUL", set("incoming", "username", "ja\x00ne"), true},
		{"user with tab", set("incoming", "username", "ja\tne"), true},
		{"user with bell", set("outgoing", "username", "ja\ane"), true},
		{"auth junk", set("incoming", "auth", "X-PROPRIETARY"), false},
		{"auth with newline", set("incoming", "auth", "PLAIN\n"), true},
		{"odd display via provider", func(m map[string]any) {
			m["provider"] = map[string]any{"id": "x", "name": "Evil <b>&amp;\"Mail\"\n", "notes": map[string]any{"other": []string{"<img src=x onerror=alert(1)>"}}}
		}, false},
		{"warnings with control characters", func(m map[string]any) { m["warnings"] = []string{"line\x1b[31m red"} }, false},
	}
	for _, tt := range tests {
		m := base()
		tt.mutate(m)
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var rep detect.Report
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rep); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		acc, err := FromReport(&rep, Options{DisplayName: "Name\nwith \"break\""})
		if tt.wantErr {
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Errorf("%s: got %v, want an *InvalidError", tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		c := combo{name: tt.name, in: acc.Incoming, out: acc.Outgoing, inOff: acc.IncomingOffered, outOff: acc.OutgoingOffered}
		for _, f := range Formats {
			var b bytes.Buffer
			_, err := Write(f, acc, Options{}, &b)
			if err != nil {
				if errors.Is(err, ErrUnsupported) && tt.name == "auth junk" {
					continue
				}
				var ie *InvalidError
				if errors.As(err, &ie) && f == "outlook-prf" && strings.Contains(tt.name, "emoji") {
					continue // Windows-1252 cannot carry it: refused, not garbled
				}
				t.Errorf("%s %s: %v", tt.name, f, err)
				continue
			}
			if err := checkFile(f, b.Bytes(), c, acc); err != nil {
				t.Errorf("%s %s: %v\n%s", tt.name, f, err, b.Bytes())
			}
			if (f == "sheet" || f == "outlook-new") && bytes.Contains(b.Bytes(), []byte("<img")) {
				t.Errorf("%s %s: markup from the report reached the page unescaped", tt.name, f)
			}
		}
	}
}
