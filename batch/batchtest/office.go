// Package batchtest holds fixtures for batch checks: several mail domains with many
// mailboxes each on one fake network (tests, the benchmark, the window's batch demo),
// and a meter of the connections each provider sees at once.
package batchtest

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

// Mailbox is one account of an Office.
type Mailbox struct {
	Address  string
	Password string
	Name     string
}

// OfficeConfig shapes an Office.
type OfficeConfig struct {
	// Domains are the mail domains, each with servers of its own.
	Domains []string
	// Users is the number of mailboxes per domain (user01@ … userNN@).
	Users int
	// NoIMAP lists addresses whose IMAP access is off (POP3 and SMTP work).
	NoIMAP []string
	// LocalLogin lists addresses that log in with their local part only.
	LocalLogin []string
}

// Office is a set of mail domains on one fake network. Each domain has SMTP on 465 (TLS)
// and 587 (STARTTLS), IMAP on 993 and POP3 on 995 under smtp./imap./pop. names, with
// SRV records announcing them, and Users mailboxes whose password is "pw-" + the local
// part and the domain's first label (user01@d01.test: "pw-user01-d01").
type Office struct {
	Net       *detecttest.Net
	CA        *detecttest.CA
	Mailboxes []Mailbox
	closers   []func()
}

// T is the part of testing.TB the fixtures use.
type T = detecttest.T

// StartOffice starts an Office for the test and closes it when the test ends.
func StartOffice(t T, cfg OfficeConfig) *Office {
	t.Helper()
	o, err := NewOffice(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Close)
	return o
}

// Password is the password of address in an Office.
func Password(address string) string {
	local, domain, _ := strings.Cut(address, "@")
	first, _, _ := strings.Cut(domain, ".")
	return "pw-" + local + "-" + first
}

// NewOffice starts the servers of every domain; the caller closes the Office.
func NewOffice(cfg OfficeConfig) (o *Office, err error) {
	o = &Office{Net: detecttest.NewNet()}
	defer func() {
		if err != nil {
			o.Close()
		}
	}()
	if o.CA, err = detecttest.MakeCA("office CA"); err != nil {
		return nil, err
	}
	noIMAP := set(cfg.NoIMAP)
	local := set(cfg.LocalLogin)
	for _, d := range cfg.Domains {
		users, imapUsers := map[string]string{}, map[string]string{}
		for i := 1; i <= cfg.Users; i++ {
			addr := fmt.Sprintf("user%02d@%s", i, d)
			login := addr
			if local[addr] {
				login = fmt.Sprintf("user%02d", i)
			}
			users[login] = Password(addr)
			if !noIMAP[addr] {
				imapUsers[login] = Password(addr)
			}
			o.Mailboxes = append(o.Mailboxes, Mailbox{Address: addr, Password: Password(addr), Name: fmt.Sprintf("User %02d of %s", i, d)})
		}
		if err := o.addDomain(d, users, imapUsers); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (o *Office) addDomain(d string, users, imapUsers map[string]string) error {
	hosts := []string{"smtp." + d, "imap." + d, "pop." + d}
	cert, err := o.CA.MakeLeaf(detecttest.CertOpts{}, hosts...)
	if err != nil {
		return err
	}
	var addrs []string
	for _, mode := range []string{"tls", "starttls"} {
		s, err := detecttest.NewSMTP(detecttest.SMTPConfig{Mode: mode, Cert: cert, Domain: hosts[0], Mechanisms: []string{"PLAIN", "LOGIN"}, Users: users})
		if err != nil {
			return err
		}
		o.closers = append(o.closers, s.Close)
		addrs = append(addrs, s.Addr)
	}
	imap, err := detecttest.NewIMAP(detecttest.IMAPConfig{Mode: "tls", Cert: cert, Users: imapUsers})
	if err != nil {
		return err
	}
	o.closers = append(o.closers, imap.Close)
	pop, err := detecttest.NewPOP3(detecttest.POP3Config{Mode: "tls", Cert: cert, Users: users})
	if err != nil {
		return err
	}
	o.closers = append(o.closers, pop.Close)
	o.Net.Route(hosts[0], 465, addrs[0])
	o.Net.Route(hosts[0], 587, addrs[1])
	o.Net.Route(hosts[1], 993, imap.Addr)
	o.Net.Route(hosts[2], 995, pop.Addr)
	o.Net.SRV("submissions", d, hosts[0], 465)
	o.Net.SRV("submission", d, hosts[0], 587)
	o.Net.SRV("imaps", d, hosts[1], 993)
	o.Net.SRV("pop3s", d, hosts[2], 995)
	return nil
}

// Close stops every server.
func (o *Office) Close() {
	o.Net.Close()
	for i := len(o.closers) - 1; i >= 0; i-- {
		o.closers[i]()
	}
	o.closers = nil
}

// CSV is the Office's client list: address,password,name per line, with a header.
func (o *Office) CSV() string {
	var b strings.Builder
	b.WriteString("address,password,name\n")
	for _, m := range o.Mailboxes {
		fmt.Fprintf(&b, "%s,%s,%s\n", m.Address, m.Password, m.Name)
	}
	return b.String()
}

func set(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

// Dialer is what a Meter wraps; detect.Dialer and *detecttest.Net satisfy it.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Meter counts the connections open at once per provider as the fake network sees
// them: it wraps a dialer, and a connection counts from its dial until its Close.
type Meter struct {
	inner Dialer
	key   func(host string) string
	mu    sync.Mutex
	open  map[string]int
	peak  map[string]int
	total int
}

// NewMeter wraps d; key names the provider a host belongs to (nil: the host's name
// without its first label, so smtp.d01.test and imap.d01.test count as d01.test).
func NewMeter(d Dialer, key func(host string) string) *Meter {
	if key == nil {
		key = func(h string) string {
			if _, rest, ok := strings.Cut(h, "."); ok {
				return rest
			}
			return h
		}
	}
	return &Meter{inner: d, key: key, open: map[string]int{}, peak: map[string]int{}}
}

// DialContext implements detect.Dialer.
func (m *Meter) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := m.inner.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(address)
	k := m.key(strings.ToLower(host))
	m.mu.Lock()
	m.open[k]++
	m.total++
	m.peak[k] = max(m.peak[k], m.open[k])
	m.mu.Unlock()
	return &meteredConn{Conn: c, done: sync.OnceFunc(func() {
		m.mu.Lock()
		m.open[k]--
		m.mu.Unlock()
	})}, nil
}

// Peak returns the most connections each provider had open at once.
func (m *Meter) Peak() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for k, v := range m.peak {
		out[k] = v
	}
	return out
}

// MaxPeak returns the highest peak of any provider, and that provider.
func (m *Meter) MaxPeak() (string, int) {
	peaks := m.Peak()
	keys := make([]string, 0, len(peaks))
	for k := range peaks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	best, n := "", 0
	for _, k := range keys {
		if peaks[k] > n {
			best, n = k, peaks[k]
		}
	}
	return best, n
}

// Total returns the connections opened so far.
func (m *Meter) Total() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.total
}

// Open returns the connections open now, over all providers.
func (m *Meter) Open() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, v := range m.open {
		n += v
	}
	return n
}

type meteredConn struct {
	net.Conn
	done func()
}

func (c *meteredConn) Close() error {
	err := c.Conn.Close()
	c.done()
	return err
}
