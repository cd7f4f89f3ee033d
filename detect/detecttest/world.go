package detecttest

import (
	"fmt"
)

// World is a small mail provider on loopback: SMTP on 465 (TLS) and 587 (STARTTLS),
// IMAP on 993 and POP3 on 995, reachable under smtp./imap./pop. names of Domain through
// Net, with SRV records that announce them. Messages sent through SMTP land in the
// IMAP and POP3 mailboxes. The CLI tests and the GUI's demo mode use it.
type World struct {
	Net      *Net
	CA       *CA
	Domain   string
	User     string
	Password string
	closers  []func()
}

// StartWorld starts a World for the test and closes it when the test ends.
func StartWorld(t T, domain, user, password string) *World {
	t.Helper()
	w, err := NewWorld(domain, user, password)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}

// NewWorld starts a World; user is the full address. The caller closes it.
func NewWorld(domain, user, password string) (w *World, err error) {
	return NewWorldWith(domain, user, password, nil)
}

// NewWorldWith is NewWorld whose servers also accept OAuth2 tokens (XOAUTH2 and
// OAUTHBEARER) when tokens is set.
func NewWorldWith(domain, user, password string, tokens *Tokens) (w *World, err error) {
	w = &World{Net: NewNet(), Domain: domain, User: user, Password: password}
	defer func() {
		if err != nil {
			w.Close()
		}
	}()
	if w.CA, err = MakeCA(domain + " demo CA"); err != nil {
		return nil, err
	}
	smtpHost, imapHost, popHost := "smtp."+domain, "imap."+domain, "pop."+domain
	cert, err := w.CA.MakeLeaf(CertOpts{}, smtpHost, imapHost, popHost)
	if err != nil {
		return nil, err
	}
	users := map[string]string{user: password}
	imapSrv, err := NewIMAP(IMAPConfig{Mode: "tls", Cert: cert, Users: users, Tokens: tokens})
	if err != nil {
		return nil, err
	}
	w.closers = append(w.closers, imapSrv.Close)
	popSrv, err := NewPOP3(POP3Config{Mode: "tls", Cert: cert, Users: users, Tokens: tokens})
	if err != nil {
		return nil, err
	}
	w.closers = append(w.closers, popSrv.Close)
	deliver := func(_ string, to []string, data []byte) {
		for _, rcpt := range to {
			if rcpt == user {
				_ = imapSrv.Append(user, data)
				popSrv.Deliver(user, data)
			}
		}
	}
	var smtps []*SMTPServer
	mechs := []string{"PLAIN", "LOGIN"}
	if tokens != nil {
		mechs = append(mechs, "OAUTHBEARER", "XOAUTH2")
	}
	for _, mode := range []string{"tls", "starttls"} {
		s, err := NewSMTP(SMTPConfig{Mode: mode, Cert: cert, Domain: smtpHost, Mechanisms: mechs, Users: users, Deliver: deliver, Tokens: tokens})
		if err != nil {
			return nil, err
		}
		w.closers = append(w.closers, s.Close)
		smtps = append(smtps, s)
	}
	w.Net.Route(smtpHost, 465, smtps[0].Addr)
	w.Net.Route(smtpHost, 587, smtps[1].Addr)
	w.Net.Route(imapHost, 993, imapSrv.Addr)
	w.Net.Route(popHost, 995, popSrv.Addr)
	w.Net.SRV("submissions", domain, smtpHost, 465)
	w.Net.SRV("submission", domain, smtpHost, 587)
	w.Net.SRV("imaps", domain, imapHost, 993)
	w.Net.SRV("pop3s", domain, popHost, 995)
	return w, nil
}

// Close stops every server of the world.
func (w *World) Close() {
	w.Net.Close()
	for i := len(w.closers) - 1; i >= 0; i-- {
		w.closers[i]()
	}
	w.closers = nil
}

// String describes the world for logs.
func (w *World) String() string {
	return fmt.Sprintf("world %s (user %s)", w.Domain, w.User)
}
