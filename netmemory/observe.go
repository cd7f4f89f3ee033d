package netmemory

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/mailsetup/mailsetup/detect"
)

// System is what Observe reads the network from; tests replace it.
type System struct {
	GOOS     string
	ReadFile func(path string) ([]byte, error)
	// Run runs a command and returns its output; a missing command is an error.
	Run func(ctx context.Context, name string, args ...string) ([]byte, error)
}

// Local is the running system.
func Local() System {
	return System{GOOS: runtime.GOOS, ReadFile: os.ReadFile, Run: func(ctx context.Context, name string, args ...string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return exec.CommandContext(ctx, name, args...).Output()
	}}
}

// Observe fingerprints the network in front of this computer: the default gateway
// and its hardware address from the neighbour table, the Wi-Fi name where the system
// tells it (Linux: /proc/net/wireless with iw or nmcli; macOS: networksetup; Windows:
// netsh), and the DNS servers and (only when the user allowed that lookup) the public
// address from the engine's network check n. Every step is best effort.
func (s System) Observe(ctx context.Context, n detect.Network) Fingerprint {
	fp := Fingerprint{PublicIP: n.PublicIP}
	for _, d := range n.DNSServers {
		if net.ParseIP(d) != nil {
			fp.DNS = append(fp.DNS, d)
		}
	}
	var iface string
	switch s.GOOS {
	case "linux":
		if b, err := s.ReadFile("/proc/net/route"); err == nil {
			fp.Gateway, iface = linuxGateway(b)
		}
		if fp.Gateway != "" {
			if b, err := s.ReadFile("/proc/net/arp"); err == nil {
				fp.GatewayMAC = linuxARP(b, fp.Gateway)
			}
		}
		if b, err := s.ReadFile("/proc/net/wireless"); err == nil {
			for _, w := range wirelessIfaces(b) {
				if iface == "" || w == iface {
					fp.WiFi = s.linuxSSID(ctx, w)
					break
				}
			}
		}
	case "darwin":
		if out, err := s.Run(ctx, "route", "-n", "get", "default"); err == nil {
			fp.Gateway, iface = darwinRoute(out)
		}
		if fp.Gateway != "" {
			if out, err := s.Run(ctx, "arp", "-n", fp.Gateway); err == nil {
				fp.GatewayMAC = findMAC(out)
			}
		}
		if iface != "" {
			if out, err := s.Run(ctx, "networksetup", "-getairportnetwork", iface); err == nil {
				fp.WiFi = afterColon(out, "Current Wi-Fi Network")
			}
		}
	case "windows":
		if out, err := s.Run(ctx, "route", "print", "-4", "0.0.0.0"); err == nil {
			fp.Gateway = windowsRoute(out)
		}
		if fp.Gateway != "" {
			if out, err := s.Run(ctx, "arp", "-a", fp.Gateway); err == nil {
				fp.GatewayMAC = findMAC(out)
			}
		}
		if out, err := s.Run(ctx, "netsh", "wlan", "show", "interfaces"); err == nil {
			fp.WiFi = afterColon(out, "SSID")
		}
	}
	return fp
}

// Observe fingerprints the network with the running system.
func Observe(ctx context.Context, n detect.Network) Fingerprint { return Local().Observe(ctx, n) }

// linuxGateway reads the IPv4 default route (gateway, interface) from /proc/net/route.
func linuxGateway(b []byte) (string, string) {
	s := bufio.NewScanner(strings.NewReader(string(b)))
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) < 3 || f[1] != "00000000" {
			continue
		}
		raw, err := hex.DecodeString(f[2])
		if err != nil || len(raw) != 4 {
			continue
		}
		ip := make(net.IP, 4)
		binary.LittleEndian.PutUint32(ip, binary.BigEndian.Uint32(raw))
		if ip.IsUnspecified() {
			continue
		}
		return ip.String(), f[0]
	}
	return "", ""
}

// linuxARP finds ip's hardware address in /proc/net/arp (complete entries only).
func linuxARP(b []byte, ip string) string {
	s := bufio.NewScanner(strings.NewReader(string(b)))
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) >= 4 && f[0] == ip && f[2] != "0x0" && f[3] != "00:00:00:00:00:00" {
			return strings.ToLower(f[3])
		}
	}
	return ""
}

// wirelessIfaces lists the interfaces /proc/net/wireless reports.
func wirelessIfaces(b []byte) []string {
	var out []string
	for i, line := range strings.Split(string(b), "\n") {
		if i < 2 {
			continue // two header lines
		}
		if name, _, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && name != "" {
			out = append(out, name)
		}
	}
	return out
}

func (s System) linuxSSID(ctx context.Context, iface string) string {
	if out, err := s.Run(ctx, "iw", "dev", iface, "link"); err == nil {
		if v := afterColon(out, "SSID"); v != "" {
			return v
		}
	}
	if out, err := s.Run(ctx, "nmcli", "-t", "-f", "active,ssid", "dev", "wifi"); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "yes:"); ok && v != "" {
				return strings.ReplaceAll(v, `\:`, ":")
			}
		}
	}
	return ""
}

func darwinRoute(out []byte) (string, string) {
	return afterColon(out, "gateway"), afterColon(out, "interface")
}

var winRouteRe = regexp.MustCompile(`^\s*0\.0\.0\.0\s+0\.0\.0\.0\s+(\d+\.\d+\.\d+\.\d+)\s`)

func windowsRoute(out []byte) string {
	for _, line := range strings.Split(string(out), "\n") {
		if m := winRouteRe.FindStringSubmatch(line); m != nil {
			return m[1]
		}
	}
	return ""
}

var macRe = regexp.MustCompile(`(?i)\b([0-9a-f]{1,2}[:-]){5}[0-9a-f]{1,2}\b`)

// findMAC finds the first hardware address in arp's output (a:b:… or a-b-…), normalised.
func findMAC(out []byte) string {
	m := macRe.Find(out)
	if m == nil {
		return ""
	}
	parts := strings.FieldsFunc(strings.ToLower(string(m)), func(r rune) bool { return r == ':' || r == '-' })
	for i, p := range parts {
		if len(p) == 1 {
			parts[i] = "0" + p
		}
	}
	return strings.Join(parts, ":")
}

// afterColon returns the value of the first "key: value" line whose key is key.
func afterColon(out []byte, key string) string {
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
