//go:build linux

package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest/realmail"
)

// The traveler test: real Postfix and Dovecot (on loopback, as the other integration
// tests start them) are reached from two network namespaces, "home" and "hotel", each
// joined to this namespace by a veth pair whose far end is its default gateway. A small
// forwarder in this namespace maps the standard mail ports of the gateway address to
// the servers' loopback ports. The hotel drops outgoing port 25 with iptables. A
// Thunderbird profile sends through port 25 with STARTTLS; `mailsetup check` runs as a
// helper process inside each namespace.

const checkHelperEnv = "MAILSETUP_CHECK_NETNS_HELPER"

// TestNetnsHelperCheckCurrent is not a test: with MAILSETUP_CHECK_NETNS_HELPER=1 it runs
// `mailsetup check` with the arguments in CHECK_ARGS (tab-separated) and a resolver
// that knows only the test domain, and prints the JSON result.
func TestNetnsHelperCheckCurrent(t *testing.T) {
	if os.Getenv(checkHelperEnv) != "1" {
		t.Skip("helper process for TestTravelerRealServers")
	}
	r := staticResolver{domain: os.Getenv("DOMAIN"), host: os.Getenv("MAILHOST"), ip: os.Getenv("MAILIP")}
	env := Env{Stdin: strings.NewReader(os.Getenv("PASS") + "\n"), Stdout: os.Stdout, Stderr: os.Stderr,
		Base: detect.Options{Resolver: r, CaptivePortalURL: "off"}}
	code := Main(context.Background(), strings.Split(os.Getenv("CHECK_ARGS"), "\t"), env)
	fmt.Fprintf(os.Stderr, "exit %d\n", code)
}

// staticResolver answers for the test domain only: its MX and its mail host.
type staticResolver struct{ domain, host, ip string }

func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (r staticResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if strings.EqualFold(strings.TrimSuffix(host, "."), r.host) {
		return []string{r.ip}, nil
	}
	return nil, notFound(host)
}

func (r staticResolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	if strings.EqualFold(strings.TrimSuffix(name, "."), r.domain) {
		return []*net.MX{{Host: r.host + ".", Pref: 10}}, nil
	}
	return nil, notFound(name)
}

func (r staticResolver) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	return "", nil, notFound("_" + service + "._" + proto + "." + name)
}

func netnsReady() string {
	if os.Geteuid() != 0 {
		return "needs root to create network namespaces"
	}
	for _, b := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(b); err != nil {
			return b + " is not installed"
		}
	}
	return ""
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// clientNS makes a namespace joined to this one by a veth pair: gw (this side) is its
// default gateway, ip its own address.
func clientNS(t *testing.T, name, gw, ip string) string {
	t.Helper()
	b := make([]byte, 2)
	rand.Read(b)
	id := hex.EncodeToString(b)
	ns, host, peer := "msa-"+name+"-"+id, "msah"+id, "msap"+id
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() }) // deleting it removes the veth pair
	run(t, "ip", "link", "add", host, "type", "veth", "peer", "name", peer)
	run(t, "ip", "link", "set", peer, "netns", ns)
	run(t, "ip", "addr", "add", gw+"/24", "dev", host)
	run(t, "ip", "link", "set", host, "up")
	run(t, "ip", "-n", ns, "addr", "add", ip+"/24", "dev", peer)
	run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	run(t, "ip", "-n", ns, "link", "set", peer, "up")
	run(t, "ip", "-n", ns, "route", "add", "default", "via", gw)
	return ns
}

// forward listens on addr:port for each entry of ports and copies each connection to
// 127.0.0.1:target, until the test ends.
func forward(t *testing.T, addr string, ports map[int]int) {
	t.Helper()
	for port, target := range ports {
		ln, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		t.Cleanup(func() { ln.Close(); wg.Wait() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer c.Close()
					s, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(target), 5*time.Second)
					if err != nil {
						return
					}
					defer s.Close()
					c.SetDeadline(time.Now().Add(60 * time.Second))
					s.SetDeadline(time.Now().Add(60 * time.Second))
					done := make(chan struct{}, 2)
					go func() { io.Copy(s, c); s.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
					go func() { io.Copy(c, s); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
					<-done
					<-done
				}()
			}
		}()
	}
}

type travelerResult struct {
	checkJSON
	code int
	ms   time.Duration
}

func mustExe(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func checkIn(t *testing.T, ns string, env []string, args ...string) travelerResult {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, exe, "-test.run=^TestNetnsHelperCheckCurrent$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), checkHelperEnv+"=1", "CHECK_ARGS="+strings.Join(args, "\t")), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	res := travelerResult{ms: time.Since(start), code: -1}
	if err != nil {
		t.Fatalf("helper in %s: %v\n%s", ns, err, stderr.String())
	}
	js := string(out)
	if i := strings.Index(js, "{"); i >= 0 {
		js = js[i:]
	}
	if i := strings.LastIndex(js, "}"); i >= 0 {
		js = js[:i+1]
	}
	if err := json.Unmarshal([]byte(js), &res.checkJSON); err != nil {
		t.Fatalf("helper in %s printed no result: %v\n%s\n%s", ns, err, out, stderr.String())
	}
	if _, err := fmt.Sscanf(stderr.String()[strings.LastIndex(stderr.String(), "exit "):], "exit %d", &res.code); err != nil {
		t.Fatalf("no exit code in %s", stderr.String())
	}
	return res
}

func TestTravelerRealServers(t *testing.T) {
	if os.Getenv(checkHelperEnv) != "" {
		t.Skip("inside a helper process")
	}
	if why := netnsReady(); why != "" {
		t.Skip("network namespaces unavailable: " + why)
	}
	const domain, pass = "modern.test", "Traveler-Pa55"
	s := realmail.Start(t, realmail.Config{Setup: realmail.Modern, Domain: domain, Users: map[string]string{"alice": pass}})
	b := make([]byte, 1)
	rand.Read(b)
	subnet := 200 + int(b[0])%50
	homeGW, hotelGW := fmt.Sprintf("10.216.%d.1", subnet), fmt.Sprintf("10.217.%d.1", subnet)
	home := clientNS(t, "home", homeGW, fmt.Sprintf("10.216.%d.2", subnet))
	hotel := clientNS(t, "hotel", hotelGW, fmt.Sprintf("10.217.%d.2", subnet))
	run(t, "ip", "netns", "exec", hotel, "iptables", "-A", "OUTPUT", "-p", "tcp", "--dport", "25", "-j", "DROP")
	ports := map[int]int{25: s.Ports["smtp"], 587: s.Ports["submission"], 465: s.Ports["submissions"],
		143: s.Ports["imap"], 993: s.Ports["imaps"], 110: s.Ports["pop3"], 995: s.Ports["pop3s"]}
	forward(t, homeGW, ports)
	forward(t, hotelGW, ports)

	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	profile := filepath.Join(dir, "traveler.default")
	os.MkdirAll(profile, 0o700)
	addr := "alice@" + domain
	if err := os.WriteFile(filepath.Join(profile, "prefs.js"), []byte(travelerPrefs(s.Host, s.Host, addr, 25)), 0o644); err != nil {
		t.Fatal(err)
	}
	mem := filepath.Join(dir, "networks.json")
	args := []string{"check", "--from", profile, "--account", addr, "--password-stdin", "--json", "--ca", s.CAFile, "--networks", mem, "--timeout", "4s"}
	envFor := func(gw string) []string {
		return []string{"DOMAIN=" + domain, "MAILHOST=" + s.Host, "MAILIP=" + gw, "PASS=" + pass}
	}

	// At home port 25 works.
	r := checkIn(t, home, envFor(homeGW), args...)
	t.Logf("home: exit %d in %v (verdict after %d ms): outgoing %s", r.code, r.ms, r.checkJSON.VerdictMS, r.Outgoing.Verdict.Sentence)
	if r.code != ExitOK || !r.Outgoing.Verdict.Works || r.Outgoing.Current.Port != 25 || r.Network.Check.Port25 != detect.Port25Open {
		t.Fatalf("home: exit %d outgoing %+v network %s %v", r.code, r.Outgoing.Verdict, r.Network.Check.Port25, r.Network.Check.Port25Evidence)
	}
	var out, errb strings.Builder
	if code := Main(context.Background(), []string{"networks", "--networks", mem, "--name", r.Network.ID, "Home"}, Env{Stdout: &out, Stderr: &errb}); code != ExitOK {
		t.Fatalf("naming the home network: %s", errb.String())
	}

	// At the hotel port 25 is dropped: blocked here, the 587 change, and the comparison.
	r = checkIn(t, hotel, envFor(hotelGW), args...)
	t.Logf("hotel: exit %d in %v (verdict after %d ms): %s → %v; %v", r.code, r.ms, r.checkJSON.VerdictMS, r.Outgoing.Verdict.Sentence, r.Outgoing.Change, r.Network.Compare)
	o := r.Outgoing
	if r.code != ExitOK || o.Verdict.Works || !o.Verdict.BlockedHere || o.Verdict.Kind != string(detect.KindPort25Blocked) {
		t.Errorf("hotel verdict: exit %d %+v", r.code, o.Verdict)
	}
	if o.Change == nil || o.Change.To.Port != 587 || o.Change.To.Security != detect.SecurityStartTLS || strings.Join(o.Change.Fields, ",") != "port" || !o.Change.Verified {
		t.Fatalf("hotel change %+v", o.Change)
	}
	wantCompare := "at Home on " + time.Now().UTC().Format("2006-01-02") + ": port 25 worked; here it is blocked"
	if len(r.Network.Compare) == 0 || r.Network.Compare[0] != wantCompare {
		t.Errorf("compare %q, want %q", r.Network.Compare, wantCompare)
	}
	if r.checkJSON.VerdictMS > 6000 {
		t.Errorf("the verdict took %d ms at the hotel", r.checkJSON.VerdictMS)
	}

	if os.Getenv("README_EXAMPLE") == "1" {
		// The human-readable run for the README (README_EXAMPLE=1 go test -run TestTravelerRealServers -v).
		human := make([]string, 0, len(args))
		for _, a := range args {
			if a != "--json" {
				human = append(human, a)
			}
		}
		cmd := exec.Command("ip", "netns", "exec", hotel, mustExe(t), "-test.run=^TestNetnsHelperCheckCurrent$", "-test.count=1")
		cmd.Env = append(append(os.Environ(), checkHelperEnv+"=1", "CHECK_ARGS="+strings.Join(human, "\t")), envFor(hotelGW)...)
		out, _ := cmd.CombinedOutput()
		fmt.Printf("%s\n", out)
	}

	// --fix writes the port into user.js; the next check at the hotel passes on 587.
	r = checkIn(t, hotel, envFor(hotelGW), append(args, "--fix")...)
	if r.Fix == nil || len(r.Fix.Prefs) != 1 || r.Fix.Prefs[0].Name != "mail.smtpserver.smtp1.port" || r.Fix.Prefs[0].Value != "587" {
		t.Fatalf("fix %+v", r.Fix)
	}
	r = checkIn(t, hotel, envFor(hotelGW), args...)
	t.Logf("hotel after the fix: exit %d in %v: %s", r.code, r.ms, r.Outgoing.Verdict.Sentence)
	if r.code != ExitOK || !r.Outgoing.Verdict.Works || r.Outgoing.Current.Port != 587 || r.Outgoing.Change != nil {
		t.Errorf("after the fix: exit %d %+v %+v", r.code, r.Outgoing.Current, r.Outgoing.Verdict)
	}
	data, _ := os.ReadFile(filepath.Join(profile, "user.js"))
	if !strings.Contains(string(data), `user_pref("mail.smtpserver.smtp1.port", 587);`) {
		t.Errorf("user.js:\n%s", data)
	}
}
