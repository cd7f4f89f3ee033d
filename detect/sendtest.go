package detect

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// sendTestPoll is how often the incoming server is searched for the test message.
const sendTestPoll = time.Second

// sendTestWait caps how long the test message may take to arrive.
const sendTestWait = 60 * time.Second

// sendTest sends a short message from the address to itself through the recommended
// outgoing server and looks for it by Message-ID through the recommended incoming one.
func (o *engine) sendTest(ctx context.Context, addr Address, rec Recommendation, login *Login) *SendTestResult {
	res := &SendTestResult{}
	out, in := rec.Outgoing, rec.Incoming
	switch {
	case !login.hasPassword():
		res.StuckAt, res.Error = "before sending", "a test message needs the password"
		return res
	case out == nil || !out.Verified:
		res.StuckAt, res.Error = "before sending", "no verified outgoing setting"
		return res
	case in == nil || !in.Verified:
		res.StuckAt, res.Error = "before sending", "no verified incoming setting to look for the message"
		return res
	}
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	res.MessageID = fmt.Sprintf("<mailsetup-%s@%s>", hex.EncodeToString(rnd[:]), addr.Domain)
	msg := testMessage(addr, res.MessageID, o.now())

	start := time.Now()
	outKey := ProbeKey{out.Protocol, out.Host, out.Port, out.Security}
	if err := o.SendMessage(ctx, outKey, login, out.Username, addr.String(), msg); err != nil {
		res.StuckAt = "sending"
		res.Error = scrub(err.Error(), login.secretsFor(ProbeKey{}))
		return res
	}
	res.Sent = true

	inKey := ProbeKey{in.Protocol, in.Host, in.Port, in.Security}
	wait, cancel := context.WithTimeout(ctx, sendTestWait)
	defer cancel()
	look := o.mailboxLooker(wait, inKey, login, in.Username)
	defer look.close()
	for delay := sendTestPoll; ; {
		found, err := look.find(res.MessageID)
		if found {
			res.Found = true
			res.RoundTrip = time.Since(start).Milliseconds()
			return res
		}
		if err != nil {
			res.Error = scrub(err.Error(), login.secretsFor(ProbeKey{}))
		}
		select {
		case <-wait.Done():
			res.StuckAt = "delivery: the message was accepted for sending but did not arrive in the mailbox within " + sendTestWait.String()
			return res
		case <-time.After(delay):
		}
		delay = look.next(delay)
	}
}

// mailboxLooker looks for the test message. IMAP keeps one logged-in session and asks
// it again each second (NOOP, SEARCH): one login for the whole wait. A POP3 session
// never sees mail that arrives after its login (RFC 1939 locks the maildrop), so POP3
// logs in again, at growing intervals (1, 2, 4, 8 … s: six logins in a minute).
type mailboxLooker struct {
	o        *engine
	ctx      context.Context
	key      ProbeKey
	login    *Login
	username string
	inbox    *imapInbox
}

func (o *engine) mailboxLooker(ctx context.Context, key ProbeKey, login *Login, username string) *mailboxLooker {
	return &mailboxLooker{o: o, ctx: ctx, key: key, login: login, username: username}
}

func (m *mailboxLooker) find(messageID string) (bool, error) {
	if m.key.Protocol == POP3 {
		return m.o.FindMessage(m.ctx, m.key, m.login, m.username, messageID)
	}
	if m.inbox == nil {
		s, err := m.o.openIMAPInbox(m.ctx, m.key, m.login, m.username)
		if err != nil {
			return false, err
		}
		m.inbox = s
	}
	found, err := m.inbox.find(messageID)
	if err != nil {
		m.inbox.close() // a broken session is replaced on the next look
		m.inbox = nil
	}
	return found, err
}

// next is the pause before the following look.
func (m *mailboxLooker) next(d time.Duration) time.Duration {
	if m.key.Protocol == POP3 {
		return min(2*d, 16*time.Second)
	}
	return sendTestPoll
}

func (m *mailboxLooker) close() {
	if m.inbox != nil {
		m.inbox.close()
	}
}

func testMessage(addr Address, messageID string, now time.Time) []byte {
	return []byte("From: <" + addr.String() + ">\r\n" +
		"To: <" + addr.String() + ">\r\n" +
		"Subject: Mail Setup Assistant test message\r\n" +
		"Date: " + now.Format(time.RFC1123Z) + "\r\n" +
		"Message-ID: " + messageID + "\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"This message was sent by Mail Setup Assistant to prove that sending and receiving work.\r\n" +
		"You may delete it.\r\n")
}
