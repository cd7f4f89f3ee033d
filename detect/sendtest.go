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
func (o *Options) sendTest(ctx context.Context, addr Address, rec Recommendation, login *Login) *SendTestResult {
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
		res.Error = scrub(err.Error(), SecretForms(login.Password))
		return res
	}
	res.Sent = true

	inKey := ProbeKey{in.Protocol, in.Host, in.Port, in.Security}
	wait, cancel := context.WithTimeout(ctx, sendTestWait)
	defer cancel()
	tick := time.NewTicker(sendTestPoll)
	defer tick.Stop()
	for {
		found, err := o.FindMessage(wait, inKey, login, in.Username, res.MessageID)
		if found {
			res.Found = true
			res.RoundTrip = time.Since(start).Milliseconds()
			return res
		}
		if err != nil {
			res.Error = scrub(err.Error(), SecretForms(login.Password))
		}
		select {
		case <-wait.Done():
			res.StuckAt = "delivery: the message was accepted for sending but did not arrive in the mailbox within " + sendTestWait.String()
			return res
		case <-tick.C:
		}
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
