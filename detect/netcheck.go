package detect

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/detect/trust"
)

// Network-check timing: each connect attempt, the port-25 early decision after a
// control port answered, and the whole section.
const (
	connectCap       = 2500 * time.Millisecond
	port25Grace      = 1500 * time.Millisecond
	networkCap       = 5 * time.Second
	bannerCap        = 1500 * time.Millisecond
	maxNetcheckConns = 32
)

// Port25Verdict is what the network does with outgoing port 25 (docs/NETWORK.md).
type Port25Verdict string

// Port-25 verdicts, as the report spells them.
const (
	Port25Open        Port25Verdict = "open"
	Port25Blocked     Port25Verdict = "blocked"
	Port25Intercepted Port25Verdict = "intercepted"
	Port25Unknown     Port25Verdict = "unknown"
)

// PortState is what one outbound port looks like from here.
type PortState string

// Outbound port states, as the report spells them.
const (
	PortOpen        PortState = "open"
	PortRefused     PortState = "refused"
	PortFiltered    PortState = "filtered"
	PortIntercepted PortState = "intercepted"
	PortUnknown     PortState = "unknown"
)

// outboundPorts are the ports whose reachability the network section maps.
var outboundPorts = []int{25, 465, 587, 2525, 110, 995, 143, 993}

// DefaultCaptivePortalURL answers 204 with an empty body on an open network.
const DefaultCaptivePortalURL = "http://connectivitycheck.gstatic.com/generate_204"

// PortObservation is what one connect attempt to host:port saw.
type PortObservation struct {
	Host   string
	Port   int
	Status PortState
	// Early is true when a filtered verdict came from the early decision, not a full timeout.
	Early   bool
	Elapsed time.Duration
	// Banner is the SMTP greeting on port 25 (first line), BannerHost its first word.
	Banner     string
	BannerHost string
	// STARTTLS reports whether EHLO on port 25 offered STARTTLS.
	STARTTLS bool
	// Expect is the domain the banner should name (the target's domain or a reference host's suffix).
	Expect string
	// Accept are more domains a genuine greeting may name (the provider's domains, MX
	// and banner suffixes), and PeerName the reverse name of the address that answered.
	Accept   []string
	PeerName string
	// KnownSTARTTLS says the target is known to offer STARTTLS on 25.
	KnownSTARTTLS bool
}

// netTarget is a host the check dials, with what is known about it.
type netTarget struct {
	host          string
	ports         []int
	expect        string
	accept        []string
	knownSTARTTLS bool
}

// CheckNetwork describes the network in front of the engine: local addresses, DNS,
// IPv6, captive portal, the outbound port map against targets and reference hosts,
// and the port-25 verdict. It returns within networkCap even if every dial hangs.
func (o *engine) CheckNetwork(ctx context.Context, targets []string) Network {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, networkCap)
	defer cancel()
	n := Network{Outbound: map[string]PortState{}, LocalAddresses: []string{}, DNSServers: []string{}, Port25Evidence: []string{}, Advice: []string{}}

	var wg sync.WaitGroup
	var captive *bool
	var publicIP string
	wg.Add(2)
	go func() { defer wg.Done(); captive = o.captivePortal(ctx) }()
	go func() { defer wg.Done(); publicIP = o.publicIP(ctx) }()

	n.LocalAddresses, n.IPv6 = localAddresses()
	var dnsErr error
	n.DNSServers, dnsErr = systemDNS(ctx)
	if dnsErr != nil {
		n.DNSServers = []string{"unknown: " + dnsErr.Error()}
	}
	n.Gateway = defaultGateway()
	obs := o.observePorts(ctx, o.netTargets(targets))
	n.DNSWorks = o.dnsWorks(ctx, targets)
	wg.Wait()

	n.CaptivePortal = captive
	n.PublicIP = publicIP
	if publicIP != "" {
		rctx, rcancel := context.WithTimeout(ctx, time.Second)
		if names, err := net.DefaultResolver.LookupAddr(rctx, publicIP); err == nil && len(names) > 0 {
			n.PublicName = strings.TrimSuffix(names[0], ".")
		}
		rcancel()
	}
	n.Outbound = outboundMap(obs)
	n.Port25, n.Port25Evidence = DecidePort25(obs)
	if n.Port25 == Port25Intercepted {
		n.Outbound["25"] = PortIntercepted
	}
	n.Advice = networkAdvice(n)
	n.ElapsedMS = time.Since(start).Milliseconds()
	return n
}

// netTargets are the account's outgoing hosts (all ports) plus the reference hosts
// (the ports they are known to answer on).
func (o *engine) netTargets(hosts []string) []netTarget {
	var out []netTarget
	seen := map[string]bool{}
	for _, h := range hosts {
		h = strings.ToLower(h)
		if seen[h] {
			continue
		}
		seen[h] = true
		t := netTarget{host: h, ports: outboundPorts, expect: trust.Registrable(h)}
		if p := o.Providers.ByServer(h); p != nil {
			t.accept = append(append(append([]string(nil), p.Domains...), p.MXSuffixes...), p.BannerSuffixes...)
			for _, s := range p.Servers {
				t.accept = append(t.accept, trust.Registrable(s.Host))
			}
		}
		out = append(out, t)
	}
	if o.Providers != nil {
		for _, r := range o.Providers.ReferenceHosts {
			if seen[r.Host] {
				continue
			}
			seen[r.Host] = true
			out = append(out, netTarget{host: r.Host, ports: r.Ports, expect: r.BannerSuffix, knownSTARTTLS: r.STARTTLS25})
		}
	}
	return out
}

// observePorts dials every target port at once (bounded), reads the SMTP banner on 25,
// and decides port 25 early: once a control port (465/587) of any target answered, a
// port-25 attempt still pending port25Grace later counts as filtered.
func (o *engine) observePorts(ctx context.Context, targets []netTarget) []PortObservation {
	ctx25, cancel25 := context.WithCancelCause(ctx)
	defer cancel25(nil)
	var once sync.Once
	controlAnswered := func() {
		once.Do(func() {
			time.AfterFunc(port25Grace, func() { cancel25(errEarly25) })
		})
	}
	sem := make(chan struct{}, maxNetcheckConns)
	var mu sync.Mutex
	var obs []PortObservation
	var wg sync.WaitGroup
	for _, t := range targets {
		for _, p := range t.ports {
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case sem <- struct{}{}:
					defer func() { <-sem }()
				case <-ctx.Done():
					return
				}
				dctx := ctx
				if p == 25 {
					dctx = ctx25
				}
				ob := o.observe(dctx, t, p)
				if ob.Status == PortOpen && (p == 465 || p == 587) {
					controlAnswered()
				}
				mu.Lock()
				obs = append(obs, ob)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	sort.Slice(obs, func(i, j int) bool {
		if obs[i].Host != obs[j].Host {
			return obs[i].Host < obs[j].Host
		}
		return obs[i].Port < obs[j].Port
	})
	return obs
}

var errEarly25 = errors.New("detect: port 25 still silent after a control port answered")

// observe connects to one host:port and classifies the outcome.
func (o *engine) observe(ctx context.Context, t netTarget, port int) PortObservation {
	ob := PortObservation{Host: t.host, Port: port, Expect: t.expect, Accept: t.accept, KnownSTARTTLS: t.knownSTARTTLS}
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, connectCap)
	defer cancel()
	conn, err := o.dialer().DialContext(cctx, "tcp", net.JoinHostPort(t.host, strconv.Itoa(port)))
	ob.Elapsed = time.Since(start)
	if err != nil {
		f := Classify("connect", err)
		switch {
		case f.Kind == KindRefused:
			ob.Status = PortRefused
		case f.Kind == KindTimeout || f.Kind == KindCanceled:
			ob.Status = PortFiltered
			ob.Early = errors.Is(context.Cause(ctx), errEarly25)
		default:
			ob.Status = PortUnknown
		}
		return ob
	}
	defer conn.Close()
	ob.Status = PortOpen
	// Port 25 is what is judged; the clear-text greeting of the same host's submission
	// ports says what the real server calls itself, for comparison.
	if port == 25 || port == 587 || port == 2525 {
		ob.Banner, ob.STARTTLS = readSMTPGreeting(ctx, conn)
		if f := strings.Fields(strings.TrimPrefix(ob.Banner, "220")); len(f) > 0 {
			ob.BannerHost = strings.ToLower(strings.TrimPrefix(f[0], "-"))
		}
	}
	if port == 25 {
		ob.PeerName = o.reverseName(ctx, conn.RemoteAddr())
	}
	return ob
}

// readSMTPGreeting reads the 220 greeting, sends EHLO and reports whether STARTTLS is offered.
func readSMTPGreeting(ctx context.Context, conn net.Conn) (string, bool) {
	deadline := time.Now().Add(bannerCap)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	r := bufio.NewReader(io.LimitReader(conn, 64<<10))
	var banner string
	for {
		line, err := r.ReadString('\n')
		if banner == "" {
			banner = strings.TrimSpace(line)
		}
		if err != nil || len(line) < 4 || line[3] != '-' {
			break
		}
	}
	if !strings.HasPrefix(banner, "220") {
		return banner, false
	}
	if _, err := conn.Write([]byte("EHLO " + ehloName + "\r\n")); err != nil {
		return banner, false
	}
	starttls := false
	for {
		line, err := r.ReadString('\n')
		if strings.Contains(strings.ToUpper(line), "STARTTLS") {
			starttls = true
		}
		if err != nil || len(line) < 4 || line[3] != '-' {
			break
		}
	}
	_, _ = conn.Write([]byte("QUIT\r\n"))
	return banner, starttls
}

// DecidePort25 decides open|blocked|intercepted|unknown from port observations.
func DecidePort25(obs []PortObservation) (Port25Verdict, []string) {
	var evidence []string
	p25 := map[string]PortObservation{}
	control := map[string]PortObservation{}
	for _, ob := range obs {
		switch ob.Port {
		case 25:
			p25[ob.Host] = ob
		case 465, 587:
			if ob.Status == PortOpen {
				control[ob.Host] = ob
			}
		}
	}
	if len(p25) == 0 {
		return Port25Unknown, []string{"no host was tried on port 25"}
	}
	hosts := make([]string, 0, len(p25))
	for h := range p25 {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)

	// Something answered on 25: is it the server we asked for? Only real evidence counts:
	// an answer that is no SMTP greeting; a greeting that names none of the host's domain,
	// its provider, the answering address's reverse name or what the host's own other
	// ports greet as; STARTTLS missing where it is known; unrelated hosts (different
	// registrable domains) answering with the very same greeting. Several names of one
	// domain reaching one server and greeting alike is normal.
	others := otherGreetings(obs)
	var open []PortObservation
	for _, h := range hosts {
		if ob := p25[h]; ob.Status == PortOpen {
			open = append(open, ob)
		}
	}
	if len(open) > 0 {
		for _, ob := range open {
			switch {
			case ob.BannerHost == "" || !strings.HasPrefix(ob.Banner, "220"):
				evidence = append(evidence, fmt.Sprintf("%s:25 answered %q instead of an SMTP greeting", ob.Host, clip(ob.Banner)))
			case ob.Expect != "" && !genuineGreeting(ob, others[ob.Host]):
				e := fmt.Sprintf("%s:25 greeted as %s, not as a host of %s", ob.Host, ob.BannerHost, ob.Expect)
				if o := others[ob.Host]; len(o) > 0 {
					e += fmt.Sprintf(" (its port %d greets as %s)", o[0].Port, o[0].BannerHost)
				}
				evidence = append(evidence, e)
			}
			if ob.KnownSTARTTLS && !ob.STARTTLS {
				evidence = append(evidence, fmt.Sprintf("%s is known to offer STARTTLS on 25, but the answer lacked it", ob.Host))
			}
		}
		evidence = append(evidence, unrelatedAlike(open)...)
		if len(evidence) > 0 {
			sort.Strings(evidence)
			return Port25Intercepted, evidence
		}
		for _, ob := range open {
			evidence = append(evidence, fmt.Sprintf("%s:25 answered as %s in %d ms", ob.Host, ob.BannerHost, ob.Elapsed.Milliseconds()))
		}
		return Port25Open, evidence
	}

	// Nothing answered on 25: blocked if the same hosts answer on a control port.
	var filtered, refused []string
	for _, h := range hosts {
		ob := p25[h]
		c, ok := control[h]
		if !ok {
			continue
		}
		switch ob.Status {
		case PortFiltered:
			filtered = append(filtered, h)
			how := fmt.Sprintf("timed out after %d ms", ob.Elapsed.Milliseconds())
			if ob.Early {
				how = fmt.Sprintf("stayed silent for %d ms", ob.Elapsed.Milliseconds())
			}
			evidence = append(evidence, fmt.Sprintf("%s:25 %s while %s:%d answered in %d ms", h, how, h, c.Port, c.Elapsed.Milliseconds()))
		case PortRefused:
			refused = append(refused, h)
			evidence = append(evidence, fmt.Sprintf("%s:25 refused the connection while %s:%d answered", h, h, c.Port))
		}
	}
	if len(filtered) > 0 || len(refused) >= 2 {
		return Port25Blocked, evidence
	}
	if len(refused) == 1 {
		return Port25Unknown, append(evidence, "only one host refused port 25: that server may simply not offer it")
	}
	return Port25Unknown, []string{"no host answered on any port to compare with: offline, or everything is filtered"}
}

// otherGreetings collects, per host, the clear-text greetings of its ports other than 25.
func otherGreetings(obs []PortObservation) map[string][]PortObservation {
	out := map[string][]PortObservation{}
	for _, ob := range obs {
		if ob.Port != 25 && ob.Status == PortOpen && ob.BannerHost != "" && strings.HasPrefix(ob.Banner, "220") {
			out[ob.Host] = append(out[ob.Host], ob)
		}
	}
	return out
}

// unrelatedAlike reports identical port-25 greetings from hosts of different registrable
// domains: servers of unrelated providers never greet byte for byte alike, an
// intercepting proxy answering for all of them does.
func unrelatedAlike(open []PortObservation) []string {
	byBanner := map[string][]PortObservation{}
	for _, ob := range open {
		if ob.Banner != "" {
			byBanner[ob.Banner] = append(byBanner[ob.Banner], ob)
		}
	}
	var evidence []string
	for banner, group := range byBanner {
		domains := map[string]bool{}
		var hosts []string
		for _, ob := range group {
			domains[trust.Registrable(ob.Host)] = true
			hosts = append(hosts, ob.Host)
		}
		if len(domains) > 1 {
			sort.Strings(hosts)
			evidence = append(evidence, fmt.Sprintf("%s, of unrelated domains, all gave the same greeting %q", strings.Join(hosts, ", "), clip(banner)))
		}
	}
	return evidence
}

// genuineGreeting reports whether the greeting's host name belongs to the target: its
// domain, the host itself, the provider's known domains, the reverse name of the address
// that answered, or the name the host's own other ports greet as.
func genuineGreeting(ob PortObservation, others []PortObservation) bool {
	names := append([]string{ob.Expect, ob.Host}, ob.Accept...)
	if ob.PeerName != "" {
		names = append(names, ob.PeerName, trust.Registrable(ob.PeerName))
	}
	for _, o := range others {
		names = append(names, o.BannerHost, trust.Registrable(o.BannerHost))
	}
	for _, n := range names {
		if n != "" && nameMatches(ob.BannerHost, n) {
			return true
		}
	}
	return false
}

// reverseName looks up the name of addr when the resolver can (net.Resolver can).
func (o *engine) reverseName(ctx context.Context, addr net.Addr) string {
	r, ok := o.resolver().(interface {
		LookupAddr(ctx context.Context, addr string) ([]string, error)
	})
	ta, isTCP := addr.(*net.TCPAddr)
	if !ok || !isTCP {
		return ""
	}
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	names, err := r.LookupAddr(cctx, ta.IP.String())
	if err != nil || len(names) == 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(names[0], "."))
}

// nameMatches reports whether host equals domain or lies under it.
func nameMatches(host, domain string) bool {
	host, domain = strings.TrimSuffix(host, "."), strings.TrimSuffix(strings.ToLower(domain), ".")
	return host == domain || strings.HasSuffix(host, "."+domain)
}

// outboundMap summarises per port: open if any host answered, else refused if any
// refused, else filtered if any timed out.
func outboundMap(obs []PortObservation) map[string]PortState {
	out := map[string]PortState{}
	for _, p := range outboundPorts {
		state := PortUnknown
		for _, ob := range obs {
			if ob.Port != p {
				continue
			}
			switch {
			case ob.Status == PortOpen:
				state = PortOpen
			case ob.Status == PortRefused && state != PortOpen:
				state = PortRefused
			case ob.Status == PortFiltered && state == PortUnknown:
				state = PortFiltered
			}
		}
		out[strconv.Itoa(p)] = state
	}
	return out
}

// networkAdvice turns the verdicts into plain words.
func networkAdvice(n Network) []string {
	return networkSentences(n).text
}

// networkSentences is the network advice with its notices (NetworkNotices).
func networkSentences(n Network) sentences {
	var a sentences
	switch n.Port25 {
	case Port25Blocked:
		a.add("This network blocks outgoing port 25, as many ISPs, hotels and public networks do. Send through port 587 (STARTTLS) or 465 (TLS) with your login; they work almost everywhere.", NoticeNetPort25Blocked)
		a.add("If your account sends only through port 25 without a login (some ISPs accept mail only from their own network), it works at home but not here: use the provider's 587/465 server with a login, or this network's own SMTP server.", NoticeNetPort25Home)
	case Port25Intercepted:
		a.add("Something on this network answers port 25 in place of the real server. Do not send a password there; use 465 (TLS) or 587 (STARTTLS), whose certificates prove who answers.", NoticeNetPort25Interc)
	}
	if n.CaptivePortal != nil && *n.CaptivePortal {
		a.add("This network shows a sign-in page (captive portal): open a web page and accept its terms, then check again.", NoticeNetCaptive)
	}
	if n.Outbound["587"] == PortFiltered && n.Outbound["465"] == PortFiltered {
		a.add("Ports 587 and 465 are both silent too: this network may allow only web traffic. Try another network or a VPN.", NoticeNetWebOnly)
	}
	return a
}

// localAddresses lists this machine's non-loopback addresses and an IPv6 summary.
func localAddresses() ([]string, string) {
	out := []string{}
	ifaces, err := net.Interfaces()
	if err != nil {
		return out, "unknown: " + err.Error()
	}
	v6 := false
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			out = append(out, ipn.IP.String())
			if ipn.IP.To4() == nil && ipn.IP.IsGlobalUnicast() && !ipn.IP.IsPrivate() {
				v6 = true
			}
		}
	}
	if v6 {
		return out, "global address configured"
	}
	return out, "no global IPv6 address"
}

// dnsWorks asks the resolver for the first target (or a reference host): "yes", or
// "no: reason"; "unknown" when there is nothing to ask about.
func (o *engine) dnsWorks(ctx context.Context, targets []string) string {
	name := ""
	if len(targets) > 0 {
		name = targets[0]
	} else if o.Providers != nil && len(o.Providers.ReferenceHosts) > 0 {
		name = o.Providers.ReferenceHosts[0].Host
	}
	if name == "" {
		return "unknown"
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := o.resolver().LookupHost(cctx, name); err != nil {
		return "no: " + err.Error()
	}
	return "yes"
}

// captivePortal fetches a URL whose answer is known (204, empty): another answer or a
// redirect means a portal; no answer means unknown (nil).
func (o *engine) captivePortal(ctx context.Context) *bool {
	u := o.CaptivePortalURL
	if u == "" {
		u = DefaultCaptivePortalURL
	}
	if u == "off" {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	client := &http.Client{
		Transport: &http.Transport{DialContext: o.dialer().DialContext, TLSClientConfig: &tls.Config{RootCAs: o.Roots()}, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect is the portal's answer
		},
	}
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, u, nil)
	if err != nil {
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	portal := resp.StatusCode != http.StatusNoContent || len(body) > 0
	return &portal
}

// publicIP asks Options.PublicIPURL (plain-text answer) for this network's public
// address; empty when not configured or unreachable.
func (o *engine) publicIP(ctx context.Context) string {
	if o.PublicIPURL == "" {
		return ""
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{DialContext: o.dialer().DialContext, TLSClientConfig: &tls.Config{RootCAs: o.Roots()}, DisableKeepAlives: true}}
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, o.PublicIPURL, nil)
	if err != nil {
		return ""
	}
	resp, err := client.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	ip := net.ParseIP(strings.TrimSpace(string(body)))
	if resp.StatusCode != http.StatusOK || ip == nil {
		return ""
	}
	return ip.String()
}
