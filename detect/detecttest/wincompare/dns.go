// Package wincompare holds what the Windows-under-wine harness (scripts/windows-smoke.sh)
// needs to compare MailSetup.exe with the Linux binary: a small authoritative DNS server,
// a way to publish a detecttest.World on a real loopback address, and a field-by-field
// comparison of two JSON reports that leaves out what differs from run to run.
package wincompare

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"

	"golang.org/x/net/dns/dnsmessage"
)

// SRV is one service record of a Zone.
type SRV struct {
	Target string
	Port   uint16
}

// Zone is what a DNS server answers: addresses, SRV and MX records by lower-case name
// without the trailing dot. Names below a name that has records exist (NOERROR, no
// answer); every other name is NXDOMAIN, so nothing outside the zone is ever reached.
type Zone struct {
	A   map[string]netip.Addr
	SRV map[string][]SRV
	MX  map[string][]string
}

// exists reports whether name, or a name below it, has records.
func (z *Zone) exists(name string) bool {
	for _, m := range []func(string) bool{
		func(n string) bool { _, ok := z.A[n]; return ok },
		func(n string) bool { _, ok := z.SRV[n]; return ok },
		func(n string) bool { _, ok := z.MX[n]; return ok },
	} {
		if m(name) {
			return true
		}
	}
	suffix := "." + name
	for n := range z.A {
		if strings.HasSuffix(n, suffix) {
			return true
		}
	}
	for n := range z.SRV {
		if strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}

// DNSServer answers queries for one Zone over UDP and TCP on the same loopback port.
type DNSServer struct {
	// Addr is the server's HOST:PORT (for --dns).
	Addr string

	zone Zone
	udp  net.PacketConn
	tcp  net.Listener
	wg   sync.WaitGroup
}

// NewDNSServer starts a server for zone on 127.0.0.1 at a port free for UDP and TCP.
func NewDNSServer(zone Zone) (*DNSServer, error) {
	var lastErr error
	for range 20 {
		udp, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("dns server: udp: %w", err)
		}
		tcp, err := net.Listen("tcp", udp.LocalAddr().String())
		if err != nil {
			udp.Close()
			lastErr = err
			continue
		}
		s := &DNSServer{Addr: udp.LocalAddr().String(), zone: zone, udp: udp, tcp: tcp}
		s.wg.Add(2)
		go s.serveUDP()
		go s.serveTCP()
		return s, nil
	}
	return nil, fmt.Errorf("dns server: no port free for both UDP and TCP: %w", lastErr)
}

// Close stops the server.
func (s *DNSServer) Close() {
	s.udp.Close()
	s.tcp.Close()
	s.wg.Wait()
}

func (s *DNSServer) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		if out, err := s.answer(buf[:n]); err == nil {
			_, _ = s.udp.WriteTo(out, from)
		}
	}
}

func (s *DNSServer) serveTCP() {
	defer s.wg.Done()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			for {
				var size uint16
				if err := binary.Read(c, binary.BigEndian, &size); err != nil {
					return
				}
				msg := make([]byte, size)
				if _, err := io.ReadFull(c, msg); err != nil {
					return
				}
				out, err := s.answer(msg)
				if err != nil {
					return
				}
				if _, err := c.Write(binary.BigEndian.AppendUint16(nil, uint16(len(out)))); err != nil {
					return
				}
				if _, err := c.Write(out); err != nil {
					return
				}
			}
		}()
	}
}

// answer builds the response to one query message.
func (s *DNSServer) answer(query []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, fmt.Errorf("dns: parse header: %w", err)
	}
	q, err := p.Question()
	if err != nil {
		return nil, fmt.Errorf("dns: parse question: %w", err)
	}
	name := strings.ToLower(strings.TrimSuffix(q.Name.String(), "."))
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
	rcode := dnsmessage.RCodeSuccess
	if !s.zone.exists(name) {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RCode: rcode})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	switch q.Type {
	case dnsmessage.TypeA:
		if a, ok := s.zone.A[name]; ok && a.Is4() {
			err = b.AResource(rh, dnsmessage.AResource{A: a.As4()})
		}
	case dnsmessage.TypeSRV:
		for _, r := range s.zone.SRV[name] {
			target, nerr := dnsmessage.NewName(dotted(r.Target))
			if nerr != nil {
				return nil, nerr
			}
			if err = b.SRVResource(rh, dnsmessage.SRVResource{Priority: 0, Weight: 1, Port: r.Port, Target: target}); err != nil {
				break
			}
		}
	case dnsmessage.TypeMX:
		for i, host := range s.zone.MX[name] {
			mx, nerr := dnsmessage.NewName(dotted(host))
			if nerr != nil {
				return nil, nerr
			}
			if err = b.MXResource(rh, dnsmessage.MXResource{Pref: uint16(10 * (i + 1)), MX: mx}); err != nil {
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("dns: answer %s: %w", name, err)
	}
	return b.Finish()
}

func dotted(name string) string {
	if strings.HasSuffix(name, ".") {
		return name
	}
	return name + "."
}
