package detect

import (
	"context"
	"slices"
	"sync"
	"time"
)

// plainShare lets the clear-text cell of an IMAP or POP3 port reuse what the port's
// STARTTLS cell saw before TLS: the same greeting and capabilities a clear-text
// connection would see. The port then costs one connection, unless the clear-text cell
// must log in without TLS (with the user's consent, or by challenge-response).
//
// SMTP does not share: most submission servers show AUTH only after STARTTLS, so the
// clear-text cell asks about relaying on a conversation of its own anyway, and waiting
// for its sibling first made the matrix 25 % slower (docs/PERFORMANCE.md).
type plainShare struct {
	once sync.Once
	done chan struct{}
	obs  *plainObs // nil: nothing to reuse, the clear-text cell connects itself
}

// plainObs is what the STARTTLS cell observed before switching to TLS, or its result
// when it failed before it got there.
type plainObs struct {
	banner  string
	caps    []string
	mechs   []string
	lines   []string
	elapsed time.Duration
	failed  *ProbeResult
}

func newPlainShare() *plainShare { return &plainShare{done: make(chan struct{})} }

// publish hands obs to the clear-text cell; only the first call counts.
func (s *plainShare) publish(obs *plainObs) {
	s.once.Do(func() {
		s.obs = obs
		close(s.done)
	})
}

// ended is called with the STARTTLS cell's result. If the cell shared nothing yet, it
// failed before reading the capabilities (connect, greeting, capability read), which a
// clear-text connection meets too: that result is shared. A cell that never ran or was
// cancelled shares nothing; its sibling connects itself or has its own cancel.
func (s *plainShare) ended(res ProbeResult) {
	if s == nil {
		return
	}
	if res.Status == "" || res.Status == StatusOK || res.Diagnosis != nil && res.Diagnosis.Kind == KindCanceled {
		s.publish(nil)
		return
	}
	s.publish(&plainObs{failed: &res})
}

type shareKey struct{}

func withShare(ctx context.Context, s *plainShare) context.Context {
	return context.WithValue(ctx, shareKey{}, s)
}

func shareFrom(ctx context.Context) *plainShare {
	s, _ := ctx.Value(shareKey{}).(*plainShare)
	return s
}

// sharePre publishes the STARTTLS cell's clear-text capabilities (no-op for other cells).
func (p *probeRun) sharePre(mechs []string) {
	if p.share == nil {
		return
	}
	if mechs == nil {
		mechs = []string{}
	}
	p.share.publish(&plainObs{
		banner: p.res.Banner, caps: append([]string(nil), p.res.Capabilities...), mechs: mechs,
		lines: p.tr.Lines(), elapsed: time.Since(p.start),
	})
}

// fromSibling completes a clear-text cell from its STARTTLS sibling when it can: it
// waits for what the sibling saw before TLS; ok is false when the cell must connect itself.
func (o *engine) fromSibling(ctx context.Context, share *plainShare, key ProbeKey, login *Login) (ProbeResult, bool) {
	if share == nil || key.Security != SecurityNone {
		return ProbeResult{}, false
	}
	select {
	case <-share.done:
	case <-ctx.Done():
		return ProbeResult{}, false
	}
	if share.obs == nil || ctx.Err() != nil {
		return ProbeResult{}, false
	}
	return o.derivePlain(key, login, share.obs)
}

// plainNeedsConn decides whether the clear-text cell must open its own connection, or
// else what its outcome is (nil: reachable, login not tested in clear text).
func (o *engine) plainNeedsConn(key ProbeKey, obs *plainObs, login *Login) (bool, *Failure) {
	if !login.hasPassword() {
		return false, nil
	}
	var f *Failure
	switch key.Protocol {
	case IMAP:
		_, f = imapChoose(obs.caps, false, o.AllowPlaintext, key)
	case POP3:
		_, f = chooseFrom(pop3Clear, obs.mechs, false, o.AllowPlaintext)
	default:
		return true, nil
	}
	if f != nil {
		return false, f
	}
	return true, nil
}

// sharedNote ends the transcript of a clear-text cell completed from its sibling.
const sharedNote = "the STARTTLS check of this port had this conversation before TLS, as a clear-text connection would; no second connection"

// derivePlain completes the clear-text cell from its STARTTLS sibling's observation; ok
// is false when the cell must connect itself.
func (o *engine) derivePlain(key ProbeKey, login *Login, obs *plainObs) (ProbeResult, bool) {
	if obs.failed != nil {
		r := *obs.failed
		r.Security = SecurityNone
		r.Transcript = append(slices.Clone(r.Transcript), "-- "+sharedNote+" (it failed the same way before TLS)")
		return r, true
	}
	need, f := o.plainNeedsConn(key, obs, login)
	if need {
		return ProbeResult{}, false
	}
	why := "no clear-text login to try"
	if f != nil {
		why = "a clear-text login is not possible or not allowed"
	}
	p := o.startProbe(key, login)
	p.res.Banner, p.res.Capabilities, p.res.AuthMechanisms = obs.banner, obs.caps, obs.mechs
	p.tr.replay(obs.lines)
	p.tr.Note(sharedNote + " (" + why + ")")
	res := p.finish(f)
	res.ElapsedMS = obs.elapsed.Milliseconds()
	return res, true
}
