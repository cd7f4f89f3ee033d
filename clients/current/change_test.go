package current

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/detect"
)

func probe(proto detect.Protocol, host string, port int, sec detect.Security, status detect.Status, verified bool, mechs ...string) detect.ProbeResult {
	k := detect.KindOK
	switch status {
	case detect.StatusTimeout:
		k = detect.KindTimeout
	case detect.StatusRefused:
		k = detect.KindRefused
	case detect.StatusAuthFailed:
		k = detect.KindAuthRejected
	case detect.StatusSkipped:
		k = detect.KindPort25Blocked
	case detect.StatusTLSFailed:
		k = detect.KindTLSHandshake
	}
	p := detect.ProbeResult{Protocol: proto, Host: host, Port: port, Security: sec, Status: status, Verified: verified,
		AuthMechanisms: mechs, Diagnosis: detect.DiagnosisFor(&detect.Failure{Kind: k})}
	if verified {
		p.AuthUsed, p.UsernameUsed = "PLAIN", "me"
		if len(mechs) > 0 {
			p.AuthUsed = mechs[0]
		}
	}
	if status == detect.StatusOK && !verified && k == detect.KindOK {
		p.Diagnosis = detect.DiagnosisFor(&detect.Failure{Kind: detect.KindUnverified})
	}
	return p
}

const (
	smtp = detect.SMTP
	imap = detect.IMAP
	tls  = detect.SecurityTLS
	stls = detect.SecurityStartTLS
	none = detect.SecurityNone
	ok   = detect.StatusOK
)

func TestSmallestChange(t *testing.T) {
	t.Parallel()
	cur25 := detect.Setting{Protocol: smtp, Host: "mail.x.test", Port: 25, Security: stls, Auth: "password-cleartext", Username: "me"}
	tests := []struct {
		name     string
		cur      detect.Setting
		probes   []detect.ProbeResult
		password bool
		want     string // "host:port security tier fields" or "" for none
	}{
		{"port 25 blocked: 587 STARTTLS, port only, before 2525 and 465", cur25, []detect.ProbeResult{
			probe(smtp, "mail.x.test", 465, tls, ok, true, "PLAIN"),
			probe(smtp, "mail.x.test", 2525, stls, ok, true, "PLAIN"),
			probe(smtp, "mail.x.test", 587, stls, ok, true, "PLAIN"),
			probe(smtp, "mail.x.test", 25, stls, detect.StatusSkipped, false),
		}, true, "mail.x.test:587 starttls port [port]"},
		{"only 465 works: port and security", cur25, []detect.ProbeResult{
			probe(smtp, "mail.x.test", 465, tls, ok, true, "PLAIN"),
			probe(smtp, "mail.x.test", 587, stls, detect.StatusTimeout, false),
		}, true, "mail.x.test:465 tls port+security [port security]"},
		{"security only beats port and security", detect.Setting{Protocol: smtp, Host: "mail.x.test", Port: 465, Security: stls, Auth: "password-cleartext", Username: "me"}, []detect.ProbeResult{
			probe(smtp, "mail.x.test", 587, stls, ok, true, "PLAIN"),
			probe(smtp, "mail.x.test", 465, tls, ok, true, "PLAIN"),
		}, true, "mail.x.test:587 starttls port [port]"},
		{"no clear text when the current setting is encrypted", cur25, []detect.ProbeResult{
			probe(smtp, "mail.x.test", 587, none, ok, true, "CRAM-MD5"),
			probe(smtp, "other.x.test", 465, tls, ok, true, "PLAIN"),
		}, true, "other.x.test:465 tls host [host port security]"},
		{"no clear text where the server has encryption, even from a clear-text setting",
			detect.Setting{Protocol: smtp, Host: "mail.x.test", Port: 25, Security: none, Auth: "password-encrypted", Username: "me"}, []detect.ProbeResult{
				probe(smtp, "mail.x.test", 587, none, ok, true, "CRAM-MD5"),
				probe(smtp, "mail.x.test", 465, tls, ok, true, "PLAIN"),
			}, true, "mail.x.test:465 tls port+security [port security auth]"},
		{"clear text only where nothing encrypted works",
			detect.Setting{Protocol: smtp, Host: "mail.x.test", Port: 25, Security: none, Auth: "password-encrypted", Username: "me"}, []detect.ProbeResult{
				probe(smtp, "mail.x.test", 587, none, ok, true, "CRAM-MD5"),
			}, true, "mail.x.test:587 none port [port]"},
		{"unverified cells do not count with a password", cur25, []detect.ProbeResult{
			probe(smtp, "mail.x.test", 587, stls, ok, false, "PLAIN"),
		}, true, ""},
		{"without a password reachable cells count", cur25, []detect.ProbeResult{
			probe(smtp, "mail.x.test", 587, stls, ok, false, "PLAIN"),
		}, false, "mail.x.test:587 starttls port [port]"},
		{"the same protocol only", detect.Setting{Protocol: imap, Host: "imap.x.test", Port: 143, Security: stls, Auth: "password-cleartext", Username: "me"}, []detect.ProbeResult{
			probe(detect.POP3, "pop.x.test", 995, tls, ok, true, "USER"),
			probe(smtp, "imap.x.test", 465, tls, ok, true, "PLAIN"),
		}, true, ""},
		{"incoming: 993 after 143 fails", detect.Setting{Protocol: imap, Host: "imap.x.test", Port: 143, Security: stls, Auth: "password-cleartext", Username: "me"}, []detect.ProbeResult{
			probe(imap, "imap.x.test", 143, stls, detect.StatusTimeout, false),
			probe(imap, "imap.x.test", 993, tls, ok, true, "PLAIN"),
		}, true, "imap.x.test:993 tls port+security [port security]"},
		{"a verified login beats a reachable one in the same tier", cur25, []detect.ProbeResult{
			probe(smtp, "mail.x.test", 587, stls, ok, false, "PLAIN"),
			probe(smtp, "mail.x.test", 2525, stls, ok, true, "PLAIN"),
		}, false, "mail.x.test:2525 starttls port [port]"},
	}
	for _, tt := range tests {
		c := SmallestChange(Outgoing, tt.cur, tt.probes, tt.password)
		got := ""
		if c != nil {
			var f []string
			for _, x := range c.Fields {
				f = append(f, string(x))
			}
			got = c.To.Host + ":" + strconv.Itoa(c.To.Port) + " " + string(c.To.Security) + " " + c.Tier + " [" + strings.Join(f, " ") + "]"
		}
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSmallestChangeKeepsLoginWhereOffered(t *testing.T) {
	t.Parallel()
	cur := detect.Setting{Protocol: smtp, Host: "mail.x.test", Port: 25, Security: stls, Auth: "password-cleartext", Username: "me"}
	// The engine logged in with SCRAM, but PLAIN is offered too: "normal password" stays.
	c := SmallestChange(Outgoing, cur, []detect.ProbeResult{probe(smtp, "mail.x.test", 587, stls, ok, true, "SCRAM-SHA-256", "PLAIN")}, true)
	if c == nil || c.To.Auth != "password-cleartext" || !reflect.DeepEqual(c.Fields, []clients.Field{clients.FieldPort}) {
		t.Fatalf("change %+v", c)
	}
	if want := "Change the port from 25 to 587, keep STARTTLS: proven here by a real login."; c.Sentence != want {
		t.Errorf("sentence %q, want %q", c.Sentence, want)
	}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	blocked := detect.Network{Port25: detect.Port25Blocked, Outbound: map[string]detect.PortState{"25": detect.PortFiltered, "587": detect.PortOpen}}
	open := detect.Network{Port25: detect.Port25Open, Outbound: map[string]detect.PortState{"25": detect.PortOpen, "587": detect.PortOpen}}
	cur := detect.Setting{Protocol: smtp, Host: "mail.x.test", Port: 25, Security: stls, Auth: "password-cleartext"}
	others := []detect.ProbeResult{probe(smtp, "mail.x.test", 587, stls, ok, true, "PLAIN")}
	tests := []struct {
		name     string
		cur      detect.Setting
		p        detect.ProbeResult
		n        detect.Network
		password bool
		works    bool
		blocked  bool
		kind     detect.Kind
		sentence string
	}{
		{"works", cur, probe(smtp, "mail.x.test", 25, stls, ok, true, "PLAIN"), open, true, true, false, detect.KindOK, "Works: we logged in"},
		{"port 25 blocked (skipped)", cur, probe(smtp, "mail.x.test", 25, stls, detect.StatusSkipped, false), blocked, true, false, true, detect.KindPort25Blocked,
			"Fails here because this network blocks outgoing port 25, as many ISPs, hotels and public networks do; the server itself answers on port 587."},
		{"port 25 timed out on a blocking network", cur, probe(smtp, "mail.x.test", 25, stls, detect.StatusTimeout, false), blocked, true, false, true, detect.KindPort25Blocked, "blocks outgoing port 25"},
		{"another port silent while the server answers elsewhere", detect.Setting{Protocol: smtp, Host: "mail.x.test", Port: 2525, Security: stls},
			probe(smtp, "mail.x.test", 2525, stls, detect.StatusTimeout, false), open, true, false, true, detect.KindTimeout, "silently blocks port 2525; the server itself answers on port 587"},
		{"login rejected is not the network", cur, probe(smtp, "mail.x.test", 25, stls, detect.StatusAuthFailed, false), open, true, false, false, detect.KindAuthRejected, "Fails here because login rejected: the server answered"},
		{"refused", cur, probe(smtp, "mail.x.test", 25, stls, detect.StatusRefused, false), open, true, false, false, detect.KindRefused, "connection refused"},
		{"no password: reachable works", cur, probe(smtp, "mail.x.test", 25, stls, ok, false, "PLAIN"), open, false, true, false, detect.KindUnverified, "Reachable"},
		{"intercepted", cur, probe(smtp, "mail.x.test", 25, stls, detect.StatusTLSFailed, false), detect.Network{Port25: detect.Port25Intercepted}, true, false, true, detect.KindPort25Blocked, "intercepts port 25"},
	}
	for _, tt := range tests {
		v := Judge(tt.cur, tt.p, tt.n, others, tt.password)
		if v.Works != tt.works || v.BlockedHere != tt.blocked || v.Kind != tt.kind || !strings.Contains(v.Sentence, tt.sentence) {
			t.Errorf("%s: got works=%v blocked=%v kind=%s %q; want works=%v blocked=%v kind=%s containing %q",
				tt.name, v.Works, v.BlockedHere, v.Kind, v.Sentence, tt.works, tt.blocked, tt.kind, tt.sentence)
		}
	}
}
