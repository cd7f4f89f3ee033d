package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest"
)

func TestNetcheckCommand(t *testing.T) {
	t.Parallel()
	w := detecttest.StartWorld(t, "demo.test", demoUser, demoPass)
	w.Net.Drop("smtp.demo.test", 25)
	base := detect.Options{Dialer: w.Net, Resolver: w.Net, CaptivePortalURL: "off"}
	tests := []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"--json", demoUser}, ExitOK, `"port25": "blocked"`},
		{[]string{demoUser}, ExitOK, "Port 25: BLOCKED"},
		{[]string{}, ExitOK, "Port 25: UNKNOWN"},
		{[]string{"bad address"}, ExitBadInput, ""},
		{[]string{"a@b.test", "c@d.test"}, ExitBadInput, ""},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := Main(context.Background(), append([]string{"netcheck"}, tt.args...), Env{Stdout: &out, Stderr: &errb, Base: base})
		if code != tt.wantCode || !strings.Contains(out.String(), tt.want) {
			t.Errorf("netcheck %q: exit %d, output:\n%s\n%s", tt.args, code, out.String(), errb.String())
		}
		if strings.HasPrefix(tt.want, `"`) {
			var n detect.Network
			if err := json.Unmarshal(out.Bytes(), &n); err != nil {
				t.Errorf("not JSON: %v", err)
			}
		}
	}
}
