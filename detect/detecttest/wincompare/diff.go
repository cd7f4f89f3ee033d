package wincompare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Volatile lists what two honest runs against the same servers may report differently:
// durations, clocks, build stamps, random message IDs, and the facts of the computer
// itself (its addresses, resolvers, gateway), which the netcheck comparison covers.
type Volatile struct {
	// Keys are ignored wherever they appear (e.g. "elapsed_ms").
	Keys []string
	// Paths are ignored exactly, dot-separated from the root (e.g. "meta.version").
	Paths []string
}

// ReportVolatile is what Diff leaves out of `mailsetup probe --json` reports.
var ReportVolatile = Volatile{
	Keys: []string{"elapsed_ms", "round_trip_ms"},
	Paths: []string{
		"meta.version", "meta.started_at",
		"send_test.message_id",
		"network.local_addresses", "network.dns_servers", "network.gateway",
		"network.public_ip", "network.public_name", "network.ipv6",
	},
}

// Diff compares two JSON documents field by field, apart from what v lists, and
// returns one line per difference ("path: a … b …"), sorted; none means they agree.
// Arrays are compared element by element, so an order that differs is a difference.
func Diff(a, b []byte, v Volatile) ([]string, error) {
	var x, y any
	if err := decode(a, &x); err != nil {
		return nil, fmt.Errorf("first document: %w", err)
	}
	if err := decode(b, &y); err != nil {
		return nil, fmt.Errorf("second document: %w", err)
	}
	var out []string
	walk("", x, y, v, &out)
	sort.Strings(out)
	return out, nil
}

func decode(data []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber() // compare numbers as written, not as float64
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("more than one JSON value")
	}
	return nil
}

func walk(path string, x, y any, v Volatile, out *[]string) {
	if slices.Contains(v.Paths, path) {
		return
	}
	switch xv := x.(type) {
	case map[string]any:
		yv, ok := y.(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: %s vs %s", show(path), brief(x), brief(y)))
			return
		}
		keys := map[string]bool{}
		for k := range xv {
			keys[k] = true
		}
		for k := range yv {
			keys[k] = true
		}
		for k := range keys {
			if slices.Contains(v.Keys, k) {
				continue
			}
			p := k
			if path != "" {
				p = path + "." + k
			}
			xe, xok := xv[k]
			ye, yok := yv[k]
			switch {
			case !xok:
				if !slices.Contains(v.Paths, p) {
					*out = append(*out, fmt.Sprintf("%s: absent vs %s", p, brief(ye)))
				}
			case !yok:
				if !slices.Contains(v.Paths, p) {
					*out = append(*out, fmt.Sprintf("%s: %s vs absent", p, brief(xe)))
				}
			default:
				walk(p, xe, ye, v, out)
			}
		}
	case []any:
		yv, ok := y.([]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: %s vs %s", show(path), brief(x), brief(y)))
			return
		}
		for i := 0; i < max(len(xv), len(yv)); i++ {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case i >= len(xv):
				*out = append(*out, fmt.Sprintf("%s: absent vs %s", p, brief(yv[i])))
			case i >= len(yv):
				*out = append(*out, fmt.Sprintf("%s: %s vs absent", p, brief(xv[i])))
			default:
				walk(p, xv[i], yv[i], v, out)
			}
		}
	default:
		if !equalScalar(x, y) {
			*out = append(*out, fmt.Sprintf("%s: %s vs %s", show(path), brief(x), brief(y)))
		}
	}
}

// equalScalar compares two decoded JSON scalars (string, json.Number, bool, nil) or
// a scalar with a container, which is never equal.
func equalScalar(x, y any) bool {
	switch x.(type) {
	case map[string]any, []any:
		return false
	}
	switch y.(type) {
	case map[string]any, []any:
		return false
	}
	return x == y
}

func show(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}

// brief renders a JSON value on one line, cut to a readable length.
func brief(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return strings.ReplaceAll(s, "\n", " ")
}
