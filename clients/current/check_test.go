package current

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest"
)

const (
	user = "me@demo.test"
	pass = "current check password"
)

// travelerAccount is a Thunderbird-style account whose SMTP uses port 25 with STARTTLS.
func travelerAccount() clients.Account {
	return clients.Account{Client: clients.Thunderbird, Name: "Me", Address: user,
		Incoming:  &detect.Setting{Protocol: detect.IMAP, Host: "imap.demo.test", Port: 993, Security: detect.SecurityTLS, Auth: "password-cleartext", Username: user},
		Outgoing:  &detect.Setting{Protocol: detect.SMTP, Host: "smtp.demo.test", Port: 25, Security: detect.SecurityStartTLS, Auth: "password-cleartext", Username: user},
		OutOrigin: clients.Origin{File: "prefs.js", Keys: map[clients.Field]string{clients.FieldHost: "mail.smtpserver.smtp1.hostname"}}}
}

func worldOptions(w *detecttest.World, password string, network detect.Network, netDelay time.Duration) detect.Options {
	return detect.Options{Dialer: w.Net, Resolver: w.Net, ExtraRoots: []*x509.Certificate{w.CA.Cert}, Timeout: 3 * time.Second,
		Password: password, Network: func(ctx context.Context) detect.Network {
			select {
			case <-time.After(netDelay):
			case <-ctx.Done():
			}
			return network
		}}
}

var blockedNet = detect.Network{Port25: detect.Port25Blocked, Port25Evidence: []string{"test"}, Outbound: map[string]detect.PortState{"25": detect.PortFiltered, "587": detect.PortOpen, "465": detect.PortOpen},
	LocalAddresses: []string{}, DNSServers: []string{}}

func TestCheckPort25BlockedHere(t *testing.T) {
	t.Parallel()
	w := detecttest.StartWorld(t, "demo.test", user, pass)
	w.Net.Drop("*", 25)
	var mu sync.Mutex
	var events []string
	req := Request{Account: travelerAccount(), Options: worldOptions(w, pass, blockedNet, 200*time.Millisecond),
		Progress: func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case e.Part != nil:
				events = append(events, "verdict "+string(e.Part.Role))
			case e.Stage != "":
				events = append(events, string(e.Stage))
			}
		}}
	res, err := Check(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	out := res.Part(Outgoing)
	in := res.Part(Incoming)
	if in == nil || !in.Verdict.Works || !in.Verdict.Verified || in.Change != nil {
		t.Errorf("incoming %+v", in)
	}
	if out.Verdict.Works || !out.Verdict.BlockedHere || out.Verdict.Kind != detect.KindPort25Blocked {
		t.Errorf("outgoing verdict %+v", out.Verdict)
	}
	if !strings.HasPrefix(out.Verdict.Sentence, "Fails here because this network blocks outgoing port 25") {
		t.Errorf("sentence %q", out.Verdict.Sentence)
	}
	c := out.Change
	if c == nil || c.To.Port != 587 || c.To.Security != detect.SecurityStartTLS || c.To.Host != "smtp.demo.test" || !c.Verified ||
		len(c.Fields) != 1 || c.Fields[0] != clients.FieldPort || c.Tier != "port" {
		t.Fatalf("change %+v", c)
	}
	if !res.OK() {
		t.Error("OK() = false with a proven change")
	}
	// The network verdict stops the port-25 probe: the verdict does not wait for a timeout.
	if res.VerdictMS > 2500 {
		t.Errorf("verdict after %d ms; the port-25 probe waited for its timeout", res.VerdictMS)
	}
	t.Logf("verdicts after %d ms, whole check %d ms", res.VerdictMS, res.ElapsedMS)
	mu.Lock()
	got := strings.Join(events, ",")
	mu.Unlock()
	if !strings.HasPrefix(got, "current,verdict incoming,verdict outgoing,matrix") || !strings.HasSuffix(got, "done") {
		t.Errorf("events %s", got)
	}
	js, _ := json.Marshal(res)
	if strings.Contains(string(js), pass) {
		t.Error("the password is in the result")
	}
}

func TestCheckWorksAndWrongPassword(t *testing.T) {
	t.Parallel()
	w := detecttest.StartWorld(t, "demo.test", user, pass)
	acct := travelerAccount()
	acct.Outgoing.Port = 465
	acct.Outgoing.Security = detect.SecurityTLS
	open := detect.Network{Port25: detect.Port25Open, Outbound: map[string]detect.PortState{}}
	res, err := Check(context.Background(), Request{Account: acct, Options: worldOptions(w, pass, open, 0)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Parts {
		if !p.Verdict.Works || p.Change != nil {
			t.Errorf("%s: %+v change %+v", p.Role, p.Verdict, p.Change)
		}
	}
	res, err = Check(context.Background(), Request{Account: acct, Options: worldOptions(w, "wrong", open, 0)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Parts {
		if p.Verdict.Works || p.Verdict.Kind != detect.KindAuthRejected || p.Verdict.BlockedHere || p.Change != nil {
			t.Errorf("wrong password %s: %+v change %+v", p.Role, p.Verdict, p.Change)
		}
	}
	if res.OK() {
		t.Error("OK() with a rejected password")
	}
}

func TestCheckBadInput(t *testing.T) {
	t.Parallel()
	acct := travelerAccount()
	acct.Address = ""
	acct.Incoming.Username = "me"
	if _, err := Check(context.Background(), Request{Account: acct}); err == nil {
		t.Error("an account without an address was checked")
	}
	acct = travelerAccount()
	acct.Outgoing.Host = "smtp.demo.test\n"
	acct.Outgoing.Host = "smtp\x00demo"
	if _, err := Check(context.Background(), Request{Account: acct}); err == nil {
		t.Error("a host with a control character was checked")
	}
}

func TestApplyInPlaceAndExports(t *testing.T) {
	t.Parallel()
	w := detecttest.StartWorld(t, "demo.test", user, pass)
	w.Net.Drop("*", 25)
	dir := t.TempDir()
	prefs := `user_pref("mail.accountmanager.accounts", "account1");
user_pref("mail.account.account1.identities", "id1");
user_pref("mail.account.account1.server", "server1");
user_pref("mail.identity.id1.useremail", "me@demo.test");
user_pref("mail.identity.id1.smtpServer", "smtp1");
user_pref("mail.server.server1.type", "imap");
user_pref("mail.server.server1.hostname", "imap.demo.test");
user_pref("mail.server.server1.port", 993);
user_pref("mail.server.server1.socketType", 3);
user_pref("mail.server.server1.userName", "me@demo.test");
user_pref("mail.smtpservers", "smtp1");
user_pref("mail.smtpserver.smtp1.hostname", "smtp.demo.test");
user_pref("mail.smtpserver.smtp1.port", 25);
user_pref("mail.smtpserver.smtp1.try_ssl", 2);
user_pref("mail.smtpserver.smtp1.username", "me@demo.test");
`
	if err := writeFile(dir+"/prefs.js", prefs); err != nil {
		t.Fatal(err)
	}
	o, err := Open(dir+"/prefs.js", "")
	if err != nil || len(o.Accounts) != 1 || o.Kind != KindProfile {
		t.Fatalf("open: %+v %v", o, err)
	}
	res, err := Check(context.Background(), Request{Account: o.Accounts[0], Options: worldOptions(w, pass, blockedNet, 0)})
	if err != nil {
		t.Fatal(err)
	}
	fx, err := Apply(res, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(fx.Prefs) != 1 || fx.Prefs[0].Name != "mail.smtpserver.smtp1.port" || fx.Prefs[0].Literal != "587" {
		t.Errorf("prefs %+v", fx.Prefs)
	}
	o2, _ := Open(dir, "")
	res2, err := Check(context.Background(), Request{Account: o2.Accounts[0], Options: worldOptions(w, pass, blockedNet, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if p := res2.Part(Outgoing); !p.Verdict.Works || p.Current.Port != 587 {
		t.Errorf("second check after the fix: %+v on %d", p.Verdict, p.Current.Port)
	}
	if err := Undo(fx); err != nil {
		t.Fatal(err)
	}
	o3, _ := Open(dir, "")
	if o3.Accounts[0].Outgoing.Port != 25 {
		t.Errorf("after undo the port is %d", o3.Accounts[0].Outgoing.Port)
	}

	// The same account from a .mobileconfig: an Apple export with the change.
	res.Account.Client, res.Account.Profile = clients.Apple, ""
	fx, err = Apply(res, time.Now())
	if err != nil || len(fx.Exports) != 1 || fx.Exports[0].Format != "apple" {
		t.Fatalf("apple export %+v %v", fx, err)
	}
	if !strings.Contains(string(fx.Exports[0].Data), "<integer>587</integer>") || strings.Contains(string(fx.Exports[0].Data), pass) {
		t.Errorf("apple export:\n%s", fx.Exports[0].Data)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }
