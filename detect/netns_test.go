//go:build linux

package detect

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The network-namespace test builds real network conditions: a server namespace and a
// client namespace joined by a veth pair with private addresses that exist only between
// them, SMTP listeners on the server side, and iptables rules on the client side that
// drop port 25 (blocked) or redirect it to another listener (intercepted). The listeners
// and the check itself run as helper processes of this test binary inside the namespaces.

const helperEnv = "MAILSETUP_NETNS_HELPER"

// TestNetnsHelperSMTP is not a test: run with MAILSETUP_NETNS_HELPER=smtp it serves a
// greeting on every address in ADDRS until killed.
func TestNetnsHelperSMTP(t *testing.T) {
	if os.Getenv(helperEnv) != "smtp" {
		t.Skip("helper process for TestNetnsPort25")
	}
	banner, starttls := os.Getenv("BANNER"), os.Getenv("STARTTLS") == "1"
	for _, addr := range strings.Split(os.Getenv("ADDRS"), ",") {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					c.SetDeadline(time.Now().Add(5 * time.Second))
					r := bufio.NewReader(c)
					c.Write([]byte("220 " + banner + " ESMTP\r\n"))
					if _, err := r.ReadString('\n'); err != nil {
						return
					}
					if starttls {
						c.Write([]byte("250-" + banner + "\r\n250 STARTTLS\r\n"))
					} else {
						c.Write([]byte("250 " + banner + "\r\n"))
					}
					r.ReadString('\n')
				}()
			}
		}()
	}
	os.Stdout.WriteString("ready\n")
	select {}
}

// TestNetnsHelperCheck is not a test: run with MAILSETUP_NETNS_HELPER=check it runs the
// network check against TARGET (resolved to TARGET_IP) and prints the result as JSON.
func TestNetnsHelperCheck(t *testing.T) {
	if os.Getenv(helperEnv) != "check" {
		t.Skip("helper process for TestNetnsPort25")
	}
	d := staticDialer{names: map[string]string{os.Getenv("TARGET"): os.Getenv("TARGET_IP")}}
	o := Options{Dialer: d, CaptivePortalURL: "off"}
	start := time.Now()
	n := o.CheckNetwork(context.Background(), []string{os.Getenv("TARGET")})
	n.ElapsedMS = time.Since(start).Milliseconds()
	json.NewEncoder(os.Stdout).Encode(n)
}

// staticDialer resolves names from a table and dials the real network.
type staticDialer struct{ names map[string]string }

var _ Dialer = staticDialer{} // checked when compiling, next to the fake

func (s staticDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, _ := net.SplitHostPort(addr)
	if ip, ok := s.names[host]; ok {
		host = ip
	}
	var d net.Dialer
	return d.DialContext(ctx, network, net.JoinHostPort(host, port))
}

func netnsAvailable() string {
	if os.Geteuid() != 0 {
		return "needs root to create network namespaces"
	}
	for _, b := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(b); err != nil {
			return b + " is not installed (apt-get install iproute2 iptables)"
		}
	}
	name := "msa-probe-" + randHex(3)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return "cannot create a network namespace: " + strings.TrimSpace(string(out))
	}
	defer exec.Command("ip", "netns", "del", name).Run()
	// The rules the test needs must load here (nf_tables / iptables-legacy in the kernel).
	for _, rule := range [][]string{
		{"-A", "OUTPUT", "-p", "tcp", "--dport", "25", "-j", "DROP"},
		{"-t", "nat", "-A", "OUTPUT", "-p", "tcp", "--dport", "25", "-j", "REDIRECT", "--to-ports", "2500"},
	} {
		if out, err := exec.Command("ip", append([]string{"netns", "exec", name, "iptables"}, rule...)...).CombinedOutput(); err != nil {
			return "iptables cannot add the test's rules here: " + strings.TrimSpace(string(out))
		}
	}
	return ""
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func sh(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// startHelper runs this test binary as a helper inside namespace ns.
func startHelper(t *testing.T, ns, kind string, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	test := map[string]string{"smtp": "^TestNetnsHelperSMTP$", "check": "^TestNetnsHelperCheck$", "dial": "^TestNetnsHelperDial$"}[kind]
	cmd := exec.Command("ip", "netns", "exec", ns, exe, "-test.run="+test, "-test.count=1")
	cmd.Env = append(append(os.Environ(), helperEnv+"="+kind), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

func startSMTPHelper(t *testing.T, ns, addrs, banner string, starttls bool) {
	t.Helper()
	st := "0"
	if starttls {
		st = "1"
	}
	cmd := startHelper(t, ns, "smtp", "ADDRS="+addrs, "BANNER="+banner, "STARTTLS="+st)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- strings.HasPrefix(line, "ready")
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("SMTP helper in %s did not start", ns)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("SMTP helper in %s did not start in time", ns)
	}
}

func runCheck(t *testing.T, ns, target, ip string) Network {
	t.Helper()
	cmd := startHelper(t, ns, "check", "TARGET="+target, "TARGET_IP="+ip)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("check helper: %v\n%s", err, out)
	}
	var n Network
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "{") {
			if err := json.Unmarshal([]byte(line), &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("check helper printed no result:\n%s", out)
	return n
}

// vethPair creates a server and a client namespace joined by a veth pair, the server
// side holding srvIPs and the client side cliIP (all /24), and removes them at the end.
func vethPair(t *testing.T, srvIPs []string, cliIP string) (srv, cli string) {
	t.Helper()
	id := randHex(2)
	srv, cli = "msa-s-"+id, "msa-c-"+id
	vs, vc := "msavs"+id, "msavc"+id
	sh(t, "ip", "netns", "add", srv)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", srv).Run() })
	sh(t, "ip", "netns", "add", cli)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", cli).Run() })
	sh(t, "ip", "link", "add", vs, "type", "veth", "peer", "name", vc)
	sh(t, "ip", "link", "set", vs, "netns", srv)
	sh(t, "ip", "link", "set", vc, "netns", cli)
	for _, ip := range srvIPs {
		sh(t, "ip", "-n", srv, "addr", "add", ip+"/24", "dev", vs)
	}
	sh(t, "ip", "-n", cli, "addr", "add", cliIP+"/24", "dev", vc)
	for _, ns := range []string{srv, cli} {
		sh(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	sh(t, "ip", "-n", srv, "link", "set", vs, "up")
	sh(t, "ip", "-n", cli, "link", "set", vc, "up")
	return srv, cli
}

func TestNetnsPort25(t *testing.T) {
	if os.Getenv(helperEnv) != "" {
		t.Skip("inside a helper process")
	}
	if why := netnsAvailable(); why != "" {
		t.Skip("network namespaces unavailable: " + why)
	}
	const srvIP, cliIP, target = "10.203.7.1", "10.203.7.2", "mail.example.test"
	srv, cli := vethPair(t, []string{srvIP}, cliIP)

	startSMTPHelper(t, srv, srvIP+":25,"+srvIP+":587,"+srvIP+":465", target, true)

	steps := []struct {
		name  string
		rules [][]string // iptables arguments in the client namespace
		proxy bool       // a local listener with another banner and no STARTTLS on 2500
		want  Port25Verdict
	}{
		{name: "open", want: Port25Open},
		{name: "blocked", rules: [][]string{{"-A", "OUTPUT", "-p", "tcp", "--dport", "25", "-j", "DROP"}}, want: Port25Blocked},
		{name: "intercepted", rules: [][]string{
			{"-D", "OUTPUT", "-p", "tcp", "--dport", "25", "-j", "DROP"},
			{"-t", "nat", "-A", "OUTPUT", "-p", "tcp", "--dport", "25", "-j", "REDIRECT", "--to-ports", "2500"},
		}, proxy: true, want: Port25Intercepted},
	}
	for _, st := range steps {
		for _, r := range st.rules {
			sh(t, append([]string{"ip", "netns", "exec", cli, "iptables"}, r...)...)
		}
		if st.proxy {
			startSMTPHelper(t, cli, "0.0.0.0:2500", "smtp-proxy.isp.test", false)
		}
		n := runCheck(t, cli, target, srvIP)
		t.Logf("%-11s verdict %-11s in %4d ms: %s", st.name, n.Port25, n.ElapsedMS, strings.Join(n.Port25Evidence, "; "))
		if n.Port25 != st.want {
			t.Errorf("%s: verdict %s, want %s (evidence %q, outbound %v)", st.name, n.Port25, st.want, n.Port25Evidence, n.Outbound)
		}
		if st.want == Port25Blocked && n.ElapsedMS > 3000 {
			t.Errorf("blocked verdict took %d ms, want ≤ 3000", n.ElapsedMS)
		}
		if n.ElapsedMS > 5000 {
			t.Errorf("network section took %d ms, want ≤ 5000", n.ElapsedMS)
		}
	}
}

// TestNetnsHelperDial is not a test: run with MAILSETUP_NETNS_HELPER=dial it connects to
// port 587 of a name whose addresses are ADDRS (in that order), once with HappyDialer and
// once serially with a 10 s timeout spread over the addresses (net.Dialer's rule), and
// prints both times and the address reached as JSON.
func TestNetnsHelperDial(t *testing.T) {
	if os.Getenv(helperEnv) != "dial" {
		t.Skip("helper process for TestNetnsDeadFirstAddress")
	}
	addrs := strings.Split(os.Getenv("ADDRS"), ",")
	out := map[string]any{}
	start := time.Now()
	c, err := (&HappyDialer{Resolver: hostTable{"mail.example.test": addrs}}).DialContext(context.Background(), "tcp", "mail.example.test:587")
	out["happy_ms"] = time.Since(start).Milliseconds()
	if err != nil {
		out["happy_error"] = err.Error()
	} else {
		out["happy_remote"] = c.RemoteAddr().String()
		c.Close()
	}
	start = time.Now()
	deadline := start.Add(10 * time.Second)
	for i, ip := range addrs {
		ctx, cancel := context.WithTimeout(context.Background(), time.Until(deadline)/time.Duration(len(addrs)-i))
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ip, "587"))
		cancel()
		if err == nil {
			out["serial_remote"] = c.RemoteAddr().String()
			c.Close()
			break
		}
	}
	out["serial_ms"] = time.Since(start).Milliseconds()
	json.NewEncoder(os.Stdout).Encode(out)
}

// TestNetnsDeadFirstAddress: a server name with three addresses, the first IPv6 without a
// route on the client (the kernel answers "network unreachable"), the second dropped by
// iptables, the third working. HappyDialer must connect to the third in about two
// attempt delays, where serial dialing waits for the dropped address's share of the timeout.
func TestNetnsDeadFirstAddress(t *testing.T) {
	if os.Getenv(helperEnv) != "" {
		t.Skip("inside a helper process")
	}
	if why := netnsAvailable(); why != "" {
		t.Skip("network namespaces unavailable: " + why)
	}
	const deadIP, liveIP, cliIP, noRoute6 = "10.203.8.1", "10.203.8.3", "10.203.8.2", "2001:db8::25"
	srv, cli := vethPair(t, []string{deadIP, liveIP}, cliIP)
	sh(t, "ip", "netns", "exec", cli, "iptables", "-A", "OUTPUT", "-d", deadIP, "-j", "DROP")
	startSMTPHelper(t, srv, deadIP+":587,"+liveIP+":587", "mail.example.test", true)

	cmd := startHelper(t, cli, "dial", "ADDRS="+noRoute6+","+deadIP+","+liveIP)
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("dial helper: %v\n%s", err, raw)
	}
	var res struct {
		HappyMS      int64  `json:"happy_ms"`
		HappyRemote  string `json:"happy_remote"`
		HappyError   string `json:"happy_error"`
		SerialMS     int64  `json:"serial_ms"`
		SerialRemote string `json:"serial_remote"`
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "{") {
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("happy eyeballs: %d ms to %s; serial dialing: %d ms to %s", res.HappyMS, res.HappyRemote, res.SerialMS, res.SerialRemote)
	if res.HappyRemote != net.JoinHostPort(liveIP, "587") {
		t.Fatalf("happy eyeballs reached %q (%s), want %s:587", res.HappyRemote, res.HappyError, liveIP)
	}
	if res.HappyMS > 1000 {
		t.Errorf("happy eyeballs took %d ms, want about one attempt delay (250 ms)", res.HappyMS)
	}
	if res.SerialMS < 3000 {
		t.Errorf("serial dialing took only %d ms: the dropped address was not dropped, so the test proves nothing", res.SerialMS)
	}
}
