//go:build linux

package wincompare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest"
	"github.com/mailsetup/mailsetup/detect/detecttest/realmail"
)

// The harness (scripts/windows-smoke.sh) names the two binaries; wine runs the first
// with the WINEPREFIX and DLL override it set up.
const (
	envWindowsExe = "MAILSETUP_WINDOWS_EXE"
	envLinuxBin   = "MAILSETUP_LINUX_BIN"
	envReportDir  = "MAILSETUP_COMPARE_DIR" // where both reports of each case are kept
)

// binaries returns the Windows exe and the Linux binary, or skips the test.
func binaries(t *testing.T) (exe, bin string) {
	t.Helper()
	exe, bin = os.Getenv(envWindowsExe), os.Getenv(envLinuxBin)
	if exe == "" || bin == "" {
		t.Skipf("%s and %s are not set: `make windows-smoke` runs this test under wine", envWindowsExe, envLinuxBin)
	}
	if _, err := exec.LookPath("wine"); err != nil {
		t.Fatalf("%s is set but wine is not installed: %v", envWindowsExe, err)
	}
	return exe, bin
}

// winPath is how a Windows program under wine names a file of this computer (drive Z:
// is the root of the Linux file system in every wine prefix).
func winPath(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return `Z:` + strings.ReplaceAll(abs, "/", `\`)
}

// run is one run of one binary: its exit status and both output streams.
type run struct {
	code           int
	stdout, stderr []byte
	took           time.Duration
}

// runBinary runs bin (through wine when windows) with args and stdin, within 2 minutes.
func runBinary(t *testing.T, windows bool, bin string, stdin string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := bin
	if windows {
		name, args = "wine", append([]string{bin}, args...)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := run{stdout: out.Bytes(), stderr: errb.Bytes(), took: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		r.code = exit.ExitCode()
	default:
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, errb.String())
	}
	return r
}

// probeCase is one probe both binaries make against the same servers.
type probeCase struct {
	name     string
	address  string
	password string // "" for no --password-stdin
	dns      string
	caFile   string // "" for no --ca
	extra    []string
	// volatile, when set, replaces ReportVolatile for this case.
	volatile *Volatile
	check    func(t *testing.T, rep *detect.Report)
}

// compareProbe runs `probe --json` with both binaries and fails on any difference
// apart from ReportVolatile, on a different exit status, and on the case's own check.
func compareProbe(t *testing.T, exe, bin string, c probeCase) {
	t.Helper()
	args := func(windows bool) []string {
		a := []string{"probe", "--json", "--dns", c.dns, "--timeout", "5s"}
		if c.password != "" {
			a = append(a, "--password-stdin")
		}
		if c.caFile != "" {
			ca := c.caFile
			if windows {
				ca = winPath(t, ca)
			}
			a = append(a, "--ca", ca)
		}
		return append(append(a, c.extra...), c.address)
	}
	stdin := ""
	if c.password != "" {
		stdin = c.password + "\n"
	}
	lin := runBinary(t, false, bin, stdin, args(false)...)
	win := runBinary(t, true, exe, stdin, args(true)...)
	t.Logf("%s: linux %v (exit %d), windows under wine %v (exit %d)", c.name, lin.took.Round(time.Millisecond), lin.code, win.took.Round(time.Millisecond), win.code)
	if dir := os.Getenv(envReportDir); dir != "" {
		for suffix, data := range map[string][]byte{"linux.json": lin.stdout, "windows.json": win.stdout} {
			if err := os.WriteFile(filepath.Join(dir, c.name+"."+suffix), data, 0o644); err != nil {
				t.Error(err)
			}
		}
	}
	var rep detect.Report
	if err := json.Unmarshal(win.stdout, &rep); err != nil {
		t.Fatalf("windows: no JSON report (exit %d): %v\nstdout: %.2000s\nstderr: %.2000s", win.code, err, win.stdout, win.stderr)
	}
	if lin.code != win.code {
		t.Errorf("exit status: linux %d, windows %d", lin.code, win.code)
	}
	v := ReportVolatile
	if c.volatile != nil {
		v = *c.volatile
	}
	diffs, err := Diff(lin.stdout, win.stdout, v)
	if err != nil {
		t.Fatalf("linux report: %v\n%.2000s", err, lin.stderr)
	}
	for _, d := range diffs {
		t.Errorf("linux vs windows: %s", d)
	}
	if c.password != "" && (bytes.Contains(win.stdout, []byte(c.password)) || bytes.Contains(win.stderr, []byte(c.password))) {
		t.Error("the password is in the Windows binary's output")
	}
	if c.check != nil {
		c.check(t, &rep)
	}
}

// TestProbeWindowsMatchesLinux runs `probe --json` of MailSetup.exe (under wine) and of
// the Linux binary against the same in-process servers, published on a loopback
// address with a DNS server of their own, and compares the reports field by field.
func TestProbeWindowsMatchesLinux(t *testing.T) {
	exe, bin := binaries(t)
	const domain, address, password = "wire.example", "ann@wire.example", "Wire-ann-Pa55"
	w := detecttest.StartWorld(t, domain, address, password)
	wire, err := Publish(w, RandomLoopback())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wire.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, w.CA.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	verified := func(t *testing.T, rep *detect.Report) {
		o, in := rep.Recommended.Outgoing, rep.Recommended.Incoming
		if o == nil || !o.Verified || in == nil || !in.Verified {
			t.Errorf("windows recommended %+v / %+v, want both verified", o, in)
		}
		if st := rep.SendTest; st == nil || !st.Found {
			t.Errorf("windows send test = %+v, want the message found", st)
		}
	}
	hasStatus := func(want detect.Status) func(t *testing.T, rep *detect.Report) {
		return func(t *testing.T, rep *detect.Report) {
			for _, p := range rep.Probes {
				if p.Status == want {
					return
				}
			}
			t.Errorf("windows report has no probe %s", want)
		}
	}
	for _, c := range []probeCase{
		{name: "world-verified", address: address, password: password, caFile: caFile, extra: []string{"--send-test"}, check: verified},
		// Which of the server's two SMTP cells spends the run's few rejected logins (and
		// which one is then told "already rejected") depends on which connects first,
		// so here the cells' login details are left out; statuses, kinds, the totals of
		// failed_logins and the recommendation are still compared.
		{name: "world-wrong-password", address: address, password: "not-" + password, caFile: caFile, volatile: &loginRace, check: func(t *testing.T, rep *detect.Report) {
			hasStatus(detect.StatusAuthFailed)(t, rep)
			if len(rep.FailedLogins) == 0 {
				t.Error("windows report counts no failed logins")
			}
		}},
		{name: "world-no-password", address: address, caFile: caFile, check: hasStatus(detect.StatusRefused)},
		{name: "world-unknown-ca", address: address, password: password, check: hasStatus(detect.StatusCertInvalid)},
		{name: "world-pop3", address: address, password: password, caFile: caFile, extra: []string{"--pop3"}, check: func(t *testing.T, rep *detect.Report) {
			if in := rep.Recommended.Incoming; in == nil || in.Protocol != detect.POP3 || !in.Verified {
				t.Errorf("windows incoming = %+v, want POP3 verified", in)
			}
		}},
		{name: "unknown-domain", address: "bob@nowhere.example", check: func(t *testing.T, rep *detect.Report) {
			if len(rep.Probes) != 0 || rep.Recommended.Outgoing != nil || rep.Recommended.Incoming != nil {
				t.Errorf("windows: %d probes, recommended %+v, want none for a domain without servers", len(rep.Probes), rep.Recommended)
			}
		}},
	} {
		c.dns = wire.DNS.Addr
		t.Run(c.name, func(t *testing.T) { compareProbe(t, exe, bin, c) })
	}
}

// loginRace is ReportVolatile without the per-cell login details, for runs where two
// cells of one server race for the capped login attempts.
var loginRace = Volatile{
	// "notices" is the structured twin of "explanation" (and of warnings, which stay compared).
	Keys:        append([]string{"auth_used", "username_used", "login_attempts", "error", "transcript", "explanation", "notices"}, ReportVolatile.Keys...),
	Paths:       ReportVolatile.Paths,
	Masks:       ReportVolatile.Masks,
	Transcripts: ReportVolatile.Transcripts,
}

// TestProbeWindowsMatchesLinuxRealServers is the same comparison against real Postfix
// and Dovecot (realmail): SCRAM, CRAM-MD5, STARTTLS and STLS as real servers speak them.
func TestProbeWindowsMatchesLinuxRealServers(t *testing.T) {
	exe, bin := binaries(t)
	for _, setup := range []realmail.Setup{realmail.Modern, realmail.Legacy} {
		t.Run(string(setup), func(t *testing.T) {
			domain := string(setup) + ".test"
			pass := "Real-" + string(setup) + "-Pa55"
			s := realmail.Start(t, realmail.Config{Setup: setup, Domain: domain, Users: map[string]string{"alice": pass}})
			c := probeCase{name: "real-" + string(setup), address: "alice@" + domain, password: pass, dns: s.DNS, caFile: s.CAFile,
				check: func(t *testing.T, rep *detect.Report) {
					if o, in := rep.Recommended.Outgoing, rep.Recommended.Incoming; o == nil || !o.Verified || in == nil || !in.Verified {
						t.Errorf("windows recommended %+v / %+v, want both verified", o, in)
					}
				}}
			switch setup {
			case realmail.Modern:
				c.extra = []string{"--send-test"}
			case realmail.Legacy:
				// No TLS at all: logins need the user's consent (docs/SECURITY.md).
				c.extra = []string{"--allow-plaintext"}
			}
			compareProbe(t, exe, bin, c)
		})
	}
}

// TestNetcheckWindows runs `netcheck --json` of both binaries with DNS sent to a server
// of the test (so nothing outside this computer is asked): the Windows one reads its
// DNS servers from GetAdaptersAddresses, which wine fills from this computer's
// resolvers, so the two lists must name the same servers; the verdicts must agree.
func TestNetcheckWindows(t *testing.T) {
	exe, bin := binaries(t)
	dns, err := NewDNSServer(Zone{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dns.Close)
	lin := runBinary(t, false, bin, "", "netcheck", "--json", "--dns", dns.Addr)
	win := runBinary(t, true, exe, "", "netcheck", "--json", "--dns", dns.Addr)
	var ln, wn detect.Network
	if err := json.Unmarshal(lin.stdout, &ln); err != nil {
		t.Fatalf("linux netcheck: %v\n%s", err, lin.stderr)
	}
	if err := json.Unmarshal(win.stdout, &wn); err != nil {
		t.Fatalf("windows netcheck: %v\n%.2000s\n%.2000s", err, win.stdout, win.stderr)
	}
	t.Logf("windows netcheck (%v): dns servers %q, local addresses %q, ipv6 %q, port 25 %s", win.took.Round(time.Millisecond), wn.DNSServers, wn.LocalAddresses, wn.IPv6, wn.Port25)
	t.Logf("linux netcheck: dns servers %q, local addresses %q", ln.DNSServers, ln.LocalAddresses)
	if len(wn.DNSServers) == 0 {
		t.Error("windows: no DNS servers from GetAdaptersAddresses")
	}
	for _, s := range wn.DNSServers {
		if _, err := netip.ParseAddr(s); err != nil {
			t.Errorf("windows DNS server %q is not an address: %v", s, err)
		}
	}
	if got, want := fmt.Sprint(sortedSet(wn.DNSServers)), fmt.Sprint(sortedSet(ln.DNSServers)); got != want {
		t.Errorf("windows DNS servers %s, want this computer's resolvers %s", got, want)
	}
	if len(wn.LocalAddresses) == 0 {
		t.Error("windows: no local addresses")
	}
	for _, a := range wn.LocalAddresses {
		if _, err := netip.ParsePrefix(a); err != nil {
			if _, err := netip.ParseAddr(a); err != nil {
				t.Errorf("windows local address %q is neither an address nor a prefix", a)
			}
		}
	}
	diffs, err := Diff(lin.stdout, win.stdout, Volatile{Keys: ReportVolatile.Keys,
		Paths: []string{"local_addresses", "dns_servers", "gateway", "ipv6"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("netcheck linux vs windows: %s", d)
	}
}

// sortedSet returns the distinct values of s, sorted.
func sortedSet(s []string) []string {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	out := make([]string, 0, len(m))
	for v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}
