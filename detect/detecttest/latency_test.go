package detecttest

import (
	"bufio"
	"net"
	"testing"
	"time"
)

func TestLatencyProxyAddsRoundTrip(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			c.Write([]byte(line))
		}
	}()
	const rtt = 60 * time.Millisecond
	p, err := NewLatencyProxy(ln.Addr().String(), rtt)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	start := time.Now()
	for i := 0; i < 3; i++ {
		c.Write([]byte("ping\n"))
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	// One connection-setup round trip plus three request/response round trips.
	got := time.Since(start)
	if got < 4*rtt || got > 4*rtt+200*time.Millisecond {
		t.Fatalf("3 exchanges took %v, want about %v", got, 4*rtt)
	}
}
