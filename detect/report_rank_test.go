package detect

import "testing"

func TestMostTelling(t *testing.T) {
	t.Parallel()
	d := &Diagnosis{Kind: KindTimeout}
	p := func(proto Protocol, host string, s Status) ProbeResult {
		return ProbeResult{Protocol: proto, Host: host, Status: s, Diagnosis: d}
	}
	probes := []ProbeResult{
		p(SMTP, "a", StatusRefused),
		p(SMTP, "b", StatusTimeout),
		p(IMAP, "c", StatusCertInvalid),
		p(IMAP, "d", StatusUntrustedHost),
		p(SMTP, "e", StatusOK),
		{Protocol: SMTP, Host: "f", Status: StatusAuthFailed}, // no diagnosis: not a failure to show
		p(POP3, "g", StatusDNSFailed),
	}
	for _, tc := range []struct {
		name string
		keep func(ProbeResult) bool
		want string
	}{
		{"all", nil, "d"},
		{"outgoing", func(p ProbeResult) bool { return p.Protocol == SMTP }, "b"},
		{"pop3", func(p ProbeResult) bool { return p.Protocol == POP3 }, "g"},
		{"none", func(ProbeResult) bool { return false }, ""},
	} {
		got := MostTelling(probes, tc.keep)
		if host := ""; got != nil {
			host = got.Host
			if host != tc.want {
				t.Errorf("%s: %s, want %q", tc.name, host, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("%s: nil, want %s", tc.name, tc.want)
		}
	}
	if !(Telling(ProbeResult{Status: StatusOK, Verified: true}) < Telling(ProbeResult{Status: StatusOK})) ||
		!(Telling(ProbeResult{Status: StatusAuthFailed}) < Telling(ProbeResult{Status: StatusTimeout})) ||
		!(Telling(ProbeResult{Status: StatusDNSFailed}) < Telling(ProbeResult{Status: "from a newer version"})) {
		t.Error("Telling does not rank verified, a server's answer, silence and an unknown status in that order")
	}
}

func TestUnvetted(t *testing.T) {
	t.Parallel()
	rep := &Report{
		Hosts: []HostTrust{{Host: "mail.own.test", Trusted: true}, {Host: "mx.other.test"}, {Host: "never.other.test"}},
		Probes: []ProbeResult{
			{Host: "mail.own.test", Status: StatusOK},
			{Host: "MX.other.test", Status: StatusUntrustedHost},
			{Host: "never.other.test", Status: StatusRefused},
		},
	}
	got := rep.Unvetted()
	if len(got) != 1 || got[0].Host != "mx.other.test" {
		t.Errorf("Unvetted = %+v, want mx.other.test only (reached without a login)", got)
	}
}
