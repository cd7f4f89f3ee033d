package detect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// probeRun is the bookkeeping shared by the SMTP, IMAP and POP3 probes.
type probeRun struct {
	o     *engine
	res   ProbeResult
	tr    *Transcript
	start time.Time
	// clock is the probe's time budget (nil for helpers such as SendMessage).
	clock *probeClock
	// share, for a STARTTLS cell, receives what it saw before TLS for the port's clear-text cell.
	share *plainShare
	// server is the address the connection reached (the login gate's key).
	server string
}

// probeClock is a probe's time budget: it cancels the probe's context once the probe
// has worked for Options.Timeout. Time spent waiting for another probe's login to the
// same server is not counted, so a server's failed-login delay does not turn the cells
// that wait their turn into timeouts.
type probeClock struct {
	mu        sync.Mutex
	timer     *time.Timer
	remaining time.Duration
	since     time.Time
	paused    bool
}

// withBudget returns the probe's context, cancelled with cause context.DeadlineExceeded
// when the budget is spent, its clock, and the function that releases both.
func (o *engine) withBudget(parent context.Context) (context.Context, *probeClock, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	c := &probeClock{remaining: o.timeout(), since: time.Now()}
	c.timer = time.AfterFunc(c.remaining, func() { cancel(context.DeadlineExceeded) })
	return ctx, c, func() { c.timer.Stop(); cancel(context.Canceled) }
}

func (c *probeClock) pause() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.paused && c.timer.Stop() {
		c.remaining -= time.Since(c.since)
		c.paused = true
	}
}

func (c *probeClock) resume() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused {
		c.paused = false
		c.since = time.Now()
		c.timer.Reset(max(c.remaining, time.Millisecond))
	}
}

// startProbe begins the record of one probe; the login's credentials are only used to
// scrub the transcript.
func (o *engine) startProbe(key ProbeKey, login *Login) *probeRun {
	return &probeRun{
		o: o,
		res: ProbeResult{
			Protocol: key.Protocol, Host: key.Host, Port: key.Port, Security: key.Security,
			AuthMechanisms: []string{}, Transcript: []string{},
		},
		tr:    &Transcript{pending: map[byte]*bytes.Buffer{}, secrets: login.secretsFor(key)},
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
		if r.Relay == RelayAfterPOP3 {
			k = KindPOPBeforeSMTP
		}
		r.Status = StatusOK
		r.Diagnosis = DiagnosisFor(&Failure{Kind: k})
		return r
	}
	if p.tr.Limited() && f.Kind != KindLimitExceeded {
		// The libraries see a reply limit as a broken connection; say what it was.
		f = &Failure{Kind: KindLimitExceeded, Step: f.Step, Err: fmt.Errorf("%w (%v)", ErrReplyTooLarge, f.Err)}
	}
	r.Status = StatusFor(f.Kind)
	r.Diagnosis = DiagnosisFor(f)
	r.Error = scrub(f.Error(), p.tr.secrets)
	return r
}

// runProbe runs one protocol's probe of a cell within its time budget and completes
// the result, whatever happened.
func (o *engine) runProbe(ctx context.Context, key ProbeKey, login *Login,
	probe func(context.Context, *probeRun, ProbeKey, *Login) *Failure) ProbeResult {
	p := o.startProbe(key, login)
	ctx, clock, release := o.withBudget(ctx)
	defer release()
	p.clock = clock
	if key.Security == SecurityStartTLS {
		p.share = shareFrom(ctx)
	}
	return p.finishCtx(ctx, probe(ctx, p, key, login))
}

// finishCtx is finish for a probe bounded by ctx: when ctx ended, the error the
// connection saw (often "use of closed network connection", because the engine closes
// it) is reported as the timeout or cancellation it really was.
func (p *probeRun) finishCtx(ctx context.Context, f *Failure) ProbeResult {
	dl, hasDL := ctx.Deadline()
	ended := ctx.Err() != nil || hasDL && !time.Now().Before(dl)
	if f != nil && ended && f.Kind != KindTimeout {
		// The budget ends with cause DeadlineExceeded; the run's cancel with Canceled; the
		// engine's own stops (port 25 blocked, implicit-TLS port) are explained by Run.
		cause := context.Cause(ctx)
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		k := KindTimeout
		if errors.Is(cause, context.Canceled) {
			k = KindCanceled
		}
		f = &Failure{Kind: k, Step: f.Step, Err: fmt.Errorf("%w (%v)", cause, f.Err)}
	}
	return p.finish(f)
}

// Relay is what a server without AUTH does with mail for an outside address.
type Relay string

// Relay outcomes for ProbeResult.Relay, as the report spells them.
const (
	RelayAccepted Relay = "accepted"
	RelayRejected Relay = "rejected"
	// RelayAfterPOP3 means the server relays only after a POP3 login from this address.
	RelayAfterPOP3 Relay = "after_pop3"
)

func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
