package detect

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

// Hostile networks: a man in the middle answers DNS, HTTP and mail ports, and impostor
// servers hold valid certificates for their own names and accept any password. Each
// case asserts that neither the password nor any verifier of it (a CRAM-MD5, SCRAM or
// APOP answer, which the impostor could crack offline) reached the impostor, that
// nothing unencrypted is recommended where encryption exists, and the time bound.

const hostilePass = "Corr3ct-Horse-hostile"

// hostileWorld is a provider's real servers plus whatever impostors a case adds.
type hostileWorld struct {
	*testEnv
	t *testing.T
}

func newHostileWorld(t *testing.T) *hostileWorld {
	e := newTestEnv(t)
	e.opts.Password = hostilePass
	e.opts.Timeout = 2 * time.Second
	return &hostileWorld{testEnv: e, t: t}
}

// realSMTP starts the provider's genuine implicit-TLS SMTP server for host.
func (w *hostileWorld) realSMTP(host, user string) {
	s := detecttest.StartSMTP(w.t, detecttest.SMTPConfig{Mode: "tls", Cert: w.cert(w.t, detecttest.CertOpts{}, host),
		Mechanisms: []string{"PLAIN", "LOGIN"}, Users: map[string]string{user: hostilePass}})
	w.net.Route(host, 465, s.Addr)
}

// realIMAP starts the provider's genuine implicit-TLS IMAP server for host.
func (w *hostileWorld) realIMAP(host, user string) {
	s := detecttest.StartIMAP(w.t, detecttest.IMAPConfig{Mode: "tls", Cert: w.cert(w.t, detecttest.CertOpts{}, host), Users: map[string]string{user: hostilePass}})
	w.net.Route(host, 993, s.Addr)
}

// impostorSMTP is a server with a valid certificate for its own name that accepts any
// login on implicit TLS (465) and records, inside TLS, everything the client sends.
func (w *hostileWorld) impostorSMTP(host string) *detecttest.Recorder {
	plain := detecttest.StartSMTP(w.t, detecttest.SMTPConfig{Mode: "none", Domain: host, Mechanisms: []string{"PLAIN", "LOGIN", "CRAM-MD5"}, AcceptAnyPassword: true})
	rec := detecttest.StartTLSRecorder(w.t, w.cert(w.t, detecttest.CertOpts{}, host), plain.Addr)
	w.net.Route(host, 465, rec.Addr())
	return rec
}

// impostorIMAP is an IMAP server with a valid certificate for its own name (993),
// allowing LOGIN, recording inside TLS.
func (w *hostileWorld) impostorIMAP(host string) *detecttest.Recorder {
	plain := detecttest.StartIMAP(w.t, detecttest.IMAPConfig{Mode: "none", InsecureAuth: true, Users: map[string]string{"x": "y"}})
	rec := detecttest.StartTLSRecorder(w.t, w.cert(w.t, detecttest.CertOpts{}, host), plain.Addr)
	w.net.Route(host, 993, rec.Addr())
	return rec
}

// document serves a clientConfig naming smtpHost:465 and imapHost:993 over plain HTTP
// at every autoconfig URL of domain.
func (w *hostileWorld) spoofHTTPAutoconfig(domain, smtpHost, imapHost string) {
	doc := clientConfigFor(smtpHost, 465, "SSL", imapHost, 993, "SSL")
	addr := autoconfigServer(w.t, w.testEnv, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { rw.Write([]byte(doc)) }))
	w.net.Route("autoconfig."+domain, 80, addr)
	w.net.Route(domain, 80, addr)
}

func clientConfigFor(smtpHost string, smtpPort int, smtpSock, imapHost string, imapPort int, imapSock string) string {
	return fmt.Sprintf(`<?xml version="1.0"?><clientConfig version="1.1"><emailProvider id="x">
<incomingServer type="imap"><hostname>%s</hostname><port>%d</port><socketType>%s</socketType><username>%%EMAILADDRESS%%</username><authentication>password-cleartext</authentication></incomingServer>
<outgoingServer type="smtp"><hostname>%s</hostname><port>%d</port><socketType>%s</socketType><username>%%EMAILADDRESS%%</username><authentication>password-cleartext</authentication></outgoingServer>
</emailProvider></clientConfig>`, imapHost, imapPort, imapSock, smtpHost, smtpPort, smtpSock)
}

func (w *hostileWorld) run(address string, opts Options) *Report {
	w.t.Helper()
	start := time.Now()
	rep, err := Run(context.Background(), address, opts)
	if err != nil {
		w.t.Fatal(err)
	}
	if d := time.Since(start); d > 3*opts.Timeout {
		w.t.Errorf("the run took %v (probe timeout %v)", d, opts.Timeout)
	}
	return rep
}

// assertNoLeak fails when any recorder saw a login, and when a recorder saw nothing at
// all (then the case proves nothing: the impostor must have been reached).
func assertNoLeak(t *testing.T, recs map[string]*detecttest.Recorder) {
	t.Helper()
	for host, rec := range recs {
		if rec.Conns() == 0 {
			t.Errorf("%s was never contacted; the case proves nothing", host)
		}
		if leak := detecttest.CredentialLeak(rec.Received(), hostilePass); leak != "" {
			t.Errorf("%s received %s:\n%s", host, leak, rec.Received())
		}
	}
}

// assertEncryptedRecommendation fails when a recommended setting is unencrypted.
func assertEncryptedRecommendation(t *testing.T, rep *Report) {
	t.Helper()
	for _, s := range []*Setting{rep.Recommended.Outgoing, rep.Recommended.Incoming} {
		if s != nil && s.Security == SecurityNone {
			t.Errorf("recommended an unencrypted setting: %+v", s)
		}
	}
}

func hostDecision(rep *Report, host string) HostTrust {
	for _, h := range rep.Hosts {
		if h.Host == host {
			return h
		}
	}
	return HostTrust{}
}

// A spoofed plain-HTTP autoconfig document for a known provider names an impostor: it
// is probed without credentials, the provider's own servers are logged into.
func TestHostileSpoofedAutoconfigForKnownProvider(t *testing.T) {
	t.Parallel()
	w := newHostileWorld(t)
	user := "victim@bigmail.test"
	w.realSMTP("smtp.bigmail.test", user)
	w.realIMAP("imap.bigmail.test", user)
	recs := map[string]*detecttest.Recorder{
		"smtp.attacker.test": w.impostorSMTP("smtp.attacker.test"),
		"imap.attacker.test": w.impostorIMAP("imap.attacker.test"),
	}
	w.spoofHTTPAutoconfig("bigmail.test", "smtp.attacker.test", "imap.attacker.test")
	opts := w.opts
	opts.Providers = &ProviderDB{Providers: []Provider{{ID: "bigmail", Name: "Big Mail", Domains: []string{"bigmail.test"}, Username: "address",
		Servers: []ProviderServer{{Protocol: SMTP, Host: "smtp.bigmail.test", Port: 465, Security: SecurityTLS}, {Protocol: IMAP, Host: "imap.bigmail.test", Port: 993, Security: SecurityTLS}}}}}
	rep := w.run(user, opts)
	assertNoLeak(t, recs)
	assertEncryptedRecommendation(t, rep)
	if o, i := rep.Recommended.Outgoing, rep.Recommended.Incoming; o == nil || o.Host != "smtp.bigmail.test" || !o.Verified || i == nil || i.Host != "imap.bigmail.test" || !i.Verified {
		t.Fatalf("recommended %+v / %+v, want the provider's own servers, verified", o, i)
	}
	for _, host := range []string{"smtp.attacker.test", "imap.attacker.test"} {
		if d := hostDecision(rep, host); d.Trusted || d.Reason != "not_a_server_of_known_provider" {
			t.Errorf("%s: %+v", host, d)
		}
	}
	for _, p := range rep.Probes {
		if strings.HasSuffix(p.Host, "attacker.test") && p.Security == SecurityTLS && (p.Port == 465 || p.Port == 993) && p.Status != StatusUntrustedHost {
			t.Errorf("%s:%d %s: %s", p.Host, p.Port, p.Security, p.Status)
		}
	}
}

// An SRV record points outside the domain: the server gets no login until the user
// confirms it, and then it does.
func TestHostileSRVToAnotherDomain(t *testing.T) {
	t.Parallel()
	w := newHostileWorld(t)
	recs := map[string]*detecttest.Recorder{
		"smtp.attacker.test": w.impostorSMTP("smtp.attacker.test"),
		"imap.attacker.test": w.impostorIMAP("imap.attacker.test"),
	}
	w.net.SRV("submissions", "shop.test", "smtp.attacker.test", 465)
	w.net.SRV("imaps", "shop.test", "imap.attacker.test", 993)
	rep := w.run("me@shop.test", w.opts)
	assertNoLeak(t, recs)
	if rep.Recommended.Outgoing != nil || rep.Recommended.Incoming != nil {
		t.Fatalf("recommended %+v / %+v from an untrusted SRV target", rep.Recommended.Outgoing, rep.Recommended.Incoming)
	}
	if d := hostDecision(rep, "smtp.attacker.test"); d.Trusted || d.Reason != "srv_outside_domain" || d.Via != "_submissions._tcp.shop.test" {
		t.Errorf("decision %+v", d)
	}
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "--trust-host smtp.attacker.test") {
		t.Errorf("warnings do not say how to confirm: %q", rep.Warnings)
	}

	// The user confirms the servers: now they get a login.
	opts := w.opts
	opts.TrustHosts = []string{"smtp.attacker.test", "imap.attacker.test"}
	rep = w.run("me@shop.test", opts)
	if o := rep.Recommended.Outgoing; o == nil || !o.Verified || o.Host != "smtp.attacker.test" {
		t.Fatalf("after confirming: outgoing %+v", o)
	}
	if d := hostDecision(rep, "smtp.attacker.test"); !d.Trusted || d.Reason != "user_confirmed" {
		t.Errorf("after confirming: %+v", d)
	}
}

// MX records under a two-label public suffix: the MX host's registrable domain is asked
// for autoconfig (never the public suffix, which anyone can register under), and what
// that other domain's document names gets no login.
func TestHostileMXUnderPublicSuffix(t *testing.T) {
	t.Parallel()
	w := newHostileWorld(t)
	var suffixAsked atomic.Int32
	suffixSrv := autoconfigServer(t, w.testEnv, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		suffixAsked.Add(1)
		rw.Write([]byte(clientConfigFor("smtp.attacker.test", 465, "SSL", "imap.attacker.test", 993, "SSL")))
	}), "autoconfig.co.uk")
	w.net.Route("autoconfig.co.uk", 443, suffixSrv)
	w.net.Route("autoconfig.co.uk", 80, suffixSrv)
	hosterDoc := autoconfigServer(t, w.testEnv, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Write([]byte(clientConfigFor("smtp.mailhost.co.uk", 465, "SSL", "imap.mailhost.co.uk", 993, "SSL")))
	}), "autoconfig.mailhost.co.uk")
	w.net.Route("autoconfig.mailhost.co.uk", 443, hosterDoc)
	w.net.MX("shop.co.uk", "mx1.mailhost.co.uk")
	recs := map[string]*detecttest.Recorder{
		"smtp.mailhost.co.uk": w.impostorSMTP("smtp.mailhost.co.uk"),
		"imap.mailhost.co.uk": w.impostorIMAP("imap.mailhost.co.uk"),
	}
	rep := w.run("me@shop.co.uk", w.opts)
	if n := suffixAsked.Load(); n != 0 {
		t.Errorf("autoconfig.co.uk was asked %d times", n)
	}
	assertNoLeak(t, recs)
	if d := hostDecision(rep, "smtp.mailhost.co.uk"); d.Trusted || d.Reason != "other_domains_document" {
		t.Errorf("decision %+v", d)
	}
	var mx SourceResult
	for _, s := range rep.Discovery {
		if s.Source == SourceMX {
			mx = s
		}
	}
	if !strings.Contains(mx.Detail, "autoconfig of mailhost.co.uk") {
		t.Errorf("MX source: %s", mx.Detail)
	}
}

// HTTPS autoconfig that redirects to plain HTTP is refused; one that redirects to another
// domain is credited to its final URL and not trusted.
func TestHostileAutoconfigRedirects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, target, wantReason string
	}{
		{"https to http", "http://evil.test/config.xml", ""},
		{"https to another domain", "https://evil.test/config.xml", "redirected_document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newHostileWorld(t)
			evil := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				rw.Write([]byte(clientConfigFor("smtp.attacker.test", 465, "SSL", "imap.attacker.test", 993, "SSL")))
			})
			w.net.Route("evil.test", 80, autoconfigServer(t, w.testEnv, evil))
			w.net.Route("evil.test", 443, autoconfigServer(t, w.testEnv, evil, "evil.test"))
			redirector := autoconfigServer(t, w.testEnv, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				http.Redirect(rw, r, tc.target, http.StatusFound)
			}), "autoconfig.shop.test")
			w.net.Route("autoconfig.shop.test", 443, redirector)
			recs := map[string]*detecttest.Recorder{}
			smtpRec, imapRec := w.impostorSMTP("smtp.attacker.test"), w.impostorIMAP("imap.attacker.test")
			rep := w.run("me@shop.test", w.opts)
			var ac SourceResult
			for _, s := range rep.Discovery {
				if s.Source == SourceAutoconfig {
					ac = s
				}
			}
			if tc.wantReason == "" {
				if ac.Found || !strings.Contains(ac.Detail, "refused a redirect from https to plain http") {
					t.Errorf("autoconfig: found %v, %s", ac.Found, ac.Detail)
				}
				if smtpRec.Conns()+imapRec.Conns() != 0 {
					t.Errorf("the refused document's servers were contacted")
				}
				return
			}
			recs["smtp.attacker.test"], recs["imap.attacker.test"] = smtpRec, imapRec
			assertNoLeak(t, recs)
			if !strings.Contains(ac.Detail, "→ https://evil.test/config.xml: found (autoconfig_redirect)") {
				t.Errorf("autoconfig detail does not credit the final URL: %s", ac.Detail)
			}
			if d := hostDecision(rep, "smtp.attacker.test"); d.Trusted || d.Reason != tc.wantReason || d.Via != "https://evil.test/config.xml" {
				t.Errorf("decision %+v", d)
			}
		})
	}
}

// STARTTLS stripped on 587 (and 25) with CRAM-MD5 offered in clear, a server that
// accepts any answer: the host offers implicit TLS on 465, so no login — not even a
// CRAM-MD5 answer, not even with consent to clear text — goes to the clear-text ports.
func TestHostileStrippedSTARTTLSWithCRAM(t *testing.T) {
	t.Parallel()
	for _, consent := range []bool{false, true} {
		t.Run(fmt.Sprintf("consent=%v", consent), func(t *testing.T) {
			t.Parallel()
			w := newHostileWorld(t)
			w.realSMTP(testHost, testUser)
			recs := map[string]*detecttest.Recorder{}
			for _, port := range []int{587, 25} {
				mitm := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "none", Mechanisms: []string{"CRAM-MD5", "PLAIN"}, AcceptAnyPassword: true})
				rec := detecttest.StartRecorder(t, mitm.Addr)
				w.net.Route(testHost, port, rec.Addr())
				recs[fmt.Sprintf("%s:%d", testHost, port)] = rec
			}
			opts := w.opts
			opts.AllowPlaintext = consent
			opts.Only = []Protocol{SMTP}
			rep := w.run(testUser, opts)
			assertNoLeak(t, recs)
			assertEncryptedRecommendation(t, rep)
			if o := rep.Recommended.Outgoing; o == nil || o.Port != 465 || !o.Verified {
				t.Fatalf("outgoing %+v", o)
			}
			for _, p := range rep.Probes {
				if p.Security == SecurityNone && (p.Port == 587 || p.Port == 25) && p.Diagnosis.Kind != KindEncryptionExists {
					t.Errorf("%d none: %s", p.Port, p.Diagnosis.Kind)
				}
			}
		})
	}
}

// A server with no encryption anywhere that accepts any password: without consent no
// login at all (challenge-response included); with consent, one.
func TestHostilePlainOnlyServerNeedsConsent(t *testing.T) {
	t.Parallel()
	w := newHostileWorld(t)
	mitm := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "none", Mechanisms: []string{"CRAM-MD5"}, AcceptAnyPassword: true})
	rec := detecttest.StartRecorder(t, mitm.Addr)
	w.net.Route(testHost, 587, rec.Addr())
	opts := w.opts
	opts.Only = []Protocol{SMTP}
	rep := w.run(testUser, opts)
	assertNoLeak(t, map[string]*detecttest.Recorder{"587": rec})
	for _, p := range rep.Probes {
		if p.Port == 587 && p.Security == SecurityNone && p.Status != StatusPlaintextRefused {
			t.Errorf("587 none without consent: %s", p.Status)
		}
	}
	opts.AllowPlaintext = true
	rep = w.run(testUser, opts)
	if o := rep.Recommended.Outgoing; o == nil || o.Port != 587 || o.Security != SecurityNone || o.Auth != "CRAM-MD5" {
		t.Fatalf("with consent: %+v", o)
	}
	if !strings.Contains(rec.Received(), "AUTH CRAM-MD5") {
		t.Errorf("with consent the login should have happened")
	}
}

// A certificate for another name on the encrypted ports is a warning sign, never a
// reason to recommend the clear-text ports of the same server — with or without consent.
func TestHostileWrongNameCertificateNeverLeadsToPlain(t *testing.T) {
	t.Parallel()
	for _, consent := range []bool{false, true} {
		t.Run(fmt.Sprintf("consent=%v", consent), func(t *testing.T) {
			t.Parallel()
			w := newHostileWorld(t)
			users := map[string]string{testUser: hostilePass}
			wrong := w.cert(t, detecttest.CertOpts{}, "other.test")
			s465 := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "tls", Cert: wrong, Mechanisms: []string{"PLAIN"}, Users: users})
			s25 := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "none", Mechanisms: []string{"PLAIN", "CRAM-MD5"}, Users: users})
			i993 := detecttest.StartIMAP(t, detecttest.IMAPConfig{Mode: "tls", Cert: wrong, Users: users})
			i143 := detecttest.StartIMAP(t, detecttest.IMAPConfig{Mode: "none", Users: users, InsecureAuth: true})
			recs := map[string]*detecttest.Recorder{"25": detecttest.StartRecorder(t, s25.Addr), "143": detecttest.StartRecorder(t, i143.Addr)}
			w.net.Route(testHost, 465, s465.Addr)
			w.net.Route(testHost, 25, recs["25"].Addr())
			w.net.Route(testHost, 993, i993.Addr)
			w.net.Route(testHost, 143, recs["143"].Addr())
			opts := w.opts
			opts.AllowPlaintext = consent
			opts.Only = []Protocol{SMTP, IMAP}
			rep := w.run(testUser, opts)
			assertNoLeak(t, recs)
			if rep.Recommended.Outgoing != nil || rep.Recommended.Incoming != nil {
				t.Fatalf("recommended %+v / %+v despite the certificate problem", rep.Recommended.Outgoing, rep.Recommended.Incoming)
			}
			all := strings.Join(rep.Warnings, "\n")
			if !strings.Contains(all, "--accept-cert "+testHost+"=") || !strings.Contains(all, "wrong name") {
				t.Errorf("warnings do not give the certificate diagnosis and the exact exception:\n%s", all)
			}
			for _, p := range rep.Probes {
				if p.Diagnosis.Kind == KindCertNameMismatch && strings.Contains(p.Diagnosis.Fix, "Use the host name the certificate names") {
					t.Errorf("the fix steers the user to the impostor's name: %s", p.Diagnosis.Fix)
				}
			}
		})
	}
}

// An IMAP server that answers AUTHENTICATE with an empty continuation ("+ ", RFC 3501's
// form of an empty challenge) must not crash the engine.
func TestHostileEmptyContinuation(t *testing.T) {
	t.Parallel()
	w := newHostileWorld(t)
	cert := w.cert(t, detecttest.CertOpts{})
	w.net.Route(testHost, 993, scripted(t, func(c net.Conn) {
		tc := tls.Server(c, detecttest.ServerTLS(cert))
		r := bufio.NewReader(tc)
		tc.Write([]byte("* OK ready\r\n"))
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch {
			case strings.HasPrefix(strings.ToUpper(rest), "CAPABILITY"):
				tc.Write([]byte("* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=CRAM-MD5\r\n" + tag + " OK\r\n"))
			case strings.HasPrefix(strings.ToUpper(rest), "AUTHENTICATE"):
				tc.Write([]byte("+ \r\n"))
				if _, err := r.ReadString('\n'); err != nil {
					return
				}
				tc.Write([]byte("+\r\n"))
				if _, err := r.ReadString('\n'); err != nil {
					return
				}
				tc.Write([]byte(tag + " NO [AUTHENTICATIONFAILED] nope\r\n"))
			default:
				tc.Write([]byte(tag + " BAD what\r\n"))
			}
		}
	}))
	r := w.opts.ProbeIMAP(context.Background(), ProbeKey{IMAP, testHost, 993, SecurityTLS}, testLogin(hostilePass))
	if r.Status == "" || r.Diagnosis == nil {
		t.Fatalf("no result: %+v", r)
	}
	joined := strings.Join(r.Transcript, "\n")
	if !strings.Contains(joined, "S: + [challenge]") {
		t.Errorf("the empty continuation is not in the transcript:\n%s", joined)
	}
}

// A greeting that never ends: stopped by the reply limit, in time, with bounded memory.
func TestHostileEndlessGreeting(t *testing.T) {
	t.Parallel()
	w := newHostileWorld(t)
	w.net.Route(testHost, 587, scripted(t, func(c net.Conn) {
		line := []byte("220-" + strings.Repeat("x", 1000) + "\r\n")
		for {
			if _, err := c.Write(line); err != nil {
				return
			}
		}
	}))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	r := w.opts.ProbeSMTP(context.Background(), ProbeKey{SMTP, testHost, 587, SecurityNone}, testLogin(hostilePass))
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if r.Diagnosis.Kind != KindLimitExceeded {
		t.Fatalf("kind %s (%s)", r.Diagnosis.Kind, r.Error)
	}
	if elapsed > time.Second {
		t.Errorf("took %v", elapsed)
	}
	if grew := int64(after.TotalAlloc - before.TotalAlloc); grew > 64<<20 {
		t.Errorf("allocated %d MiB for one probe", grew>>20)
	}
	t.Logf("stopped after %v, %d KiB allocated", elapsed.Round(time.Millisecond), (after.TotalAlloc-before.TotalAlloc)>>10)
}

// A SCRAM server asking for 30 million PBKDF2 iterations is refused at once.
func TestHostileHugeSCRAMIterations(t *testing.T) {
	t.Parallel()
	w := newHostileWorld(t)
	cert := w.cert(t, detecttest.CertOpts{})
	w.net.Route(testHost, 465, scripted(t, func(c net.Conn) {
		tc := tls.Server(c, detecttest.ServerTLS(cert))
		r := bufio.NewReader(tc)
		tc.Write([]byte("220 mail.example.test ESMTP\r\n"))
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			f := strings.Fields(line)
			switch {
			case len(f) > 0 && strings.EqualFold(f[0], "EHLO"):
				tc.Write([]byte("250-mail.example.test\r\n250 AUTH SCRAM-SHA-256\r\n"))
			case len(f) > 2 && strings.EqualFold(f[0], "AUTH"):
				first, _ := base64.StdEncoding.DecodeString(f[2])
				_, nonce, _ := strings.Cut(string(first), "r=")
				tc.Write([]byte("334 " + base64.StdEncoding.EncodeToString([]byte("r="+nonce+"srv,s=c2FsdA==,i=30000000")) + "\r\n"))
			case len(f) > 0 && f[0] == "*":
				tc.Write([]byte("501 cancelled\r\n"))
			default:
				tc.Write([]byte("250 ok\r\n"))
			}
		}
	}))
	start := time.Now()
	r := w.opts.ProbeSMTP(context.Background(), ProbeKey{SMTP, testHost, 465, SecurityTLS}, testLogin(hostilePass))
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("took %v: the iterations were computed", d)
	}
	if r.Diagnosis.Kind != KindLimitExceeded || r.Verified {
		t.Fatalf("kind %s verified %v (%s)", r.Diagnosis.Kind, r.Verified, r.Error)
	}
}

// One server reached under three names (smtp., mail. and the bare domain, one address)
// gets three failed logins in all, not three per name.
func TestFailedLoginsCountPerServerAddress(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	s := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "tls", Cert: e.cert(t, detecttest.CertOpts{}, "smtp.one.test", "mail.one.test", "one.test"),
		Mechanisms: []string{"PLAIN"}, Users: map[string]string{"me@one.test": "right"}})
	for _, h := range []string{"smtp.one.test", "mail.one.test", "one.test"} {
		e.net.Host(h, "127.0.9.9")
		e.net.Route(h, 465, s.Addr)
	}
	opts := e.opts
	opts.Password = "wrong"
	opts.Only = []Protocol{SMTP}
	rep, err := Run(context.Background(), "me@one.test", opts)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, p := range rep.Probes {
		total += p.LoginAttempts
	}
	if total > MaxFailedLogins {
		t.Fatalf("%d logins against one server under three names, cap %d", total, MaxFailedLogins)
	}
	if len(rep.FailedLogins) != 1 {
		t.Errorf("failed_logins %v, want one server", rep.FailedLogins)
	}
}

// The address never goes over plain HTTP: the http autoconfig URLs carry no query.
func TestNoAddressOverPlainHTTP(t *testing.T) {
	t.Parallel()
	w := newHostileWorld(t)
	queries := make(chan string, 8)
	h := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { queries <- r.URL.RawQuery; http.NotFound(rw, r) })
	w.net.Route("autoconfig.shop.test", 80, autoconfigServer(t, w.testEnv, h))
	w.net.Route("shop.test", 80, autoconfigServer(t, w.testEnv, h))
	w.run("me@shop.test", w.opts)
	close(queries)
	n := 0
	for q := range queries {
		n++
		if strings.Contains(q, "shop.test") || strings.Contains(q, "me%40") {
			t.Errorf("plain-HTTP request carried %q", q)
		}
	}
	if n != 2 {
		t.Errorf("%d plain-HTTP requests, want 2", n)
	}
}

// TLS 1.0 and 1.1 are described but never carry a password.
func TestOutdatedTLSGetsNoLogin(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	cert := e.cert(t, detecttest.CertOpts{})
	// A TLS 1.1-only server: its own listener with MaxVersion 1.1.
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.Write([]byte("220 old.example.test ESMTP\r\n"))
				c.Read(make([]byte, 4096))
			}()
		}
	}()
	e.net.Route(testHost, 465, ln.Addr().String())
	r := e.opts.ProbeSMTP(context.Background(), ProbeKey{SMTP, testHost, 465, SecurityTLS}, testLogin(hostilePass))
	if r.Diagnosis.Kind != KindTLSOutdated || r.TLSVersion != "TLS 1.1" || r.LoginAttempts != 0 {
		t.Fatalf("kind %s tls %q logins %d (%s)", r.Diagnosis.Kind, r.TLSVersion, r.LoginAttempts, r.Error)
	}
}

// An accepted certificate is bound to its server: the same fingerprint does not unlock
// another host, and a bare fingerprint only the address's own domain.
func TestAcceptedCertificateIsBoundToItsServer(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	cert := e.cert(t, detecttest.CertOpts{SelfSigned: true}, testHost, "smtp.other.test")
	s := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "tls", Cert: cert, Mechanisms: []string{"PLAIN"}, Users: map[string]string{testUser: testPass}})
	e.net.Route(testHost, 465, s.Addr)
	e.net.Route("smtp.other.test", 465, s.Addr)
	fp := e.opts.ProbeSMTP(context.Background(), ProbeKey{SMTP, testHost, 465, SecurityTLS}, testLogin(testPass)).Cert.SHA256
	for _, tc := range []struct {
		accept []string
		domain string
		host   string
		want   bool
	}{
		{[]string{testHost + "=" + fp}, "", testHost, true},
		{[]string{testHost + "=" + fp}, "", "smtp.other.test", false},
		{[]string{fp}, "example.test", testHost, true},
		{[]string{fp}, "example.test", "smtp.other.test", false},
	} {
		o := e.opts.engine()
		o.AcceptFingerprints, o.acceptDomain = tc.accept, tc.domain
		r := o.ProbeSMTP(context.Background(), ProbeKey{SMTP, tc.host, 465, SecurityTLS}, testLogin(testPass))
		if r.Verified != tc.want {
			t.Errorf("accept %v (domain %q) on %s: verified %v, want %v (%s)", tc.accept, tc.domain, tc.host, r.Verified, tc.want, r.Status)
		}
	}
}

// A document naming many servers and ports cannot turn a run into a port scan: at most
// maxHostsPerProtocol hosts per protocol, maxExtraPorts non-standard ports per host and
// maxCells cells in all.
func TestMatrixCaps(t *testing.T) {
	t.Parallel()
	var cands []Candidate
	for h := 0; h < 50; h++ {
		for port := 1000; port < 1100; port++ {
			for _, p := range []Protocol{SMTP, IMAP, POP3} {
				cands = append(cands, Candidate{Protocol: p, Host: fmt.Sprintf("h%d.example.test", h), Port: port, Security: SecurityStartTLS})
			}
		}
	}
	cells := Options{}.engine().matrix(cands)
	if len(cells) > maxCells {
		t.Fatalf("%d cells, cap %d", len(cells), maxCells)
	}
	hosts := map[Protocol]map[string]bool{}
	extra := map[string]map[int]bool{}
	for _, c := range cells {
		if hosts[c.key.Protocol] == nil {
			hosts[c.key.Protocol] = map[string]bool{}
		}
		hosts[c.key.Protocol][c.key.Host] = true
		if !isStandardPort(c.key.Protocol, c.key.Port) {
			k := string(c.key.Protocol) + c.key.Host
			if extra[k] == nil {
				extra[k] = map[int]bool{}
			}
			extra[k][c.key.Port] = true
		}
	}
	for p, hs := range hosts {
		if len(hs) > maxHostsPerProtocol {
			t.Errorf("%s: %d hosts", p, len(hs))
		}
	}
	for k, ports := range extra {
		if len(ports) > maxExtraPorts {
			t.Errorf("%s: %d non-standard ports", k, len(ports))
		}
	}
	standard := 0
	for _, c := range cells {
		if isStandardPort(c.key.Protocol, c.key.Port) {
			standard++
		}
	}
	if standard != 3*(12+3+3) {
		t.Errorf("%d standard cells, want all 54: extra ports pushed some out", standard)
	}
	t.Logf("15,000 candidates became %d cells, %d of them standard", len(cells), standard)
}

// A forged plain-HTTP document that names the user's own (trusted) server cannot choose
// the user names it is asked with: its names would spend the server's few rejected
// logins before the right one is tried.
func TestHostileForgedUserNamesAreNotTried(t *testing.T) {
	t.Parallel()
	w := newHostileWorld(t)
	user := "victim@shop.test"
	w.realSMTP("mail.shop.test", user)
	w.realIMAP("mail.shop.test", user)
	doc := strings.ReplaceAll(clientConfigFor("mail.shop.test", 465, "SSL", "mail.shop.test", 993, "SSL"), "%EMAILADDRESS%", "forged-name")
	addr := autoconfigServer(t, w.testEnv, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { rw.Write([]byte(doc)) }))
	w.net.Route("autoconfig.shop.test", 80, addr)
	w.net.Route("shop.test", 80, addr)
	rep := w.run(user, w.opts)
	if o, i := rep.Recommended.Outgoing, rep.Recommended.Incoming; o == nil || !o.Verified || i == nil || !i.Verified {
		t.Fatalf("recommended %+v / %+v, want both verified", o, i)
	}
	if len(rep.FailedLogins) != 0 {
		t.Errorf("rejected logins %v: a forged user name was tried", rep.FailedLogins)
	}
	for _, p := range rep.Probes {
		if p.UsernameUsed == "forged-name" {
			t.Errorf("%s:%d logged in as the forged name", p.Host, p.Port)
		}
	}
}

// A domain's own HTTPS document vouches for its servers for that domain only: another
// domain's address never shares its matrix, so its password never reaches them.
func TestHostileSharedMatrixStaysInItsDomain(t *testing.T) {
	t.Parallel()
	w := newHostileWorld(t)
	w.realSMTP("smtp.hoster.test", "alice@shop.test")
	w.realIMAP("imap.hoster.test", "alice@shop.test")
	doc := clientConfigFor("smtp.hoster.test", 465, "SSL", "imap.hoster.test", 993, "SSL")
	w.net.Route("autoconfig.shop.test", 443, autoconfigServer(t, w.testEnv,
		http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { rw.Write([]byte(doc)) }), "autoconfig.shop.test"))
	base := w.run("alice@shop.test", w.opts)
	if o := base.Recommended.Outgoing; o == nil || !o.Verified || o.Host != "smtp.hoster.test" {
		t.Fatalf("alice: outgoing %+v, want smtp.hoster.test verified (her domain's HTTPS document names it)", o)
	}
	before := w.net.TotalDials()
	opts := w.opts
	opts.Password = "bobs-own-password"
	if _, err := opts.VerifyLogin(context.Background(), "bob@evil.test", base); !errors.Is(err, ErrNotShared) {
		t.Errorf("bob@evil.test on shop.test's matrix: err = %v, want ErrNotShared", err)
	}
	if n := w.net.TotalDials() - before; n != 0 {
		t.Errorf("refusing opened %d connections", n)
	}
}
