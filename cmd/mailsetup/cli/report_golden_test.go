package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest"
)

var updateGolden = flag.Bool("update", false, "rewrite the report goldens in testdata/")

// TestReportJSONIsStable keeps `mailsetup probe --json` byte-stable on fixture runs
// apart from what differs on every run (timings, generated certificates, the start
// time): the JSON is the CLI's contract, and refactoring the engine must not change it.
func TestReportJSONIsStable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, stdin string
		args        []string
	}{
		{"verified", demoPass + "\n", []string{"--password-stdin"}},
		{"no-password", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := detecttest.StartWorld(t, "demo.test", demoUser, demoPass)
			var out, errb bytes.Buffer
			env := Env{Stdin: strings.NewReader(tc.stdin), Stdout: &out, Stderr: &errb,
				Base: detect.Options{IPDialer: w.Net, Resolver: w.Net, ExtraRoots: []*x509.Certificate{w.CA.Cert}, SkipNetwork: true, OnlineISPDB: "off"}}
			Main(context.Background(), append(append([]string{"probe", "--json"}, tc.args...), demoUser), env)
			got := normalizeReport(t, out.Bytes())
			path := filepath.Join("testdata", "report-"+tc.name+".golden.json")
			if *updateGolden {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("the JSON report changed; diff %s against:\n%s", path, got)
			}
		})
	}
}

// normalizeReport drops what changes on every run and orders what arrives in any order.
func normalizeReport(t *testing.T, raw []byte) []byte {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("no JSON: %v\n%s", err, raw)
	}
	var walk func(any)
	walk = func(x any) {
		switch m := x.(type) {
		case map[string]any:
			for _, k := range []string{"elapsed_ms", "started_at", "round_trip_ms", "sha256", "not_after", "transcript", "error"} {
				if _, ok := m[k]; ok {
					m[k] = "…"
				}
			}
			if b, ok := m["banner"].(string); ok && strings.Contains(b, "<") {
				m["banner"] = b[:strings.Index(b, "<")] + "<…>" // APOP timestamps
			}
			for _, c := range m {
				walk(c)
			}
		case []any:
			for _, c := range m {
				walk(c)
			}
		}
	}
	walk(v)
	if probes, ok := v["probes"].([]any); ok {
		sort.SliceStable(probes, func(i, j int) bool {
			a, b := probes[i].(map[string]any), probes[j].(map[string]any)
			ka := a["protocol"].(string) + a["host"].(string) + jsonNum(a["port"]) + a["security"].(string)
			kb := b["protocol"].(string) + b["host"].(string) + jsonNum(b["port"]) + b["security"].(string)
			return ka < kb
		})
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

func jsonNum(x any) string {
	b, _ := json.Marshal(x)
	return string(b)
}
