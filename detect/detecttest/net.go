package detecttest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Net is a fake network for one test: host names resolve through its table, and a
// dial to host:port reaches whatever loopback listener was registered for it.
// Unregistered ports are refused, and ports marked Drop hang until the context ends,
// like a firewall that drops packets. It satisfies detect.Dialer and detect.Resolver.
type Net struct {
	mu      sync.Mutex
	hosts   map[string][]string   // name → IPs (for resolvers)
	ports   map[string]string     // "host:port" → real loopback address
	drop    map[string]bool       // "host:port" or "*:port" → silently dropped
	dropIP  map[string]bool       // IP → every port silently dropped
	mx      map[string][]*net.MX  // domain → MX
	srv     map[string][]*net.SRV // "_service._proto.name" → SRV
	dials   map[string]int        // "host:port" → number of dials
	dnsRTT  time.Duration         // delay of every DNS answer
	proxies []*LatencyProxy
	nextIP  int // the last address Host handed out
}

// NewNet returns an empty fake network.
func NewNet() *Net {
	return &Net{
		hosts: map[string][]string{}, ports: map[string]string{}, drop: map[string]bool{}, dropIP: map[string]bool{},
		mx: map[string][]*net.MX{}, srv: map[string][]*net.SRV{}, dials: map[string]int{},
	}
}

// Host makes name resolve to ips, or else to an address of its own in 127.0.0.0/8
// (each name a different one, like different servers; dials reach the routed listeners
// whatever the address, and connections report it as their remote address).
func (n *Net) Host(name string, ips ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	name = strings.ToLower(name)
	if len(ips) == 0 {
		if _, ok := n.hosts[name]; ok {
			return
		}
		n.nextIP++
		ips = []string{fmt.Sprintf("127.0.%d.%d", 1+n.nextIP/250, 1+n.nextIP%250)}
	}
	n.hosts[name] = ips
}

// Route makes host:port reach the listener at addr; it also makes host resolve.
func (n *Net) Route(host string, port int, addr string) {
	n.mu.Lock()
	n.ports[key(host, port)] = addr
	_, ok := n.hosts[strings.ToLower(host)]
	n.mu.Unlock()
	if !ok {
		n.Host(host)
	}
}

// Drop makes dials to host:port hang until the context ends ("*" matches any host).
func (n *Net) Drop(host string, port int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.drop[key(host, port)] = true
}

// DropIP makes every dial to ip hang until the context ends, like an address whose
// route is blackholed. A name that resolves to ip and to others stays reachable
// through a dialer that tries every address.
func (n *Net) DropIP(ip string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dropIP[ip] = true
}

// SetDNSDelay makes every DNS answer of this network take d, like a slow resolver.
func (n *Net) SetDNSDelay(d time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dnsRTT = d
}

// dnsWait waits for the DNS delay or the end of ctx.
func (n *Net) dnsWait(ctx context.Context) error {
	n.mu.Lock()
	d := n.dnsRTT
	n.mu.Unlock()
	if d == 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return &net.DNSError{Err: ctx.Err().Error(), IsTimeout: true}
	}
}

// MX sets the MX records of domain.
func (n *Net) MX(domain string, hosts ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var mx []*net.MX
	for i, h := range hosts {
		mx = append(mx, &net.MX{Host: h + ".", Pref: uint16(10 * (i + 1))})
	}
	n.mx[strings.ToLower(domain)] = mx
}

// SRV sets an SRV record: service like "submission", target "." for "not offered".
func (n *Net) SRV(service, domain, target string, port int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := "_" + service + "._tcp." + strings.ToLower(domain)
	if target != "." {
		target += "."
	}
	n.srv[k] = append(n.srv[k], &net.SRV{Target: target, Port: uint16(port), Priority: 0, Weight: 1})
}

// Dials returns how often host:port was dialled.
func (n *Net) Dials(host string, port int) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dials[key(host, port)]
}

// TotalDials returns how many connections were dialled through this network.
func (n *Net) TotalDials() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	total := 0
	for _, d := range n.dials {
		total += d
	}
	return total
}

func key(host string, port int) string { return fmt.Sprintf("%s:%d", strings.ToLower(host), port) }

// DialContext implements detect.Dialer.
func (n *Net) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	k := strings.ToLower(host) + ":" + port
	n.mu.Lock()
	n.dials[k]++
	target, routed := n.ports[k]
	dropped := n.drop[k] || n.drop["*:"+port] || n.dropIP[host]
	_, known := n.hosts[strings.ToLower(host)]
	if ip := net.ParseIP(host); ip != nil && !routed {
		// An address reaches the one name that resolves to it and has this port routed.
		var names []string
		for name, ips := range n.hosts {
			for _, a := range ips {
				if _, ok := n.ports[name+":"+port]; ok && net.ParseIP(a).Equal(ip) {
					names = append(names, name)
				}
			}
		}
		if len(names) == 1 {
			target, routed = n.ports[names[0]+":"+port], true
			dropped = dropped || n.drop[names[0]+":"+port]
		}
	}
	n.mu.Unlock()
	if dropped {
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
	}
	if !known && net.ParseIP(host) == nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
	}
	if !routed {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &osSyscallError{syscall.ECONNREFUSED}}
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, target)
	if err != nil {
		return nil, err
	}
	return &virtualConn{Conn: c, remote: n.virtualAddr(host, port)}, nil
}

// virtualAddr is the address a connection to host:port reports as its remote end: the
// IP dialled, or the first address the name resolves to.
func (n *Net) virtualAddr(host, port string) net.Addr {
	p, _ := strconv.Atoi(port)
	if ip := net.ParseIP(host); ip != nil {
		return &net.TCPAddr{IP: ip, Port: p}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if ips := n.hosts[strings.ToLower(host)]; len(ips) > 0 {
		if ip := net.ParseIP(ips[0]); ip != nil {
			return &net.TCPAddr{IP: ip, Port: p}
		}
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p}
}

// virtualConn is a loopback connection that reports the fake network's address of the
// server it reached.
type virtualConn struct {
	net.Conn
	remote net.Addr
}

func (c *virtualConn) RemoteAddr() net.Addr { return c.remote }

type osSyscallError struct{ errno syscall.Errno }

func (e *osSyscallError) Error() string { return "connect: " + e.errno.Error() }
func (e *osSyscallError) Unwrap() error { return e.errno }

// LookupHost implements detect.Resolver.
func (n *Net) LookupHost(ctx context.Context, host string) ([]string, error) {
	if err := n.dnsWait(ctx); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if ips, ok := n.hosts[strings.ToLower(strings.TrimSuffix(host, "."))]; ok {
		return append([]string(nil), ips...), nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// LookupMX implements detect.Resolver.
func (n *Net) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	if err := n.dnsWait(ctx); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if mx, ok := n.mx[strings.ToLower(strings.TrimSuffix(name, "."))]; ok {
		return mx, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// LookupSRV implements detect.Resolver.
func (n *Net) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	if err := n.dnsWait(ctx); err != nil {
		return "", nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	k := "_" + service + "._" + proto + "." + strings.ToLower(strings.TrimSuffix(name, "."))
	if s, ok := n.srv[k]; ok {
		return k + ".", s, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: k, IsNotFound: true}
}

// AddLatency puts a LatencyProxy with the given round-trip time in front of every
// routed port, so probes through this Net see a real network's delays.
func (n *Net) AddLatency(rtt time.Duration) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for k, target := range n.ports {
		p, err := NewLatencyProxy(target, rtt)
		if err != nil {
			return err
		}
		n.ports[k] = p.Addr()
		n.proxies = append(n.proxies, p)
	}
	return nil
}

// Close stops the latency proxies.
func (n *Net) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, p := range n.proxies {
		p.Close()
	}
	n.proxies = nil
}
