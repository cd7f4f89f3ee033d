package wincompare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
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
	// Masks rewrite every string before it is compared, in order: tokens a server
	// makes up per connection, timing words, and each platform's wording of the same
	// system error, listed pair by pair so that any other wording still differs.
	Masks []Mask
	// Transcripts names keys holding conversation transcripts ("C: …", "S: …" and
	// "-- …" note lines), compared by what they recorded rather than in what order:
	// every line of the side with fewer lines of a kind (client, server, note) must be
	// among the other side's lines of that kind, IMAP tags aside. Timing decides how
	// the lines interleave, the order in which go-imap's background CAPABILITY and the
	// engine's LOGOUT take their tags, and where a probe cancelled once its cell was
	// decided, or a connection closing under a last command, cuts a transcript short;
	// the probe's status, error and diagnosis are compared in full. A client line
	// recorded as "C: [redacted]" on one side matches any client line on the other
	// (which commands the recorder hides depends on timing too).
	Transcripts []string
}

// Mask replaces what Pattern matches with Replace (regexp.ReplaceAllString syntax).
type Mask struct {
	Pattern *regexp.Regexp
	Replace string
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
	Masks: []Mask{
		// An APOP challenge (RFC 1939's <process-ID.clock@hostname>) or the send test's
		// Message-ID: unique per connection or message. Addresses in <> stay compared.
		{regexp.MustCompile(`<(?:\d+\.\d+|mailsetup-[0-9a-f]+)@[^<>\s]+>`), "<token>"},
		// Dovecot's "(0.001 + 0.000 secs)" after each command.
		{regexp.MustCompile(`\(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)`), "(… secs)"},
		// Whether a handshake resumed a session depends on which probe finished first.
		{regexp.MustCompile(` \(session resumed\)`), ""},
		// Go's resolver names the computer's first configured DNS server in its errors,
		// even when --dns sent the query elsewhere; that list is the computer's.
		{regexp.MustCompile(`\blookup (\S+) on \S+:53: `), "lookup $1 on <system resolver>: "},
		// The same socket errors in Windows' words (real Windows, then wine) and Linux's.
		{regexp.MustCompile(`\bconnectex: `), "connect: "},
		{regexp.MustCompile(`No connection could be made because the target machine actively refused it\.|Connection refused\.`), "connection refused"},
	},
	Transcripts: []string{"transcript"},
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
			if xok && yok && slices.Contains(v.Transcripts, k) {
				if xs, ok1 := stringArray(xe); ok1 {
					if ys, ok2 := stringArray(ye); ok2 {
						*out = append(*out, compareTranscripts(p, xs, ys, v)...)
						continue
					}
				}
			}
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
		x, y = v.mask(x), v.mask(y)
		if !equalScalar(x, y) {
			*out = append(*out, fmt.Sprintf("%s: %s vs %s", show(path), brief(x), brief(y)))
		}
	}
}

// mask applies the masks to a string; other values pass unchanged.
func (v Volatile) mask(x any) any {
	s, ok := x.(string)
	if !ok {
		return x
	}
	for _, m := range v.Masks {
		s = m.Pattern.ReplaceAllString(s, m.Replace)
	}
	return s
}

// redactedClient is how a transcript shows a client line that carried credentials.
const redactedClient = "C: [redacted]"

// imapTag is a tagged IMAP command or completion ("C: T3 LOGOUT", "S: T3 OK …"): the tag
// counts commands in the order they were sent, which timing may change.
var imapTag = regexp.MustCompile(`^([CS]: )[A-Z]+[0-9]+ `)

// compareTranscripts reports the lines of the side with fewer lines of a kind that the
// other side did not record (see Volatile.Transcripts); path names the transcript.
func compareTranscripts(path string, x, y []string, v Volatile) []string {
	kinds := func(lines []string) map[string][]string {
		m := map[string][]string{}
		for _, l := range lines {
			l = imapTag.ReplaceAllString(v.mask(l).(string), "${1}<tag> ")
			switch {
			case strings.HasPrefix(l, "C:"):
				m["client"] = append(m["client"], l)
			case strings.HasPrefix(l, "S:"):
				m["server"] = append(m["server"], l)
			default:
				m["notes"] = append(m["notes"], l)
			}
		}
		return m
	}
	xk, yk := kinds(x), kinds(y)
	var out []string
	for _, kind := range []string{"client", "server", "notes"} {
		few, many, side := xk[kind], yk[kind], "first"
		if len(few) > len(many) {
			few, many, side = many, few, "second"
		}
		for _, l := range unmatched(few, many) {
			out = append(out, fmt.Sprintf("%s: %s line %s only in the %s", path, kind, brief(l), side))
		}
	}
	return out
}

// unmatched returns the lines of few that many lacks, counting repeats, where a
// redacted client line on either side stands for any one client line.
func unmatched(few, many []string) []string {
	left := map[string]int{}
	for _, l := range many {
		left[l]++
	}
	var rest []string
	for _, l := range few {
		if left[l] > 0 {
			left[l]--
		} else {
			rest = append(rest, l)
		}
	}
	var out []string
	for _, l := range rest {
		switch {
		case left[redactedClient] > 0 && strings.HasPrefix(l, "C:"):
			left[redactedClient]--
		case l == redactedClient && takeAny(left, "C:"):
		default:
			out = append(out, l)
		}
	}
	return out
}

// takeAny takes one remaining line with prefix from left, if there is one.
func takeAny(left map[string]int, prefix string) bool {
	keys := make([]string, 0, len(left))
	for l := range left {
		keys = append(keys, l)
	}
	sort.Strings(keys)
	for _, l := range keys {
		if left[l] > 0 && strings.HasPrefix(l, prefix) {
			left[l]--
			return true
		}
	}
	return false
}

func stringArray(v any) ([]string, bool) {
	a, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, len(a))
	for i, e := range a {
		if out[i], ok = e.(string); !ok {
			return nil, false
		}
	}
	return out, true
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
