package detect

import (
	"context"
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

// plainObs is what the STARTTLS cell observed before switching to TLS, or how it failed
// before it got there.
type plainObs struct {
	banner  string
	caps    []string
	mechs   []string
	lines   []string
	elapsed time.Duration
	fail    *Failure
}

func newPlainShare() *plainShare { return &plainShare{done: make(chan struct{})} }

// publish hands obs to the clear-text cell; only the first call counts.
func (s *plainShare) publish(obs *plainObs) {
	if s == nil {
		return
	}
	s.once.Do(func() {
		s.obs = obs
		close(s.done)
	})
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

// shareFail publishes a failure the STARTTLS cell met before its capabilities (connect,
// greeting, capability read), which a clear-text connection would meet too, and returns f.
// A cancelled cell shares nothing: its sibling has its own cancel to explain.
func (p *probeRun) shareFail(f *Failure) *Failure {
	if p.share == nil || f == nil || f.Kind == KindCanceled {
		return f
	}
	cp := *f
	p.share.publish(&plainObs{banner: p.res.Banner, lines: p.tr.Lines(), elapsed: time.Since(p.start), fail: &cp})
	return f
}

// plainNeedsConn decides whether the clear-text cell must open its own connection, or
// else what its outcome is (nil: reachable, login not tested in clear text).
func (o *Options) plainNeedsConn(key ProbeKey, obs *plainObs, login *Login) (bool, *Failure) {
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

// derivePlain completes the clear-text cell from its STARTTLS sibling's observation; ok
// is false when the cell must connect itself.
func (o *Options) derivePlain(key ProbeKey, login *Login, obs *plainObs) (ProbeResult, bool) {
	f := obs.fail
	why := "it failed the same way before TLS"
	if f == nil {
		need, outcome := o.plainNeedsConn(key, obs, login)
		if need {
			return ProbeResult{}, false
		}
		f = outcome
		why = "no clear-text login to try"
		if f != nil {
			why = "a clear-text login is not possible or not allowed"
		}
	}
	p := o.startProbe(key, login.password())
	p.res.Banner, p.res.Capabilities, p.res.AuthMechanisms = obs.banner, obs.caps, obs.mechs
	if p.res.AuthMechanisms == nil {
		p.res.AuthMechanisms = []string{}
	}
	p.tr.replay(obs.lines)
	p.tr.Note("the STARTTLS check of this port had this conversation before TLS, as a clear-text connection would; no second connection (" + why + ")")
	res := p.finish(f)
	res.ElapsedMS = obs.elapsed.Milliseconds()
	return res, true
}
