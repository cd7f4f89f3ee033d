package detect_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/oauth"
	"github.com/mailsetup/mailsetup/detect/trust"
	"github.com/mailsetup/mailsetup/i18n"
)

// Every English sentence the engine builds from data has a notice beside it, and the
// i18n catalog's English rendering of that notice is the sentence itself, word for word:
// so a translation says the same thing, and nothing the report says is left without
// one. Every notice key is exercised here.
func TestNoticesSayTheWarnings(t *testing.T) {
	t.Parallel()
	en := i18n.New(i18n.English)
	seen := map[detect.NoticeKey]bool{}
	check := func(name string, text []string, notices []detect.Notice) {
		t.Helper()
		if len(text) != len(notices) {
			t.Fatalf("%s: %d sentences, %d notices", name, len(text), len(notices))
		}
		for i, n := range notices {
			seen[n.Key] = true
			if got := en.Notice(n); got != text[i] {
				t.Errorf("%s: notice %s renders\n  %q\nthe engine says\n  %q", name, n.Key, got, text[i])
			}
		}
	}

	full := detect.ProviderNotes{AppPassword: true, AppPasswordURL: "https://example.test/app", EnableInWeb: "Turn it on first.",
		MaxMessageMB: 25, MaxRecipients: 1, SendPerHour: 100, SendPerDay: 10000, MaxConnections: 15,
		BlockedExt: []string{"exe", "bat"}, Other: []string{"One thing.", "Another thing."}}
	for _, n := range []detect.ProviderNotes{full, {AppPassword: true, SendPerHour: 1}, {SendPerDay: 2000, MaxRecipients: 2}} {
		check("provider", detect.ProviderWarnings("Example", n), detect.ProviderNotices("example", "Example", n))
	}

	out := &detect.Setting{Protocol: detect.SMTP, Host: "smtp.example.test", Port: 25, Security: detect.SecurityNone}
	reports := []*detect.Report{
		{Network: detect.Network{Port25: detect.Port25Blocked}, FailedLogins: map[string]int{"imap.example.test": 1, "smtp.example.test": detect.MaxFailedLogins},
			OAuth: &detect.OAuthReport{Provider: "Example", Needed: true, Error: string(oauth.KindDenied), ErrorWords: "The sign-in was declined."}},
		{Network: detect.Network{Port25: detect.Port25Intercepted}, Recommended: detect.Recommendation{Outgoing: withAuth(out, detect.AuthPOPBeforeSMTP)}},
		{Recommended: detect.Recommendation{Outgoing: withAuth(out, detect.AuthNone)}},
		{Recommended: detect.Recommendation{Outgoing: withAuth(out, "PLAIN")},
			Hosts: []detect.HostTrust{{Host: "mail.other.test"}}, Probes: []detect.ProbeResult{{Protocol: detect.IMAP, Host: "mail.other.test", Status: detect.StatusUntrustedHost}}},
		{Probes: []detect.ProbeResult{
			{Protocol: detect.SMTP, Host: "smtp.example.test", Status: detect.StatusCertInvalid, Cert: &detect.CertInfo{Problem: "wrong_name", SHA256: "ab12"}},
			{Protocol: detect.IMAP, Host: "imap.example.test", Status: detect.StatusCertInvalid, Cert: &detect.CertInfo{Problem: "self_signed", SHA256: "cd34"}},
			{Protocol: detect.IMAP, Host: "a.other.test", Status: detect.StatusUntrustedHost}, {Protocol: detect.POP3, Host: "b.other.test", Status: detect.StatusUntrustedHost}},
			Hosts: []detect.HostTrust{{Host: "a.other.test"}, {Host: "b.other.test"}}},
	}
	for i, rep := range reports {
		if rep.Recommended.Incoming == nil && rep.Recommended.Outgoing != nil {
			rep.Recommended.Incoming = &detect.Setting{Protocol: detect.IMAP}
		}
		p := &detect.Provider{ID: "example", Name: "Example", Notes: full}
		text, notices := detect.WarningsOf(rep, p, &detect.Options{})
		check("report "+strconv.Itoa(i), text, notices)
	}

	yes := true
	for _, n := range []detect.Network{
		{Port25: detect.Port25Blocked, CaptivePortal: &yes, Outbound: map[string]detect.PortState{"587": detect.PortFiltered, "465": detect.PortFiltered}},
		{Port25: detect.Port25Intercepted},
	} {
		check("network", detect.NetworkAdviceOf(n), detect.NetworkNotices(n))
	}

	for _, f := range []*detect.Failure{{Kind: detect.KindAuthRejected, Code: 535, Enhanced: "5.7.8"}, {Kind: detect.KindServerTemporary, Code: 421}} {
		d := detect.DiagnosisFor(f)
		check("diagnosis", []string{strings.TrimPrefix(d.Explanation, detect.WordsFor(f.Kind).Explanation+" ")}, d.Notices)
		if got := en.Diagnosis(d).Explanation; got != d.Explanation {
			t.Errorf("diagnosis: %q, engine %q", got, d.Explanation)
		}
	}
	for _, via := range []string{"", "_imaps._tcp.shop.test"} {
		res := detect.UntrustedResult(detect.ProbeResult{Status: detect.StatusOK}, trust.ReasonSRVOutside, via)
		if got := en.Diagnosis(res.Diagnosis); got.Explanation != res.Diagnosis.Explanation || got.Title != res.Diagnosis.Title {
			t.Errorf("untrusted: %+v, engine %+v", got, res.Diagnosis)
		}
		for _, n := range res.Diagnosis.Notices {
			seen[n.Key] = true
		}
	}

	var missing []string
	for _, k := range noticeKeys(t) {
		if !seen[detect.NoticeKey(k)] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Errorf("notice keys no case here produces: %v", missing)
	}
}

func withAuth(s *detect.Setting, auth string) *detect.Setting {
	c := *s
	c.Auth = auth
	return &c
}

// noticeKeys are the NoticeKey constants of notice.go.
func noticeKeys(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "notice.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "NoticeKey" {
				for _, v := range vs.Values {
					s, _ := strconv.Unquote(v.(*ast.BasicLit).Value)
					out = append(out, s)
				}
			}
		}
		return true
	})
	sort.Strings(out)
	return slices.Compact(out)
}
