package netmemory

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect"
)

func TestObserveParsers(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"/proc/net/route":    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\nwlan0\t0000A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\nwlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\n",
		"/proc/net/arp":      "IP address       HW type     Flags       HW address            Mask     Device\n192.168.1.1      0x1         0x2         AA:bb:cc:dd:ee:ff     *        wlan0\n192.168.1.9      0x1         0x0         00:00:00:00:00:00     *        wlan0\n",
		"/proc/net/wireless": "Inter-| sta-|   Quality        |   Discarded packets\n face | tus | link level noise |  nwid  crypt\n wlan0: 0000   60.  -50.  -256        0      0\n",
	}
	cmds := map[string]string{
		"iw dev wlan0 link":                   "Connected to aa:bb:cc:dd:ee:01 (on wlan0)\n\tSSID: Hotel Guest\n\tfreq: 2412\n",
		"route -n get default":                "   route to: default\ndestination: default\n    gateway: 10.0.0.1\n  interface: en0\n",
		"arp -n 10.0.0.1":                     "? (10.0.0.1) at 0:1b:2c:3d:4e:5f on en0 ifscope [ethernet]\n",
		"networksetup -getairportnetwork en0": "Current Wi-Fi Network: Cafe\n",
		"route print -4 0.0.0.0":              "IPv4 Route Table\n===\nActive Routes:\nNetwork Destination        Netmask          Gateway       Interface  Metric\n          0.0.0.0          0.0.0.0      172.16.0.1    172.16.0.20     25\n",
		"arp -a 172.16.0.1":                   "\nInterface: 172.16.0.20 --- 0x4\n  Internet Address      Physical Address      Type\n  172.16.0.1            00-11-22-aa-bb-cc     dynamic\n",
		"netsh wlan show interfaces":          "    Name                   : Wi-Fi\n    SSID                   : Airport Free\n    BSSID                  : 00:11:22:33:44:55\n",
		"nmcli -t -f active,ssid dev wifi":    "no:Other\nyes:Home\\:5G\n",
	}
	sys := func(goos string, drop ...string) System {
		return System{GOOS: goos,
			ReadFile: func(p string) ([]byte, error) {
				if s, ok := files[p]; ok {
					return []byte(s), nil
				}
				return nil, os.ErrNotExist
			},
			Run: func(_ context.Context, name string, args ...string) ([]byte, error) {
				k := strings.Join(append([]string{name}, args...), " ")
				for _, d := range drop {
					if strings.HasPrefix(k, d) {
						return nil, errors.New("not installed")
					}
				}
				if s, ok := cmds[k]; ok {
					return []byte(s), nil
				}
				return nil, errors.New("no such command")
			}}
	}
	n := detect.Network{DNSServers: []string{"192.168.1.1", "unknown: x"}, PublicIP: ""}
	tests := []struct {
		name string
		sys  System
		want Fingerprint
	}{
		{"linux with iw", sys("linux"), Fingerprint{Gateway: "192.168.1.1", GatewayMAC: "aa:bb:cc:dd:ee:ff", WiFi: "Hotel Guest", DNS: []string{"192.168.1.1"}}},
		{"linux with nmcli only", sys("linux", "iw"), Fingerprint{Gateway: "192.168.1.1", GatewayMAC: "aa:bb:cc:dd:ee:ff", WiFi: "Home:5G", DNS: []string{"192.168.1.1"}}},
		{"macOS", sys("darwin"), Fingerprint{Gateway: "10.0.0.1", GatewayMAC: "00:1b:2c:3d:4e:5f", WiFi: "Cafe", DNS: []string{"192.168.1.1"}}},
		{"Windows", sys("windows"), Fingerprint{Gateway: "172.16.0.1", GatewayMAC: "00:11:22:aa:bb:cc", WiFi: "Airport Free", DNS: []string{"192.168.1.1"}}},
	}
	for _, tt := range tests {
		got := tt.sys.Observe(context.Background(), n)
		if got.Gateway != tt.want.Gateway || got.GatewayMAC != tt.want.GatewayMAC || got.WiFi != tt.want.WiFi || strings.Join(got.DNS, ",") != strings.Join(tt.want.DNS, ",") {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestFingerprintID(t *testing.T) {
	t.Parallel()
	a := Fingerprint{Gateway: "192.168.1.1", GatewayMAC: "AA:bb:cc:dd:ee:ff", WiFi: "Home", DNS: []string{"1.1.1.1"}}
	b := a
	b.Gateway, b.DNS = "192.168.1.254", []string{"9.9.9.9"} // DHCP moved things; same router
	if a.ID() != b.ID() {
		t.Error("the same router and Wi-Fi gave two ids")
	}
	c := a
	c.WiFi = "Home-Guest"
	if a.ID() == c.ID() {
		t.Error("another Wi-Fi on the same router gave the same id")
	}
	d := Fingerprint{Gateway: "10.0.0.1", DNS: []string{"10.0.0.1", "8.8.8.8"}}
	e := Fingerprint{Gateway: "10.0.0.1", DNS: []string{"8.8.8.8", "10.0.0.1"}}
	if d.ID() != e.ID() || len(d.ID()) != 12 {
		t.Errorf("DNS order changed the id: %s %s", d.ID(), e.ID())
	}
}

func TestStoreRecordCompareNameForget(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "mailsetup", "networks.json")
	s := Open(path)
	home := Fingerprint{Gateway: "192.168.1.1", GatewayMAC: "aa:aa:aa:aa:aa:aa", WiFi: "Home"}
	hotel := Fingerprint{Gateway: "10.9.0.1", GatewayMAC: "bb:bb:bb:bb:bb:bb", WiFi: "Hotel"}
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	homeNet := detect.Network{Port25: detect.Port25Open, Outbound: map[string]detect.PortState{"25": detect.PortOpen, "587": detect.PortOpen}}
	worked := []Outcome{{Protocol: detect.SMTP, Host: "mail.x.test", Port: 25, Security: detect.SecurityStartTLS, Worked: true}}
	if _, after, err := s.Record(home, VisitOf(t0, homeNet, worked)); err != nil || after.ID != home.ID() {
		t.Fatalf("record home: %+v %v", after, err)
	}
	if err := s.Name(home.ID(), "  Home\n "); err != nil {
		t.Fatal(err)
	}
	hotelNet := detect.Network{Port25: detect.Port25Blocked, Outbound: map[string]detect.PortState{"25": detect.PortFiltered, "587": detect.PortOpen}}
	failed := []Outcome{{Protocol: detect.SMTP, Host: "mail.x.test", Port: 25, Security: detect.SecurityStartTLS, Kind: detect.KindPort25Blocked},
		{Protocol: detect.SMTP, Host: "mail.x.test", Port: 587, Security: detect.SecurityStartTLS, Worked: true}}
	here := VisitOf(t0.Add(72*time.Hour), hotelNet, failed)
	before, _, err := s.Record(hotel, here)
	if err != nil || before.ID != "" {
		t.Fatalf("record hotel: before %+v %v", before, err)
	}
	all, err := s.List()
	if err != nil || len(all) != 2 || all[0].ID != hotel.ID() || all[1].Name != "Home" {
		t.Fatalf("list %+v %v", all, err)
	}
	lines := Compare(here, hotel.ID(), all)
	if len(lines) != 1 || lines[0] != "at Home on 2026-11-20: port 25 worked; here it is blocked" {
		t.Errorf("compare = %q", lines)
	}
	// Back at the hotel after Thunderbird was fixed: compared with the hotel's own last visit.
	again := VisitOf(t0.Add(96*time.Hour), hotelNet, failed[1:])
	if _, _, err := s.Record(hotel, again); err != nil {
		t.Fatal(err)
	}
	all, _ = s.List()
	if lines := Compare(again, hotel.ID(), all); len(lines) != 1 || !strings.HasPrefix(lines[0], "at Home") {
		t.Errorf("same network, nothing changed: %q", lines)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v %v", st, err)
	}
	data, _ := os.ReadFile(path)
	for _, secret := range []string{"password", "username", "user_name"} {
		if strings.Contains(strings.ToLower(string(data)), secret) {
			t.Errorf("the memory file mentions %q:\n%s", secret, data)
		}
	}
	if err := s.Forget(home.ID()); err != nil {
		t.Fatal(err)
	}
	if err := s.Forget(home.ID()); !errors.Is(err, ErrUnknown) {
		t.Errorf("forgetting twice: %v", err)
	}
	all, _ = s.List()
	if len(all) != 1 {
		t.Errorf("after forget: %+v", all)
	}
}

func TestStoreBounded(t *testing.T) {
	t.Parallel()
	s := Open(filepath.Join(t.TempDir(), "n.json"))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < MaxNetworks+2; i++ {
		fp := Fingerprint{Gateway: "10.0.0.1", WiFi: "net" + string(rune('A'+i%26)) + string(rune('a'+i/26))}
		visits := 1
		if i == MaxNetworks+1 {
			visits = MaxVisits + 2
		}
		for j := 0; j < visits; j++ {
			var outs []Outcome
			for k := 0; k < MaxOutcomes+5; k++ {
				outs = append(outs, Outcome{Protocol: detect.SMTP, Host: "h", Port: 1000 + k, Worked: true})
			}
			if _, _, err := s.Record(fp, VisitOf(t0.Add(time.Duration(i*100+j)*time.Minute), detect.Network{}, outs)); err != nil {
				t.Fatal(err)
			}
		}
	}
	all, _ := s.List()
	if len(all) != MaxNetworks || len(all[0].Visits) != MaxVisits || len(all[0].Visits[0].Outcomes) != MaxOutcomes {
		t.Errorf("bounds: %d networks, %d visits, %d outcomes", len(all), len(all[0].Visits), len(all[0].Visits[0].Outcomes))
	}
	st, _ := os.Stat(s.Path())
	t.Logf("a full memory file is %d KiB", st.Size()>>10)
	if st.Size() > maxFile {
		t.Errorf("file %d bytes over the cap", st.Size())
	}
}
