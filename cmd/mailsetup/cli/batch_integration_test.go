//go:build linux

package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest/realmail"
)

// TestBatchRealServers runs `mailsetup batch --dns --ca` against real Postfix and
// Dovecot on loopback, as a consultant would: every mailbox verified over TLS on one
// matrix, the files written, the network flags doing what they do for probe.
func TestBatchRealServers(t *testing.T) {
	t.Parallel()
	users := map[string]string{}
	var list strings.Builder
	for i := 1; i <= 6; i++ {
		local := fmt.Sprintf("staff%d", i)
		users[local] = "pw-" + local
		fmt.Fprintf(&list, "%s@office.test,pw-%s,Staff %d\n", local, local, i)
	}
	s := realmail.Start(t, realmail.Config{Setup: realmail.Modern, Domain: "office.test", Users: users})
	dir := t.TempDir()
	csvPath := writeFile(t, dir, "staff.csv", list.String())
	env, errb := Env{Stdin: strings.NewReader(""), Base: detect.Options{SkipNetwork: true}}, &strings.Builder{}
	env.Stdout, env.Stderr = errb, errb
	out := filepath.Join(dir, "out")
	code := Main(context.Background(), []string{"batch", "--dns", s.DNS, "--ca", s.CAFile, "--format", "thunderbird,sheet", csvPath, "--out", out}, env)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errb)
	}
	sum := string(mustReadFile(t, filepath.Join(out, "summary.csv")))
	if strings.Count(sum, ",verified,") != 6 || !strings.Contains(sum, fmt.Sprintf("IMAP %s:%d SSL/TLS", s.Host, s.Ports["imaps"])) {
		t.Errorf("summary:\n%s", sum)
	}
	tb := string(mustReadFile(t, filepath.Join(out, "staff3@office.test", "thunderbird.xml")))
	if !strings.Contains(tb, fmt.Sprintf("<port>%d</port>", s.Ports["submissions"])) {
		t.Errorf("staff3's Thunderbird file:\n%s", tb)
	}
	if !strings.Contains(errb.String(), "6 verified") {
		t.Errorf("stderr:\n%s", errb)
	}
}
