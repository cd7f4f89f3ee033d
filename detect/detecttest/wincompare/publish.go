package wincompare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

// srvServices are the RFC 6186/8314 services a World may announce.
var srvServices = []string{"submissions", "submission", "imaps", "imap", "pop3s", "pop3"}

// Wire is a detecttest.World published on a real loopback address, so that a real
// binary (and one running under wine) can probe it with --dns: each service the world
// announces by SRV gets a TCP forwarder on IP, and the DNS server names them.
type Wire struct {
	// IP is the loopback address the forwarders listen on; the world's host names
	// resolve to it. Nothing else should listen there, so other ports are refused.
	IP netip.Addr
	// DNS answers for the world's domain and its hosts; every other name is NXDOMAIN.
	DNS *DNSServer
	// Ports maps the world's "host:port" (as announced) to the port on IP.
	Ports map[string]int

	world *detecttest.World
	lns   []net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]bool
	done  bool
}

// RandomLoopback returns an address in 127.0.0.0/8 away from 127.0.0.1, so that the
// standard mail ports there are free and refuse, whatever runs on this computer.
func RandomLoopback() netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(16 + rand.IntN(200)), byte(rand.IntN(256)), byte(1 + rand.IntN(254))})
}

// errNoServices is returned by Publish when the world announces nothing.
var errNoServices = errors.New("wincompare: the world announces no SRV services")

// Publish starts the forwarders and the DNS server for w on ip (a loopback address).
// Each forwarder takes the announced port when it can (as root), else a free one;
// the SRV records carry whichever it got. The caller closes the Wire before the World.
func Publish(w *detecttest.World, ip netip.Addr) (_ *Wire, err error) {
	if !ip.IsLoopback() {
		return nil, fmt.Errorf("wincompare: %s is not a loopback address", ip)
	}
	wire := &Wire{IP: ip, Ports: map[string]int{}, world: w, conns: map[net.Conn]bool{}}
	defer func() {
		if err != nil {
			wire.Close()
		}
	}()
	zone := Zone{A: map[string]netip.Addr{}, SRV: map[string][]SRV{}, MX: map[string][]string{}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, svc := range srvServices {
		_, recs, lerr := w.Net.LookupSRV(ctx, svc, "tcp", w.Domain)
		if lerr != nil {
			continue // not announced
		}
		name := "_" + svc + "._tcp." + strings.ToLower(w.Domain)
		for _, r := range recs {
			host := strings.ToLower(strings.TrimSuffix(r.Target, "."))
			upstream := net.JoinHostPort(host, strconv.Itoa(int(r.Port)))
			port, ok := wire.Ports[upstream]
			if !ok {
				if port, err = wire.forward(upstream, int(r.Port)); err != nil {
					return nil, err
				}
				wire.Ports[upstream] = port
			}
			zone.A[host] = ip
			zone.SRV[name] = append(zone.SRV[name], SRV{Target: host, Port: uint16(port)})
		}
	}
	if len(zone.SRV) == 0 {
		return nil, errNoServices
	}
	if wire.DNS, err = NewDNSServer(zone); err != nil {
		return nil, err
	}
	return wire, nil
}

// forward listens on IP (at want, else any port) and relays every connection to
// upstream through the world's network; it returns the port it listens on.
func (wire *Wire) forward(upstream string, want int) (int, error) {
	ln, err := net.Listen("tcp", netip.AddrPortFrom(wire.IP, uint16(want)).String())
	if err != nil {
		if ln, err = net.Listen("tcp", netip.AddrPortFrom(wire.IP, 0).String()); err != nil {
			return 0, fmt.Errorf("wincompare: listen for %s: %w", upstream, err)
		}
	}
	wire.lns = append(wire.lns, ln)
	wire.wg.Add(1)
	go func() {
		defer wire.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wire.wg.Add(1)
			go func() {
				defer wire.wg.Done()
				wire.relay(c, upstream)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// relay copies bytes both ways between c and upstream until either side closes.
func (wire *Wire) relay(c net.Conn, upstream string) {
	if !wire.track(c) {
		return
	}
	defer wire.untrack(c)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	u, err := wire.world.Net.DialContext(ctx, "tcp", upstream)
	cancel()
	if err != nil {
		return
	}
	if !wire.track(u) {
		return
	}
	defer wire.untrack(u)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite() // pass the half-close on, as a real path would
		}
		done <- struct{}{}
	}
	go pipe(u, c)
	go pipe(c, u)
	<-done
	<-done
}

func (wire *Wire) track(c net.Conn) bool {
	wire.mu.Lock()
	defer wire.mu.Unlock()
	if wire.done {
		c.Close()
		return false
	}
	wire.conns[c] = true
	return true
}

func (wire *Wire) untrack(c net.Conn) {
	wire.mu.Lock()
	defer wire.mu.Unlock()
	delete(wire.conns, c)
	c.Close()
}

// Close stops the DNS server, the forwarders and every relayed connection.
func (wire *Wire) Close() {
	if wire.DNS != nil {
		wire.DNS.Close()
	}
	wire.mu.Lock()
	wire.done = true
	for c := range wire.conns {
		c.Close()
	}
	wire.mu.Unlock()
	for _, ln := range wire.lns {
		ln.Close()
	}
	wire.wg.Wait()
}
