package detect

import (
	"errors"
	"strings"
	"time"
)

// ErrImplicitTLSPort is the cancel cause for a plain-text probe whose port was found to
// speak TLS from the first byte (so no banner will ever come in clear text).
var ErrImplicitTLSPort = errors.New("detect: this port expects TLS from the first byte")

// ErrSkippedPort25 is the cancel cause for port-25 probes on a network that blocks port 25.
var ErrSkippedPort25 = errors.New("detect: port 25 is blocked on this network")

// probeRun is the bookkeeping shared by the SMTP, IMAP and POP3 probes.
type probeRun struct {
	o     *Options
	res   ProbeResult
	tr    *Transcript
	start time.Time
}

// startProbe begins the record of one probe; password is only used to scrub the transcript.
func (o *Options) startProbe(key ProbeKey, password string) *probeRun {
	return &probeRun{
		o: o,
		res: ProbeResult{
			Protocol: key.Protocol, Host: key.Host, Port: key.Port, Security: key.Security,
			AuthMechanisms: []string{}, Transcript: []string{},
		},
		tr:    NewTranscript(password),
		start: time.Now(),
	}
}

// finish completes the result: status and diagnosis from f (nil = success), the
// redacted transcript and the elapsed time. It never returns a result without status.
func (p *probeRun) finish(f *Failure) ProbeResult {
	r := p.res
	r.ElapsedMS = time.Since(p.start).Milliseconds()
	r.Transcript = p.tr.Lines()
	if f == nil {
		k := KindUnverified
		if r.Verified {
			k = KindOK
		}
		if r.Relay == RelayAccepted && !r.Verified {
			k = KindRelayOpen
		}
		r.Status = StatusOK
		r.Diagnosis = DiagnosisFor(&Failure{Kind: k})
		return r
	}
	r.Status = StatusFor(f.Kind)
	r.Diagnosis = DiagnosisFor(f)
	r.Error = scrub(f.Error(), p.tr.secrets)
	return r
}

// Relay outcomes for ProbeResult.Relay.
const (
	RelayAccepted = "accepted"
	RelayRejected = "rejected"
)

func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
