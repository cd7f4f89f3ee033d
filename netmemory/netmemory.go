// Package netmemory remembers the networks this computer checked mail from, without
// secrets: a fingerprint of each network (default gateway and its hardware address,
// Wi-Fi name, DNS servers, the public address only when the user allowed that
// lookup), what was open, blocked or intercepted there and which settings worked or
// failed. It never stores passwords or user names. The memory is one JSON file
// (os.UserConfigDir()/mailsetup/networks.json), written atomically with mode 0600 and
// bounded in size.
package netmemory

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/detect"
)

// Limits that keep the file small.
const (
	MaxNetworks = 64
	MaxVisits   = 8
	MaxOutcomes = 24
	maxFile     = 4 << 20
)

// Fingerprint identifies a network without secrets.
type Fingerprint struct {
	Gateway    string   `json:"gateway,omitempty"`
	GatewayMAC string   `json:"gateway_mac,omitempty"`
	WiFi       string   `json:"wifi,omitempty"`
	DNS        []string `json:"dns,omitempty"`
	PublicIP   string   `json:"public_ip,omitempty"`
}

// Empty reports whether nothing identifies the network.
func (f Fingerprint) Empty() bool {
	return f.Gateway == "" && f.GatewayMAC == "" && f.WiFi == "" && len(f.DNS) == 0 && f.PublicIP == ""
}

// ID is a stable short identifier: from the gateway's hardware address and the Wi-Fi
// name when known (they survive DHCP changes), else from the gateway address, Wi-Fi
// name and DNS servers.
func (f Fingerprint) ID() string {
	var basis string
	if f.GatewayMAC != "" {
		basis = "mac=" + strings.ToLower(f.GatewayMAC) + "|wifi=" + f.WiFi
	} else {
		dns := append([]string(nil), f.DNS...)
		sort.Strings(dns)
		basis = "gw=" + f.Gateway + "|wifi=" + f.WiFi + "|dns=" + strings.Join(dns, ",") + "|ip=" + f.PublicIP
	}
	h := sha256.Sum256([]byte(basis))
	return hex.EncodeToString(h[:])[:12]
}

// Outcome is how one server setting fared (no user name, no password).
type Outcome struct {
	Protocol detect.Protocol `json:"protocol"`
	Host     string          `json:"host"`
	Port     int             `json:"port"`
	Security detect.Security `json:"security"`
	Worked   bool            `json:"worked"`
	Kind     detect.Kind     `json:"kind,omitempty"`
}

// Visit is what one check saw on a network.
type Visit struct {
	At            time.Time                   `json:"at"`
	Port25        detect.Port25Verdict        `json:"port25"`
	Outbound      map[string]detect.PortState `json:"outbound,omitempty"`
	CaptivePortal *bool                       `json:"captive_portal,omitempty"`
	Outcomes      []Outcome                   `json:"outcomes,omitempty"`
}

// Network is one remembered network.
type Network struct {
	ID          string      `json:"id"`
	Name        string      `json:"name,omitempty"`
	Fingerprint Fingerprint `json:"fingerprint"`
	FirstSeen   time.Time   `json:"first_seen"`
	LastSeen    time.Time   `json:"last_seen"`
	Visits      []Visit     `json:"visits"`
}

// Label names the network for people: its name, else its Wi-Fi name, else its gateway.
func (n Network) Label() string {
	switch {
	case n.Name != "":
		return n.Name
	case n.Fingerprint.WiFi != "":
		return "Wi-Fi " + strconv.Quote(n.Fingerprint.WiFi)
	case n.Fingerprint.Gateway != "":
		return "the network behind gateway " + n.Fingerprint.Gateway
	}
	return "network " + n.ID
}

// Last returns the latest visit.
func (n Network) Last() Visit {
	if len(n.Visits) == 0 {
		return Visit{}
	}
	return n.Visits[len(n.Visits)-1]
}

type file struct {
	Version  int       `json:"version"`
	Networks []Network `json:"networks"`
}

// Store is the memory file; its methods are safe for concurrent use in one process.
type Store struct {
	path string
	mu   sync.Mutex
}

// DefaultPath is os.UserConfigDir()/mailsetup/networks.json.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("netmemory: %w", err)
	}
	return filepath.Join(dir, "mailsetup", "networks.json"), nil
}

// Open returns the store at path (the file is created on the first Record).
func Open(path string) *Store { return &Store{path: path} }

// Path returns the file the store reads and writes.
func (s *Store) Path() string { return s.path }

// ErrUnknown says no remembered network has that ID.
var ErrUnknown = errors.New("netmemory: no remembered network with that id")

func (s *Store) load() (file, error) {
	var f file
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return file{Version: 1}, nil
	}
	if err != nil {
		return f, fmt.Errorf("netmemory: %w", err)
	}
	if len(data) > maxFile {
		return f, fmt.Errorf("netmemory: %s is larger than %d bytes", s.path, maxFile)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("netmemory: %s: %w", s.path, err)
	}
	return f, nil
}

func (s *Store) save(f file) error {
	f.Version = 1
	sort.SliceStable(f.Networks, func(i, j int) bool { return f.Networks[i].LastSeen.After(f.Networks[j].LastSeen) })
	if len(f.Networks) > MaxNetworks {
		f.Networks = f.Networks[:MaxNetworks]
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("netmemory: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("netmemory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".networks.*")
	if err != nil {
		return fmt.Errorf("netmemory: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("netmemory: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("netmemory: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("netmemory: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("netmemory: %w", err)
	}
	return nil
}

// VisitOf turns a network check and the outcomes of a run into a visit.
func VisitOf(at time.Time, n detect.Network, outcomes []Outcome) Visit {
	v := Visit{At: at.UTC().Truncate(time.Second), Port25: n.Port25, CaptivePortal: n.CaptivePortal, Outbound: map[string]detect.PortState{}}
	for k, val := range n.Outbound {
		v.Outbound[k] = val
	}
	seen := map[string]bool{}
	for _, o := range outcomes {
		k := fmt.Sprintf("%s|%s|%d|%s", o.Protocol, strings.ToLower(o.Host), o.Port, o.Security)
		if seen[k] || len(v.Outcomes) >= MaxOutcomes {
			continue
		}
		seen[k] = true
		v.Outcomes = append(v.Outcomes, o)
	}
	return v
}

// Record adds a visit to the network fp identifies (remembering it when new) and
// returns that network as it was before this visit (zero Network when new) and as it
// is now.
func (s *Store) Record(fp Fingerprint, v Visit) (before, after Network, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.load()
	if err != nil {
		return Network{}, Network{}, err
	}
	id := fp.ID()
	i := -1
	for j, n := range f.Networks {
		if n.ID == id {
			i = j
		}
	}
	if i < 0 {
		f.Networks = append(f.Networks, Network{ID: id, Fingerprint: fp, FirstSeen: v.At})
		i = len(f.Networks) - 1
	} else {
		before = f.Networks[i]
	}
	n := &f.Networks[i]
	n.Fingerprint = fp
	n.LastSeen = v.At
	n.Visits = append(n.Visits, v)
	if len(n.Visits) > MaxVisits {
		n.Visits = n.Visits[len(n.Visits)-MaxVisits:]
	}
	after = *n
	return before, after, s.save(f)
}

// List returns the remembered networks, most recently seen first.
func (s *Store) List() ([]Network, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.load()
	if err != nil {
		return nil, err
	}
	sort.SliceStable(f.Networks, func(i, j int) bool { return f.Networks[i].LastSeen.After(f.Networks[j].LastSeen) })
	return f.Networks, nil
}

// Name gives a remembered network a name (empty removes it).
func (s *Store) Name(id, name string) error {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	if len(name) > 80 {
		name = name[:80]
	}
	return s.update(id, func(f *file, i int) { f.Networks[i].Name = name })
}

// Forget removes a remembered network.
func (s *Store) Forget(id string) error {
	return s.update(id, func(f *file, i int) { f.Networks = append(f.Networks[:i], f.Networks[i+1:]...) })
}

func (s *Store) update(id string, change func(*file, int)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.load()
	if err != nil {
		return err
	}
	for i, n := range f.Networks {
		if n.ID == id {
			change(&f, i)
			return s.save(f)
		}
	}
	return fmt.Errorf("%w: %s", ErrUnknown, id)
}

// portStates reads a visit's per-port facts: "open", "blocked", "intercepted", or for
// settings "worked"/"failed"; keyed "25", "587" … (ports) and "smtp host:587 starttls" (settings).
func portStates(v Visit) map[int]string {
	out := map[int]string{}
	for k, s := range v.Outbound {
		p, err := strconv.Atoi(k)
		if err != nil {
			continue
		}
		switch s {
		case detect.PortOpen:
			out[p] = "open"
		case detect.PortFiltered:
			out[p] = "blocked"
		case detect.PortIntercepted:
			out[p] = "intercepted"
		}
	}
	switch v.Port25 {
	case detect.Port25Blocked:
		out[25] = "blocked"
	case detect.Port25Intercepted:
		out[25] = "intercepted"
	case detect.Port25Open:
		out[25] = "open"
	}
	for _, o := range v.Outcomes {
		if o.Worked {
			out[o.Port] = "worked"
		} else if o.Kind == detect.KindPort25Blocked || o.Kind == detect.KindTimeout {
			if out[o.Port] == "" || out[o.Port] == "open" {
				out[o.Port] = "blocked"
			}
		}
	}
	return out
}

func good(s string) bool { return s == "open" || s == "worked" }

var thenWords = map[string]string{"open": "was open", "worked": "worked", "blocked": "was blocked", "intercepted": "was intercepted"}
var nowWords = map[string]string{"open": "is open", "worked": "works", "blocked": "is blocked", "intercepted": "is intercepted"}

// Compare says in plain words how the networks remembered in others differ from
// here (the latest visit on each, here excluded), e.g. "at Home on 2026-11-20: port 25
// worked; here it is blocked". Only ports whose fate differs are named.
func Compare(here Visit, hereID string, others []Network) []string {
	now := portStates(here)
	var out []string
	for _, n := range others {
		if len(n.Visits) == 0 {
			continue
		}
		last := n.Last()
		if n.ID == hereID {
			// This network itself: compare with the visit before this one.
			if len(n.Visits) < 2 {
				continue
			}
			last = n.Visits[len(n.Visits)-2]
		}
		then := portStates(last)
		ports := make([]int, 0, len(then))
		for p := range then {
			ports = append(ports, p)
		}
		sort.Ints(ports)
		var diffs []string
		for _, p := range ports {
			a, b := then[p], now[p]
			if b == "" || a == b || good(a) == good(b) && a != "intercepted" && b != "intercepted" {
				continue
			}
			diffs = append(diffs, fmt.Sprintf("port %d %s; here it %s", p, thenWords[a], nowWords[b]))
		}
		if len(diffs) == 0 {
			continue
		}
		where := n.Label()
		if n.ID == hereID {
			where = "here (" + n.Label() + ")"
		}
		out = append(out, fmt.Sprintf("at %s on %s: %s", where, last.At.Format("2006-01-02"), strings.Join(diffs, "; ")))
	}
	return out
}
