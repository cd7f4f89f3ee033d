package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest"
)

const (
	demoUser = "me@demo.test"
	demoPass = "s3cret pass phrase"
)

func worldEnv(t *testing.T, stdin string) (Env, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	w := detecttest.StartWorld(t, "demo.test", demoUser, demoPass)
	var out, errb bytes.Buffer
	return Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Base: detect.Options{Dialer: w.Net, Resolver: w.Net, ExtraRoots: []*x509.Certificate{w.CA.Cert}, SkipNetwork: true},
	}, &out, &errb
}

func TestProbeCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		check    func(t *testing.T, out, errOut string)
	}{
		{name: "json with password", args: []string{"--password-stdin", "--json", demoUser}, stdin: demoPass + "\n", wantCode: ExitOK,
			check: func(t *testing.T, out, _ string) {
				var rep detect.Report
				if err := json.Unmarshal([]byte(out), &rep); err != nil {
					t.Fatalf("stdout is not one JSON report: %v\n%s", err, out)
				}
				o := rep.Recommended.Outgoing
				if o == nil || o.Host != "smtp.demo.test" || o.Port != 465 || o.Security != detect.SecurityTLS || !o.Verified {
					t.Errorf("outgoing = %+v", o)
				}
				if rep.Recommended.Incoming == nil || rep.Recommended.Incoming.Port != 993 {
					t.Errorf("incoming = %+v", rep.Recommended.Incoming)
				}
			}},
		{name: "flags after the address", args: []string{demoUser, "--json", "--password-stdin"}, stdin: demoPass, wantCode: ExitOK},
		{name: "wrong password", args: []string{"--password-stdin", "--json", demoUser}, stdin: "nope\n", wantCode: ExitNotFound},
		{name: "no password: unverified but reachable", args: []string{demoUser}, wantCode: ExitOK,
			check: func(t *testing.T, out, _ string) {
				if !strings.Contains(out, "UNVERIFIED") || !strings.Contains(out, "Every combination tried") {
					t.Errorf("human output:\n%s", out)
				}
			}},
		{name: "bad address", args: []string{"not-an-address"}, wantCode: ExitBadInput,
			check: func(t *testing.T, _, errOut string) {
				if !strings.Contains(errOut, "bad email address") {
					t.Errorf("stderr = %q", errOut)
				}
			}},
		{name: "no address", args: []string{"--json"}, wantCode: ExitBadInput},
		{name: "two addresses", args: []string{demoUser, "x@y.test"}, wantCode: ExitBadInput},
		{name: "unknown flag", args: []string{"--frobnicate", demoUser}, wantCode: ExitBadInput},
		{name: "bad timeout", args: []string{"--timeout", "-1s", demoUser}, wantCode: ExitBadInput},
		{name: "bad dns", args: []string{"--dns", "nocolon", demoUser}, wantCode: ExitBadInput},
		{name: "missing ca file", args: []string{"--ca", "/nonexistent.pem", demoUser}, wantCode: ExitBadInput},
		{name: "empty password on stdin", args: []string{"--password-stdin", demoUser}, stdin: "\n", wantCode: ExitBadInput},
		{name: "send test without password", args: []string{"--send-test", demoUser}, wantCode: ExitBadInput},
		{name: "accept-cert: not a fingerprint", args: []string{"--accept-cert", "smtp.demo.test=abc", demoUser}, wantCode: ExitBadInput},
		{name: "accept-cert: not a server name", args: []string{"--accept-cert", "10.0.0.1=" + strings.Repeat("ab", 32), demoUser}, wantCode: ExitBadInput},
		{name: "accept-cert: host and fingerprint", args: []string{"--accept-cert", "smtp.demo.test=" + strings.Repeat("AB:", 31) + "AB", demoUser}, wantCode: ExitOK},
		{name: "trust-host: an IP address cannot be trusted", args: []string{"--trust-host", "192.168.1.1", demoUser}, wantCode: ExitBadInput,
			check: func(t *testing.T, _, errOut string) {
				if !strings.Contains(errOut, "not a server name") {
					t.Errorf("stderr = %q", errOut)
				}
			}},
		{name: "username with a line break", args: []string{"--username", "me\r\nQUIT", demoUser}, wantCode: ExitBadInput},
		{name: "send test", args: []string{"--send-test", "--password-stdin", "--json", demoUser}, stdin: demoPass, wantCode: ExitOK,
			check: func(t *testing.T, out, _ string) {
				var rep detect.Report
				_ = json.Unmarshal([]byte(out), &rep)
				if rep.SendTest == nil || !rep.SendTest.Found {
					t.Errorf("send test = %+v", rep.SendTest)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, out, errb := worldEnv(t, tt.stdin)
			code := Main(context.Background(), append([]string{"probe"}, tt.args...), env)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errb)
			}
			for _, s := range []string{demoPass, "czNjcmV0IHBhc3MgcGhyYXNl"} {
				if strings.Contains(out.String()+errb.String(), s) {
					t.Errorf("password form %q printed", s)
				}
			}
			if tt.check != nil {
				tt.check(t, out.String(), errb.String())
			}
		})
	}
}

// A domain whose SRV records point to another domain's servers: no login there until
// the user names them with --trust-host.
func TestProbeTrustHost(t *testing.T) {
	t.Parallel()
	w := detecttest.StartWorld(t, "demo.test", demoUser, demoPass)
	w.Net.SRV("submissions", "shop.test", "smtp.demo.test", 465)
	w.Net.SRV("imaps", "shop.test", "imap.demo.test", 993)
	base := detect.Options{Dialer: w.Net, Resolver: w.Net, ExtraRoots: []*x509.Certificate{w.CA.Cert}, SkipNetwork: true}
	run := func(args ...string) (int, *detect.Report, string) {
		var out, errb bytes.Buffer
		env := Env{Stdin: strings.NewReader(demoPass), Stdout: &out, Stderr: &errb, Base: base}
		code := Main(context.Background(), append([]string{"probe", "--password-stdin", "--username", demoUser}, args...), env)
		var rep detect.Report
		if strings.Contains(strings.Join(args, " "), "--json") {
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
		}
		return code, &rep, out.String()
	}
	code, rep, _ := run("--json", "me@shop.test")
	if code != ExitNotFound {
		t.Fatalf("without --trust-host: exit %d", code)
	}
	for _, p := range rep.Probes {
		if p.Host == "smtp.demo.test" && p.Port == 465 && p.Security == detect.SecurityTLS && p.Status != detect.StatusUntrustedHost {
			t.Errorf("465: %s", p.Status)
		}
	}
	_, _, human := run("me@shop.test")
	if !strings.Contains(human, "Not trusted with a login") || !strings.Contains(human, "smtp.demo.test: A DNS service record points to it") {
		t.Errorf("human output does not explain the untrusted servers:\n%s", human)
	}
	code, rep, _ = run("--json", "--trust-host", "smtp.demo.test", "--trust-host", "imap.demo.test", "me@shop.test")
	if code != ExitOK || rep.Recommended.Outgoing == nil || !rep.Recommended.Outgoing.Verified {
		t.Fatalf("with --trust-host: exit %d, outgoing %+v", code, rep.Recommended.Outgoing)
	}
}

func TestProbeHiddenPrompt(t *testing.T) {
	t.Parallel()
	env, out, errb := worldEnv(t, "")
	env.StdinIsTerminal = true
	asked := false
	env.ReadPassword = func() (string, error) { asked = true; return demoPass, nil }
	code := Main(context.Background(), []string{"probe", "--json", demoUser}, env)
	if code != ExitOK || !asked || !strings.Contains(errb.String(), "Password for "+demoUser) {
		t.Fatalf("exit %d asked %v stderr %q", code, asked, errb)
	}
	if strings.Contains(out.String(), demoPass) {
		t.Fatal("password in output")
	}
}

func TestProbeCAFlag(t *testing.T) {
	t.Parallel()
	env, _, errb := worldEnv(t, demoPass)
	// Drop the injected roots and trust the world's CA through --ca instead.
	w := detecttest.StartWorld(t, "demo.test", demoUser, demoPass)
	env.Base = detect.Options{Dialer: w.Net, Resolver: w.Net, SkipNetwork: true, Timeout: 2 * time.Second}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, w.CA.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := Main(context.Background(), []string{"probe", "--password-stdin", "--json", demoUser}, env); code != ExitNotFound {
		t.Fatalf("without --ca: exit %d, want 1 (untrusted certificates)", code)
	}
	env.Stdin = strings.NewReader(demoPass)
	if code := Main(context.Background(), []string{"probe", "--password-stdin", "--json", "--ca", caFile, demoUser}, env); code != ExitOK {
		t.Fatalf("with --ca: exit %d\n%s", code, errb)
	}
}

// --dns sets the one way DNS enters the engine, the resolver: the dialer stays the
// engine's own (every address, happy eyeballs, the run's host cache), as without the flag.
func TestDNSFlagReplacesOnlyTheResolver(t *testing.T) {
	t.Parallel()
	var opts detect.Options
	if err := applyNetworkFlags(&opts, "127.0.0.1:5353", ""); err != nil {
		t.Fatal(err)
	}
	if opts.Resolver == nil || opts.Dialer != nil || opts.IPDialer != nil {
		t.Fatalf("resolver %v dialer %v ipdialer %v", opts.Resolver, opts.Dialer, opts.IPDialer)
	}
}
