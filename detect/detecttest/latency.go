package detecttest

import (
	"net"
	"sync"
	"time"
)

// LatencyProxy forwards loopback connections to a target while adding a one-way delay
// to every chunk in each direction, so tests and benchmarks see a real round-trip time.
type LatencyProxy struct {
	ln      net.Listener
	target  string
	oneWay  time.Duration
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]bool
	closing bool
}

// NewLatencyProxy listens on 127.0.0.1:0 and forwards to target with rtt/2 each way.
// Dialling through it costs one extra rtt, like a TCP handshake over that distance.
func NewLatencyProxy(target string, rtt time.Duration) (*LatencyProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &LatencyProxy{ln: ln, target: target, oneWay: rtt / 2, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's address.
func (p *LatencyProxy) Addr() string { return p.ln.Addr().String() }

// Close stops the proxy and every forwarded connection.
func (p *LatencyProxy) Close() error {
	p.mu.Lock()
	p.closing = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *LatencyProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *LatencyProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.forward(c)
		}()
	}
}

func (p *LatencyProxy) forward(client net.Conn) {
	if !p.track(client) {
		return
	}
	// The TCP handshake over the emulated link costs a round trip.
	time.Sleep(2 * p.oneWay)
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(server) {
		client.Close()
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pump(server, client) }()
	go func() { defer wg.Done(); p.pump(client, server) }()
	wg.Wait()
	client.Close()
	server.Close()
}

type chunk struct {
	due  time.Time
	data []byte
}

// pump copies src to dst, delivering each chunk oneWay after it was read.
func (p *LatencyProxy) pump(dst, src net.Conn) {
	q := make(chan chunk, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range q {
			time.Sleep(time.Until(c.due))
			if _, err := dst.Write(c.data); err != nil {
				src.Close()
				for range q {
					// drain so the reading side never blocks
				}
				return
			}
		}
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			q <- chunk{due: time.Now().Add(p.oneWay), data: append([]byte(nil), buf[:n]...)}
		}
		if err != nil {
			break
		}
	}
	close(q)
	<-done
}
