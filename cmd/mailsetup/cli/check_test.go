package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest"
)

// travelerPrefs is a Thunderbird profile whose SMTP server uses port 25 with STARTTLS,
// for host (the demo world's names), plus a second account on another address.
func travelerPrefs(smtpHost, imapHost, user string, port int) string {
	return `user_pref("mail.accountmanager.accounts", "account1,account2");
user_pref("mail.account.account1.identities", "id1");
user_pref("mail.account.account1.server", "server1");
user_pref("mail.account.account2.identities", "id2");
user_pref("mail.account.account2.server", "server2");
user_pref("mail.identity.id1.useremail", "` + user + `");
user_pref("mail.identity.id1.smtpServer", "smtp1");
user_pref("mail.identity.id2.useremail", "other@elsewhere.test");
user_pref("mail.identity.id2.smtpServer", "smtp1");
user_pref("mail.server.server1.type", "imap");
user_pref("mail.server.server1.hostname", "` + imapHost + `");
user_pref("mail.server.server1.port", 993);
user_pref("mail.server.server1.socketType", 3);
user_pref("mail.server.server1.userName", "` + user + `");
user_pref("mail.server.server2.type", "imap");
user_pref("mail.server.server2.hostname", "imap.elsewhere.test");
user_pref("mail.server.server2.socketType", 3);
user_pref("mail.server.server2.userName", "other");
user_pref("mail.smtpservers", "smtp1");
user_pref("mail.smtpserver.smtp1.hostname", "` + smtpHost + `");
user_pref("mail.smtpserver.smtp1.port", ` + itoa(port) + `);
user_pref("mail.smtpserver.smtp1.try_ssl", 2);
user_pref("mail.smtpserver.smtp1.authMethod", 3);
user_pref("mail.smtpserver.smtp1.username", "` + user + `");
`
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func checkEnv(t *testing.T, w *detecttest.World, stdin string, n detect.Network) (Env, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errb bytes.Buffer
	return Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Base: detect.Options{Dialer: w.Net, Resolver: w.Net, ExtraRoots: []*x509.Certificate{w.CA.Cert},
			Network: func(context.Context) detect.Network { return n }}}, &out, &errb
}

type checkJSON struct {
	OK       bool `json:"ok"`
	Incoming struct {
		Current detect.Setting `json:"current"`
		Verdict struct {
			Works       bool   `json:"works"`
			BlockedHere bool   `json:"blocked_here"`
			Kind        string `json:"kind"`
			Sentence    string `json:"sentence"`
		} `json:"verdict"`
	} `json:"incoming"`
	Outgoing struct {
		Current detect.Setting `json:"current"`
		Verdict struct {
			Works       bool   `json:"works"`
			BlockedHere bool   `json:"blocked_here"`
			Kind        string `json:"kind"`
			Sentence    string `json:"sentence"`
		} `json:"verdict"`
		Change *struct {
			To       detect.Setting `json:"to"`
			Fields   []string       `json:"fields"`
			Tier     string         `json:"tier"`
			Verified bool           `json:"verified"`
		} `json:"change"`
	} `json:"outgoing"`
	Network struct {
		ID      string         `json:"id"`
		Known   bool           `json:"known"`
		Compare []string       `json:"compare"`
		Check   detect.Network `json:"check"`
	} `json:"network"`
	Fix *struct {
		Prefs []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"prefs"`
		Backup *struct {
			UserJS string `json:"user_js"`
		} `json:"backup"`
	} `json:"fix"`
	Report    *detect.Report `json:"report"`
	VerdictMS int64          `json:"verdict_ms"`
}

var blocked25 = detect.Network{Port25: detect.Port25Blocked, Port25Evidence: []string{"test network"},
	Outbound: map[string]detect.PortState{"25": detect.PortFiltered, "587": detect.PortOpen, "465": detect.PortOpen}, LocalAddresses: []string{}, DNSServers: []string{}}

func TestCheckCommandTraveler(t *testing.T) {
	t.Parallel()
	w := detecttest.StartWorld(t, "demo.test", demoUser, demoPass)
	w.Net.Drop("*", 25)
	dir := t.TempDir()
	profile := filepath.Join(dir, "abc.default")
	os.MkdirAll(profile, 0o700)
	os.WriteFile(filepath.Join(profile, "prefs.js"), []byte(travelerPrefs("smtp.demo.test", "imap.demo.test", demoUser, 25)), 0o644)
	mem := filepath.Join(dir, "networks.json")
	args := []string{"check", "--from", profile, "--account", demoUser, "--password-stdin", "--json", "--networks", mem, "--timeout", "3s"}

	env, out, errb := checkEnv(t, w, demoPass+"\n", blocked25)
	code := Main(context.Background(), args, env)
	var got checkJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("exit %d, no JSON: %v\n%s\n%s", code, err, out, errb)
	}
	if code != ExitOK || !got.OK {
		t.Errorf("exit %d ok=%v, want 0 (a proven change exists)", code, got.OK)
	}
	o := got.Outgoing
	if o.Verdict.Works || !o.Verdict.BlockedHere || o.Verdict.Kind != string(detect.KindPort25Blocked) {
		t.Errorf("outgoing verdict %+v", o.Verdict)
	}
	if o.Change == nil || o.Change.To.Port != 587 || o.Change.To.Security != detect.SecurityStartTLS || o.Change.Tier != "port" ||
		strings.Join(o.Change.Fields, ",") != "port" || !o.Change.Verified {
		t.Fatalf("change %+v", o.Change)
	}
	if !got.Incoming.Verdict.Works || got.Network.ID == "" || got.Network.Check.Port25 != detect.Port25Blocked || got.Report == nil {
		t.Errorf("incoming %+v network %+v", got.Incoming.Verdict, got.Network)
	}
	if got.Fix != nil {
		t.Error("fixed without --fix")
	}
	if strings.Contains(out.String()+errb.String(), demoPass) {
		t.Error("password in the output")
	}

	// --fix writes user.js; the next check reads it and works.
	env, out, errb = checkEnv(t, w, demoPass+"\n", blocked25)
	code = Main(context.Background(), append(args, "--fix"), env)
	got = checkJSON{}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || code != ExitOK || got.Fix == nil || got.Fix.Backup == nil {
		t.Fatalf("fix: exit %d %v %+v\n%s", code, err, got.Fix, errb)
	}
	if len(got.Fix.Prefs) != 1 || got.Fix.Prefs[0].Name != "mail.smtpserver.smtp1.port" || got.Fix.Prefs[0].Value != "587" {
		t.Errorf("prefs %+v", got.Fix.Prefs)
	}
	env, out, _ = checkEnv(t, w, demoPass+"\n", blocked25)
	code = Main(context.Background(), args, env)
	got = checkJSON{}
	json.Unmarshal(out.Bytes(), &got)
	if code != ExitOK || !got.Outgoing.Verdict.Works || got.Outgoing.Current.Port != 587 || got.Outgoing.Change != nil {
		t.Errorf("after the fix: exit %d outgoing %+v %+v", code, got.Outgoing.Current, got.Outgoing.Verdict)
	}
	if !got.Network.Known {
		t.Error("the network was not remembered from the first check")
	}

	// Human output names the verdict, the change and the key.
	os.Remove(filepath.Join(profile, "user.js"))
	env, out, errb = checkEnv(t, w, demoPass+"\n", blocked25)
	code = Main(context.Background(), []string{"check", "--from", filepath.Join(profile, "prefs.js"), "--account", demoUser, "--password-stdin", "--no-remember"}, env)
	text := out.String()
	for _, want := range []string{"Fails here because this network blocks outgoing port 25", "Change the port from 25 to 587, keep STARTTLS: proven here by a real login.",
		"mail.smtpserver.smtp1.port in", "Run again with --fix"} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s\n%s", want, text, errb)
		}
	}
	if code != ExitOK {
		t.Errorf("text run exit %d", code)
	}

	// The memory lists the network.
	env, out, _ = checkEnv(t, w, "", blocked25)
	if code := Main(context.Background(), []string{"networks", "--json", "--networks", mem}, env); code != ExitOK {
		t.Fatalf("networks exit %d", code)
	}
	var ns []struct {
		ID     string `json:"id"`
		Visits []any  `json:"visits"`
	}
	if err := json.Unmarshal(out.Bytes(), &ns); err != nil || len(ns) != 1 || len(ns[0].Visits) != 3 {
		t.Errorf("networks %s (%v)", out, err)
	}
}

func TestCheckCommandBadInput(t *testing.T) {
	t.Parallel()
	w := detecttest.StartWorld(t, "demo.test", demoUser, demoPass)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "prefs.js"), []byte(travelerPrefs("smtp.demo.test", "imap.demo.test", demoUser, 25)), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "--from", dir, "--client", "thunderbird"}, "not both"},
		{[]string{"check", "--from", dir}, "2 accounts found; choose one with --account"},
		{[]string{"check", "--from", dir, "--account", "nobody@x.test"}, "no account nobody@x.test"},
		{[]string{"check", "--from", filepath.Join(dir, "notes.txt")}, "not a file this program reads"},
		{[]string{"check", "--client", "eudora"}, "unknown mail program"},
		{[]string{"check", "--from", dir, "--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"networks", "--name", "abc"}, "needs the NAME"},
	} {
		env, _, errb := checkEnv(t, w, "", blocked25)
		if code := Main(context.Background(), tt.args, env); code != ExitBadInput || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, errb, tt.want)
		}
	}
}

func TestNetworksCommand(t *testing.T) {
	t.Parallel()
	mem := filepath.Join(t.TempDir(), "n.json")
	data := `{"version":1,"networks":[{"id":"aaaaaaaaaaaa","fingerprint":{"gateway":"192.168.1.1","gateway_mac":"aa:bb:cc:dd:ee:ff","wifi":"Home"},` +
		`"first_seen":"2026-11-20T09:00:00Z","last_seen":"2026-11-20T09:00:00Z","visits":[{"at":"2026-11-20T09:00:00Z","port25":"open",` +
		`"outcomes":[{"protocol":"smtp","host":"mail.x.test","port":25,"security":"starttls","worked":true}]}]}]}`
	os.WriteFile(mem, []byte(data), 0o600)
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), append([]string{"networks", "--networks", mem}, args...), Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader("")})
		return code, out.String(), errb.String()
	}
	if code, out, _ := run("--name", "aaaaaaaaaaaa", "Home office"); code != ExitOK || !strings.Contains(out, `"Home office"`) {
		t.Errorf("name: %d %s", code, out)
	}
	code, out, _ := run()
	for _, want := range []string{"aaaaaaaaaaaa  Home office", "Wi-Fi Home, gateway 192.168.1.1 (aa:bb:cc:dd:ee:ff)", "port 25 open; worked: SMTP mail.x.test:25"} {
		if code != ExitOK || !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if code, _, errb := run("--forget", "bbbbbbbbbbbb"); code != ExitBadInput || !strings.Contains(errb, "no remembered network") {
		t.Errorf("forget unknown: %d %s", code, errb)
	}
	if code, _, _ := run("--forget", "aaaaaaaaaaaa"); code != ExitOK {
		t.Errorf("forget: %d", code)
	}
	if _, out, _ := run(); !strings.Contains(out, "No networks remembered yet") {
		t.Errorf("after forget: %s", out)
	}
}
