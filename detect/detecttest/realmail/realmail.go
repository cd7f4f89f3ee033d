//go:build linux

// Package realmail starts real Postfix, Dovecot and dnsmasq on loopback with generated
// configurations and certificates, for integration tests of the probe engine. Each
// instance lives in its own folder and is stopped by PID when the test ends.
package realmail

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

// Setup selects a server configuration.
type Setup string

// The two setups the integration tests cover.
const (
	// Modern: 465 implicit TLS and 587 STARTTLS with PLAIN/LOGIN only after TLS,
	// IMAP 993/143 STARTTLS, POP3 995/110 STLS, no clear-text passwords.
	Modern Setup = "modern"
	// Legacy: no TLS at all; SMTP, IMAP and POP3 offer CRAM-MD5 beside PLAIN/LOGIN.
	Legacy Setup = "legacy"
)

// Config describes one instance.
type Config struct {
	Setup  Setup
	Domain string            // e.g. "modern.test"
	Users  map[string]string // local part → password
	// OAuth2, when set, adds XOAUTH2 and OAUTHBEARER to Dovecot, and through its SASL
	// to Postfix, beside the password mechanisms.
	OAuth2 *OAuth2
	// Autodiscover publishes the servers through Microsoft Autodiscover (POX) instead of
	// the mail SRV records: an HTTPS server for autodiscover.<domain> (certificate from
	// the instance's CA) found through SRV _autodiscover._tcp.<domain>.
	Autodiscover bool
}

// OAuth2 configures Dovecot's oauth2 passdb: bearer tokens are validated by RFC 7662
// introspection at an authorization server, and the token's "email" is the login.
type OAuth2 struct {
	// IntrospectionURL is the introspection endpoint; user information in it
	// (https://id:secret@host/…) is sent as HTTP Basic authentication.
	IntrospectionURL string
	// CAFile is a PEM file of the CA the introspection endpoint's certificate is
	// checked against (copied into the instance's folder).
	CAFile string
	// Scope, when set, is a scope every token must carry.
	Scope string
	// OpenIDConfigurationURL is named in RFC 7628 failure responses.
	OpenIDConfigurationURL string
}

// Servers is a running instance.
type Servers struct {
	Dir  string
	Host string // mail.<domain>
	CA   *detecttest.CA
	// CAFile is the CA certificate as a PEM file (for --ca).
	CAFile string
	// Ports maps a service name (smtp, submission, submissions, imap, imaps, pop3, pop3s)
	// to the loopback port it listens on; absent services are not offered.
	Ports map[string]int
	// DNS is dnsmasq's HOST:PORT; it answers A, MX and SRV records for the domain.
	DNS string
	// AutodiscoverPort is the Autodiscover HTTPS server's port (Config.Autodiscover).
	AutodiscoverPort int
	// Startup is how long starting everything took.
	Startup time.Duration
}

var binaries = []string{"postfix", "postconf", "dovecot", "dnsmasq"}

// Available reports whether the servers can run here, and why not.
func Available() (bool, string) {
	for _, b := range binaries {
		if _, err := lookPath(b); err != nil {
			return false, b + " is not installed (apt-get install postfix dovecot-imapd dovecot-pop3d dnsmasq-base)"
		}
	}
	if os.Geteuid() != 0 {
		return false, "Postfix and Dovecot need root to start"
	}
	return true, ""
}

func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

// Start starts an instance. Without the servers it skips the test, except on CI
// (CI=true), where their absence fails it.
func Start(t *testing.T, cfg Config) *Servers {
	t.Helper()
	if ok, why := Available(); !ok {
		if os.Getenv("CI") == "true" {
			t.Fatalf("real mail servers unavailable on CI: %s", why)
		}
		t.Skip("real mail servers unavailable: " + why)
	}
	start := time.Now()
	dir, err := os.MkdirTemp("", "realmail-"+string(cfg.Setup)+"-")
	if err != nil {
		t.Fatal(err)
	}
	// The mail delivery and IMAP processes run as nobody and must traverse the folder.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			dumpLogs(t, dir)
		}
		os.RemoveAll(dir)
	})
	s := &Servers{Dir: dir, Host: "mail." + cfg.Domain, Ports: map[string]int{}}
	s.CA = detecttest.NewCA(t, cfg.Domain+" test CA")
	cert := s.CA.Leaf(t, detecttest.CertOpts{}, s.Host)
	certPEM, keyPEM := detecttest.CertPEM(t, cert)
	s.CAFile = filepath.Join(dir, "ca.pem")
	mustWrite(t, s.CAFile, s.CA.PEM(), 0o644)
	mustWrite(t, filepath.Join(dir, "cert.pem"), certPEM, 0o644)
	mustWrite(t, filepath.Join(dir, "key.pem"), keyPEM, 0o600)

	services := []string{"smtp", "submission", "imap", "pop3"}
	if cfg.Setup == Modern {
		services = append(services, "submissions", "imaps", "pop3s")
	}
	for _, svc := range services {
		s.Ports[svc] = freePort(t)
	}
	s.DNS = "127.0.0.1:" + strconv.Itoa(freeUDPPort(t))
	if cfg.Autodiscover {
		s.startAutodiscover(t, cfg)
	}

	s.startDovecot(t, cfg)
	s.startPostfix(t, cfg)
	s.startDNS(t, cfg)
	for _, svc := range services {
		waitPort(t, s, svc)
	}
	s.Startup = time.Since(start)
	return s
}

func mustWrite(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// freeUDPPort finds a port free for both UDP and TCP (dnsmasq listens on both).
func freeUDPPort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 20; i++ {
		p := freePort(t)
		c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			c.Close()
			return p
		}
	}
	t.Fatal("no free UDP port")
	return 0
}

func waitPort(t *testing.T, s *Servers, svc string) {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(s.Ports[svc])
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s (%s) never accepted connections", svc, addr)
}

// run starts a long-running child and stops it by PID when the test ends.
func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	path, err := lookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, name+".out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		// The whole process group: Postfix's and Dovecot's masters have children.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logf.Close()
	})
}

// stopByPIDFile stops the process whose PID a daemon wrote into path: SIGTERM, and
// SIGKILL if it is still there after 5 seconds. A missing file means it never started.
func stopByPIDFile(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

func nobody(t *testing.T) (uid, gid string) {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	return u.Uid, u.Gid
}

func (s *Servers) startDovecot(t *testing.T, cfg Config) {
	t.Helper()
	dd := filepath.Join(s.Dir, "dovecot")
	for _, d := range []string{dd, filepath.Join(dd, "run"), filepath.Join(dd, "state"), filepath.Join(s.Dir, "mail")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	uid, gid := nobody(t)
	mustChown(t, filepath.Join(s.Dir, "mail"), uid, gid)
	var users bytes.Buffer
	for local, pass := range cfg.Users {
		addr := local + "@" + cfg.Domain
		fmt.Fprintf(&users, "%s:{PLAIN}%s:%s:%s::%s\n", addr, pass, uid, gid, filepath.Join(s.Dir, "mail", cfg.Domain, local))
	}
	mustWrite(t, filepath.Join(dd, "users"), users.Bytes(), 0o644)

	modern := cfg.Setup == Modern
	passwordMechs := map[bool]string{true: "plain login scram-sha-1 scram-sha-256", false: "plain login cram-md5"}[modern]
	mechs, passdbs, passwdMechs := passwordMechs, "", ""
	if cfg.OAuth2 != nil {
		mechs, passdbs = s.oauth2Dovecot(t, cfg.OAuth2, dd, passwordMechs)
		passwdMechs = "  mechanisms = " + passwordMechs + "\n"
	}
	var c strings.Builder
	fmt.Fprintf(&c, `base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
info_log_path = %[1]s/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
mail_location = maildir:%[2]s/mail/%%d/%%n
first_valid_uid = 1
auth_mechanisms = %[3]s
disable_plaintext_auth = %[4]s
%[5]spassdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/users
%[6]s}
userdb {
  driver = passwd-file
  args = username_format=%%u %[1]s/users
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
`, dd, s.Dir, mechs, map[bool]string{true: "yes", false: "no"}[modern], passdbs, passwdMechs)
	if modern {
		fmt.Fprintf(&c, `ssl = required
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
`, s.Dir)
		if _, err := os.Stat("/usr/share/dovecot/dh.pem"); err == nil {
			c.WriteString("ssl_dh = </usr/share/dovecot/dh.pem\n")
		}
		fmt.Fprintf(&c, `service imap-login {
  inet_listener imap {
    port = %d
  }
  inet_listener imaps {
    port = %d
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %d
  }
  inet_listener pop3s {
    port = %d
    ssl = yes
  }
}
`, s.Ports["imap"], s.Ports["imaps"], s.Ports["pop3"], s.Ports["pop3s"])
	} else {
		fmt.Fprintf(&c, `ssl = no
service imap-login {
  inet_listener imap {
    port = %d
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %d
  }
  inet_listener pop3s {
    port = 0
  }
}
`, s.Ports["imap"], s.Ports["pop3"])
	}
	conf := filepath.Join(dd, "dovecot.conf")
	mustWrite(t, conf, []byte(c.String()), 0o644)
	run(t, s.Dir, "dovecot", "-F", "-c", conf)
}

// oauth2Dovecot writes the oauth2 passdb's settings and returns the mechanisms and
// the passdb blocks that go before the passwd-file passdb: the oauth2 passdb answers
// XOAUTH2 and OAUTHBEARER, the passwd-file passdb keeps the password mechanisms.
func (s *Servers) oauth2Dovecot(t *testing.T, o *OAuth2, dd, passwordMechs string) (mechs, passdbs string) {
	t.Helper()
	var ext strings.Builder
	fmt.Fprintf(&ext, "introspection_mode = post\nintrospection_url = %s\n", o.IntrospectionURL)
	ext.WriteString("force_introspection = yes\nusername_attribute = email\nactive_attribute = active\nactive_value = true\n")
	if o.Scope != "" {
		fmt.Fprintf(&ext, "scope = %s\n", o.Scope)
	}
	if o.OpenIDConfigurationURL != "" {
		fmt.Fprintf(&ext, "openid_configuration_url = %s\n", o.OpenIDConfigurationURL)
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			t.Fatal(err)
		}
		ca := filepath.Join(dd, "oauth2-ca.pem")
		mustWrite(t, ca, pem, 0o644)
		fmt.Fprintf(&ext, "tls_ca_cert_file = %s\n", ca)
	}
	ext.WriteString("timeout_msecs = 10000\n")
	conf := filepath.Join(dd, "oauth2.conf.ext")
	// The file holds the introspection credentials.
	mustWrite(t, conf, []byte(ext.String()), 0o600)
	passdbs = fmt.Sprintf(`auth_verbose = yes
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = %s
}
`, conf)
	return passwordMechs + " xoauth2 oauthbearer", passdbs
}

func mustChown(t *testing.T, path, uid, gid string) {
	t.Helper()
	u, _ := strconv.Atoi(uid)
	g, _ := strconv.Atoi(gid)
	if err := os.Chown(path, u, g); err != nil {
		t.Fatal(err)
	}
}

func (s *Servers) startPostfix(t *testing.T, cfg Config) {
	t.Helper()
	pd := filepath.Join(s.Dir, "postfix")
	for _, d := range []string{pd, filepath.Join(s.Dir, "queue"), filepath.Join(s.Dir, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pu, err := user.Lookup("postfix")
	if err != nil {
		t.Fatal(err)
	}
	mustChown(t, filepath.Join(s.Dir, "data"), pu.Uid, pu.Gid)
	uid, gid := nobody(t)
	var vmailbox bytes.Buffer
	for local := range cfg.Users {
		fmt.Fprintf(&vmailbox, "%s@%s %s/%s/\n", local, cfg.Domain, cfg.Domain, local)
	}
	mustWrite(t, filepath.Join(pd, "vmailbox"), vmailbox.Bytes(), 0o644)
	modern := cfg.Setup == Modern
	main := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = mail.%[2]s
mydomain = %[2]s
myorigin = %[2]s
mydestination =
mynetworks =
virtual_mailbox_domains = %[2]s
virtual_mailbox_base = %[1]s/mail
virtual_mailbox_maps = texthash:%[3]s/vmailbox
virtual_uid_maps = static:%[4]s
virtual_gid_maps = static:%[5]s
virtual_minimum_uid = 1
maillog_file = %[1]s/postfix.log
maillog_file_prefixes = /var, /dev/stdout, %[1]s
smtpd_banner = $myhostname ESMTP
smtpd_sasl_type = dovecot
smtpd_sasl_path = %[1]s/dovecot/run/auth-postfix
smtpd_sasl_auth_enable = yes
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = permit_sasl_authenticated, reject_unauth_destination
broken_sasl_auth_clients = no
biff = no
`, s.Dir, cfg.Domain, pd, uid, gid)
	if modern {
		main += fmt.Sprintf(`smtpd_tls_cert_file = %[1]s/cert.pem
smtpd_tls_key_file = %[1]s/key.pem
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
`, s.Dir)
	} else {
		main += "smtpd_tls_security_level = none\n"
	}
	mustWrite(t, filepath.Join(pd, "main.cf"), []byte(main), 0o644)

	dist, err := os.ReadFile("/usr/share/postfix/master.cf.dist")
	if err != nil {
		dist, err = os.ReadFile("/etc/postfix/master.cf")
		if err != nil {
			t.Fatalf("no master.cf template: %v", err)
		}
	}
	var master strings.Builder
	for _, line := range strings.Split(string(dist), "\n") {
		if strings.HasPrefix(line, "smtp      inet") || strings.HasPrefix(line, "smtp inet") {
			continue // replaced by the loopback listeners below
		}
		master.WriteString(line + "\n")
	}
	fmt.Fprintf(&master, "127.0.0.1:%d inet n - n - - smtpd\n", s.Ports["smtp"])
	if modern {
		fmt.Fprintf(&master, "127.0.0.1:%d inet n - n - - smtpd -o smtpd_tls_security_level=encrypt\n", s.Ports["submission"])
		fmt.Fprintf(&master, "127.0.0.1:%d inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n", s.Ports["submissions"])
	} else {
		fmt.Fprintf(&master, "127.0.0.1:%d inet n - n - - smtpd\n", s.Ports["submission"])
	}
	mustWrite(t, filepath.Join(pd, "master.cf"), []byte(master.String()), 0o644)
	if out, err := exec.Command("postconf", "-c", pd, "-F", "*/*/chroot = n").CombinedOutput(); err != nil {
		t.Fatalf("postconf: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "postfix", "-c", pd, "check").CombinedOutput(); err != nil {
		t.Fatalf("postfix check: %v\n%s", err, out)
	}
	run(t, s.Dir, "postfix", "-c", pd, "start-fg")
	// Postfix's master makes itself a session leader (setsid), so the process-group kill
	// of run does not reach it: stop it by the PID it writes (it stops its children).
	t.Cleanup(func() { stopByPIDFile(filepath.Join(s.Dir, "queue", "pid", "master.pid")) })
}

func (s *Servers) startDNS(t *testing.T, cfg Config) {
	t.Helper()
	_, port, _ := net.SplitHostPort(s.DNS)
	args := []string{
		"--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
		"--listen-address=127.0.0.1", "--port=" + port, "--user=root", "--pid-file=" + filepath.Join(s.Dir, "dnsmasq.pid"),
		"--log-facility=" + filepath.Join(s.Dir, "dnsmasq.log"),
		"--host-record=" + s.Host + ",127.0.0.1",
		"--mx-host=" + cfg.Domain + "," + s.Host + ",10",
	}
	srv := map[string]string{"submission": "_submission", "submissions": "_submissions", "imap": "_imap", "imaps": "_imaps", "pop3": "_pop3", "pop3s": "_pop3s"}
	for svc, label := range srv {
		if p, ok := s.Ports[svc]; ok && !cfg.Autodiscover {
			args = append(args, fmt.Sprintf("--srv-host=%s._tcp.%s,%s,%d", label, cfg.Domain, s.Host, p))
		}
	}
	if s.AutodiscoverPort != 0 {
		host := "autodiscover." + cfg.Domain
		args = append(args, "--host-record="+host+",127.0.0.1",
			fmt.Sprintf("--srv-host=_autodiscover._tcp.%s,%s,%d", cfg.Domain, host, s.AutodiscoverPort))
	}
	run(t, s.Dir, "dnsmasq", args...)
	deadline := time.Now().Add(10 * time.Second)
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, s.DNS)
	}}
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, err := r.LookupHost(ctx, s.Host)
		cancel()
		if err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("dnsmasq never answered")
}

func dumpLogs(t *testing.T, dir string) {
	for _, f := range []string{"postfix.log", "postfix.out", "dovecot/dovecot.log", "dovecot.out", "dnsmasq.out"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err == nil && len(b) > 0 {
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("--- %s ---\n%s", f, b)
		}
	}
}

// startAutodiscover serves the instance's settings as an Autodiscover POX answer on
// 127.0.0.1 (HTTPS, certificate for autodiscover.<domain>), for the login name the
// request names.
func (s *Servers) startAutodiscover(t *testing.T, cfg Config) {
	t.Helper()
	cert := s.CA.Leaf(t, detecttest.CertOpts{}, "autodiscover."+cfg.Domain)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		email := ""
		if i, j := bytes.Index(body, []byte("<EMailAddress>")), bytes.Index(body, []byte("</EMailAddress>")); i >= 0 && j > i {
			email = html.EscapeString(string(body[i+len("<EMailAddress>") : j]))
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		proto := func(typ string, port int, ssl, enc string) string {
			return fmt.Sprintf("<Protocol><Type>%s</Type><Server>%s</Server><Port>%d</Port><LoginName>%s</LoginName><SPA>off</SPA><SSL>%s</SSL><Encryption>%s</Encryption><AuthRequired>on</AuthRequired></Protocol>",
				typ, s.Host, port, email, ssl, enc)
		}
		var blocks []string
		if p, ok := s.Ports["imaps"]; ok {
			blocks = append(blocks, proto("IMAP", p, "on", "SSL"))
		}
		if p, ok := s.Ports["pop3s"]; ok {
			blocks = append(blocks, proto("POP3", p, "on", "SSL"))
		}
		if p, ok := s.Ports["submissions"]; ok {
			blocks = append(blocks, proto("SMTP", p, "on", "SSL"))
		}
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
<Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
<Account><AccountType>email</AccountType><Action>settings</Action>%s</Account></Response></Autodiscover>`, strings.Join(blocks, ""))
	}))
	srv.TLS = detecttest.ServerTLS(cert)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	s.AutodiscoverPort, _ = strconv.Atoi(port)
}
