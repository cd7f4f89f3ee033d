package export

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mailsetup/mailsetup/detect"
)

// This file holds the one table that says how each mail program is told to log in, per
// mechanism the engine reports and per connection security. Every writer asks it; no
// writer decides a login value on its own. Each row names why and where the value
// comes from, so a reviewer can check it against the client's source or documentation.

// Sources cited by the table (the client's own definitions).
const (
	srcTBAuthEnum  = "Thunderbird nsMsgAuthMethod (mailnews/base/public/MailNewsTypes2.idl): none=1, passwordCleartext=3, passwordEncrypted=4, GSSAPI=5, NTLM=6, secure=8 (deprecated), OAuth2=10"
	srcTBClients   = "Thunderbird _preferredAuthMethods in mailnews/imap/src/ImapClient.sys.mjs, mailnews/compose/src/SmtpClient.sys.mjs, mailnews/local/src/Pop3Client.sys.mjs: passwordCleartext→PLAIN, LOGIN (+USER for POP3); passwordEncrypted→CRAM-MD5 (POP3: APOP when the greeting has a timestamp and no CRAM-MD5 is listed); NTLM→NTLM; GSSAPI→GSSAPI; OAuth2→XOAUTH2"
	srcTBReader    = "Thunderbird mail/components/accountcreation/modules/readFromXML.sys.mjs: incoming authentication password-cleartext|password-encrypted|GSSAPI|NTLM|OAuth2 (none is not accepted); outgoing adds none|client-IP-address|smtp-after-pop; OAuth2 only for hosts in mailnews/base/src/OAuth2Providers.sys.mjs"
	srcAppleSchema = "Apple device-management mdm/profiles/com.apple.mail.managed.yaml: Incoming/OutgoingMailServerAuthentication EmailAuthNone|EmailAuthPassword|EmailAuthCRAMMD5|EmailAuthNTLM|EmailAuthHTTPMD5; no OAuth or Kerberos value"
	srcOutlookPOX  = "Autodiscover POX for Outlook (learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/pox-autodiscover-response-for-outlook): SPA on = Secure Password Authentication (NTLM), AuthRequired, UsePOPAuth, SMTPLast"
	srcOutlookPRF  = "Outlook profile file (learn.microsoft.com/en-us/previous-versions/office/office-2010/cc179062(v=office.14)); SPA = NTLM in Outlook's account dialog; Outlook has no CRAM-MD5, SCRAM or OAuth for other providers' IMAP/POP/SMTP"
)

// client is a mail program family a table cell is for.
type client int

const (
	clientThunderbird client = iota // clientConfig <authentication> and user.js authMethod
	clientApple                     // Incoming/OutgoingMailServerAuthentication
	clientOutlook                   // Autodiscover SPA/AuthRequired, PRF *UseSPA/SMTPUseAuth, settings sheets
)

func (c client) String() string {
	return [...]string{"Thunderbird", "Apple Mail", "Outlook"}[c]
}

// secWhen says on which connections a row applies.
type secWhen int

const (
	anySecurity secWhen = iota
	encrypted           // implicit TLS or STARTTLS
	plainOnly           // no TLS at all
)

func (w secWhen) matches(s detect.Security) bool {
	switch w {
	case encrypted:
		return s == detect.SecurityTLS || s == detect.SecurityStartTLS
	case plainOnly:
		return s != detect.SecurityTLS && s != detect.SecurityStartTLS
	}
	return true
}

// tbCell is Thunderbird's value: the clientConfig word and the prefs number.
type tbCell struct {
	Config string // "" means Thunderbird cannot do this login
	Method int
}

// outlookCell is Outlook's value: whether it logs in, and with SPA (NTLM).
type outlookCell struct {
	OK           bool
	AuthRequired bool
	SPA          bool
}

// loginRow maps one (mechanism, security) pair to every client's value.
type loginRow struct {
	Mechs     []string // engine names, upper case; "NONE", "POP-BEFORE-SMTP", "OAUTH2", "" (not known)
	Security  secWhen
	Protocols []detect.Protocol // nil: every protocol
	TB        tbCell
	Apple     string // "" means Apple Mail cannot do this login
	Outlook   outlookCell
	// RevealsPassword says the client's login sends the password itself (base64 is not encryption).
	RevealsPassword bool
	// ClearStandIn lists the clients whose value makes them send a normal password (PLAIN,
	// LOGIN, USER) instead of the row's mechanism, so the server must also offer one of
	// those (checked when the report lists offers).
	ClearStandIn []client
	Words        string // the login method in plain words, for sheets and text
	Reason       string
	Source       string
}

var (
	tbCleartext = tbCell{"password-cleartext", 3}
	tbEncrypted = tbCell{"password-encrypted", 4}
	olPassword  = outlookCell{OK: true, AuthRequired: true}
	olNoLogin   = outlookCell{OK: true}
)

// loginTable is the one place where (mechanism, security) becomes each client's value.
// Rows are searched in order; the first that matches protocol, mechanism and security wins.
var loginTable = []loginRow{
	{Mechs: []string{"SCRAM-SHA-256", "SCRAM-SHA-1"}, Security: encrypted,
		TB: tbCleartext, Apple: "EmailAuthPassword", Outlook: olPassword, RevealsPassword: true, ClearStandIn: []client{clientThunderbird, clientApple, clientOutlook},
		Words:  "normal password (the connection is encrypted)",
		Reason: "None of the three clients speaks SCRAM. Thunderbird's password-encrypted means CRAM-MD5 only, which SCRAM servers often lack, so the account could not log in; over TLS the cleartext value makes the client use PLAIN or LOGIN inside the encrypted connection.",
		Source: srcTBClients + "; " + srcAppleSchema + "; " + srcOutlookPRF},
	{Mechs: []string{"SCRAM-SHA-256", "SCRAM-SHA-1"}, Security: plainOnly,
		Words:  "SCRAM (password never sent)",
		Reason: "On an unencrypted connection no client value keeps the password hidden without SCRAM: every password value would send it in clear text. Only a CRAM-MD5 (or APOP) offer from the same server can stand in.",
		Source: srcTBClients + "; " + srcAppleSchema + "; " + srcOutlookPRF},
	{Mechs: []string{"CRAM-MD5"}, Security: encrypted,
		TB: tbEncrypted, Apple: "EmailAuthCRAMMD5", Outlook: olPassword, ClearStandIn: []client{clientOutlook},
		Words:  "encrypted password (CRAM-MD5)",
		Reason: "Thunderbird's password-encrypted and Apple's EmailAuthCRAMMD5 are CRAM-MD5. Outlook has no CRAM-MD5; over TLS it sends the password inside the encrypted connection.",
		Source: srcTBAuthEnum + "; " + srcTBClients + "; " + srcAppleSchema + "; " + srcOutlookPRF},
	{Mechs: []string{"CRAM-MD5"}, Security: plainOnly,
		TB: tbEncrypted, Apple: "EmailAuthCRAMMD5",
		Words:  "encrypted password (CRAM-MD5)",
		Reason: "CRAM-MD5 hides the password on a clear connection; Outlook has no CRAM-MD5 and would send the password in clear text, so Outlook gets no value.",
		Source: srcTBClients + "; " + srcAppleSchema + "; " + srcOutlookPRF},
	{Mechs: []string{"APOP"}, Protocols: []detect.Protocol{detect.POP3}, Security: encrypted,
		TB: tbEncrypted, Apple: "EmailAuthPassword", Outlook: olPassword, ClearStandIn: []client{clientApple, clientOutlook}, RevealsPassword: true,
		Words:  "normal password (the connection is encrypted)",
		Reason: "Thunderbird's password-encrypted does APOP on POP3. Apple's profile has no APOP value and Outlook no APOP; over TLS their normal password (USER/PASS) is protected by the connection.",
		Source: srcTBClients + "; " + srcAppleSchema + "; " + srcOutlookPRF},
	{Mechs: []string{"APOP"}, Protocols: []detect.Protocol{detect.POP3}, Security: plainOnly,
		TB:     tbEncrypted,
		Words:  "encrypted password (APOP)",
		Reason: "Thunderbird's password-encrypted falls back to APOP when the greeting carries a timestamp. Apple's profile and Outlook have no APOP: their password value would send USER/PASS in clear text.",
		Source: srcTBClients + "; " + srcAppleSchema + "; " + srcOutlookPRF},
	{Mechs: []string{"PLAIN", "LOGIN"}, Security: anySecurity,
		TB: tbCleartext, Apple: "EmailAuthPassword", Outlook: olPassword, RevealsPassword: true,
		Words:  "normal password",
		Reason: "The password is sent as is (base64 is not encryption); every client's normal-password value does exactly this. On a clear connection the engine used it only with the user's consent.",
		Source: srcTBAuthEnum + "; " + srcTBClients + "; " + srcAppleSchema + "; " + srcOutlookPOX},
	{Mechs: []string{"USER"}, Protocols: []detect.Protocol{detect.POP3}, Security: anySecurity,
		TB: tbCleartext, Apple: "EmailAuthPassword", Outlook: olPassword, RevealsPassword: true,
		Words:  "normal password",
		Reason: "POP3 USER/PASS sends the password as is; every client's normal-password value does exactly this. On a clear connection the engine used it only with the user's consent.",
		Source: srcTBAuthEnum + "; " + srcTBClients + "; " + srcAppleSchema + "; " + srcOutlookPOX},
	{Mechs: []string{"NTLM"}, Security: anySecurity,
		TB: tbCell{"NTLM", 6}, Apple: "EmailAuthNTLM", Outlook: outlookCell{OK: true, AuthRequired: true, SPA: true},
		Words:  "NTLM (Windows login)",
		Reason: "Each client has its own NTLM value: Thunderbird NTLM (6), Apple EmailAuthNTLM, Outlook Secure Password Authentication.",
		Source: srcTBAuthEnum + "; " + srcAppleSchema + "; " + srcOutlookPOX},
	{Mechs: []string{"GSSAPI"}, Security: anySecurity,
		TB:     tbCell{"GSSAPI", 5},
		Words:  "Kerberos (GSSAPI)",
		Reason: "Thunderbird has GSSAPI (5). Apple's profile has no Kerberos value and Outlook's SPA is NTLM, so they get none.",
		Source: srcTBAuthEnum + "; " + srcAppleSchema + "; " + srcOutlookPRF},
	{Mechs: []string{"XOAUTH2", "OAUTHBEARER", "OAUTH2"}, Security: encrypted,
		TB:     tbCell{"OAuth2", 10},
		Words:  "OAuth2 (sign in in the browser)",
		Reason: "Thunderbird's OAuth2 (10) uses XOAUTH2 and works only for hosts in its built-in OAuth2 provider list. Apple's profile has no OAuth value and classic Outlook has no OAuth for other providers' IMAP/POP/SMTP; they can only use a password (often an app password) if the server offers one.",
		Source: srcTBAuthEnum + "; " + srcTBClients + "; " + srcTBReader + "; " + srcAppleSchema + "; " + srcOutlookPRF},
	{Mechs: []string{"XOAUTH2", "OAUTHBEARER", "OAUTH2"}, Security: plainOnly,
		Words:  "OAuth2 (sign in in the browser)",
		Reason: "An OAuth token is as good as a password for its lifetime; no client sends it over an unencrypted connection.",
		Source: srcTBClients + "; " + srcAppleSchema + "; " + srcOutlookPRF},
	{Mechs: []string{"NONE"}, Protocols: []detect.Protocol{detect.SMTP}, Security: anySecurity,
		TB: tbCell{"client-IP-address", 1}, Apple: "EmailAuthNone", Outlook: olNoLogin,
		Words:  "no login (this network is trusted by the server)",
		Reason: "The server relays for the sender's network address; clientConfig calls it client-IP-address, which Thunderbird reads as none (1).",
		Source: srcTBReader + "; " + srcAppleSchema + "; " + srcOutlookPOX},
	{Mechs: []string{"POP-BEFORE-SMTP"}, Protocols: []detect.Protocol{detect.SMTP}, Security: anySecurity,
		TB: tbCell{"smtp-after-pop", 1}, Apple: "EmailAuthNone", Outlook: olNoLogin,
		Words:  "check mail first (POP before SMTP)",
		Reason: "Sending is opened by a POP3 login shortly before; clientConfig calls it smtp-after-pop (read as none). Outlook's Autodiscover says SMTPLast on; the other clients only need to check mail before sending.",
		Source: srcTBReader + "; " + srcAppleSchema + "; " + srcOutlookPOX},
	{Mechs: []string{""}, Security: anySecurity,
		TB: tbCleartext, Apple: "EmailAuthPassword", Outlook: olPassword, RevealsPassword: true,
		Words:  "normal password (method not tested)",
		Reason: "The server listed no login method before the check ended (no password was given): the clients' normal-password value lets them pick what the server offers at login time.",
		Source: srcTBClients + "; " + srcAppleSchema + "; " + srcOutlookPOX},
}

// offerPreference is the order in which a stand-in mechanism is tried when a client
// cannot do the one the engine used: the ones that hide the password first.
var offerPreference = []string{"CRAM-MD5", "APOP", "NTLM", "PLAIN", "LOGIN", "USER", "XOAUTH2", "OAUTHBEARER"}

// clearMechs are the mechanisms the clients' normal-password value uses.
var clearMechs = []string{"PLAIN", "LOGIN", "USER"}

// UnsupportedError says a client cannot log in with the verified setting. It is a typed
// refusal, not a file the client would reject or misread.
type UnsupportedError struct {
	Format    string
	Client    string
	Protocol  detect.Protocol
	Mechanism string
	Security  detect.Security
	Reason    string
}

func (e *UnsupportedError) Error() string {
	mech := e.Mechanism
	if mech == "" {
		mech = "(none reported)"
	}
	return fmt.Sprintf("export %s: %s cannot log in to %s with %s on a %s connection: %s",
		e.Format, e.Client, strings.ToUpper(string(e.Protocol)), mech, securityWords(e.Security), e.Reason)
}

// ErrUnsupported is matched by every *UnsupportedError with errors.Is.
var ErrUnsupported = errors.New("export: the mail program cannot use this login")

// Is lets errors.Is(err, ErrUnsupported) match.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// loginChoice is what one client is told for one server.
type loginChoice struct {
	Row *loginRow
	// Mech is the mechanism the client will use: the verified one, or a stand-in from the
	// server's offers when the client cannot do the verified one.
	Mech string
	// Note explains a stand-in or a caveat to the user; "" when there is none.
	Note string
}

// normMech is the table's key for an engine mechanism name.
func normMech(m string) string { return strings.ToUpper(strings.TrimSpace(m)) }

// findRow returns the first row for the protocol, mechanism and security, or nil.
func findRow(p detect.Protocol, mech string, sec detect.Security) *loginRow {
	mech = normMech(mech)
	for i := range loginTable {
		r := &loginTable[i]
		if !slices.Contains(r.Mechs, mech) || !r.Security.matches(sec) {
			continue
		}
		if r.Protocols != nil && !slices.Contains(r.Protocols, p) {
			continue
		}
		return r
	}
	return nil
}

// cellOK reports whether the row has a value for the client on this server.
func (r *loginRow) cellOK(c client, s detect.Setting) bool {
	switch c {
	case clientThunderbird:
		if r.TB.Config == "" {
			return false
		}
		if r.TB.Method == 10 && !thunderbirdOAuthHost(s.Host) {
			return false
		}
		return true
	case clientApple:
		return r.Apple != ""
	default:
		return r.Outlook.OK
	}
}

// needsClear reports whether the client sends a normal password instead of the row's mechanism.
func (r *loginRow) needsClear(c client) bool { return slices.Contains(r.ClearStandIn, c) }

// usesPassword reports whether the row logs in with a password at all.
func (r *loginRow) usesPassword() bool {
	return !slices.Contains(r.Mechs, "NONE") && !slices.Contains(r.Mechs, "POP-BEFORE-SMTP")
}

// isOAuth reports whether the row is an OAuth login.
func (r *loginRow) isOAuth() bool { return slices.Contains(r.Mechs, "OAUTH2") }

// chooseLogin finds the client's value for the setting: the row for the verified
// mechanism when the client has one, else a stand-in the server also offers that keeps
// the password as safe as the verified login did, else an *UnsupportedError.
func chooseLogin(c client, format string, s detect.Setting, offered []string) (loginChoice, error) {
	mech := normMech(s.Auth)
	known := offered != nil
	if r := findRow(s.Protocol, mech, s.Security); r != nil && r.cellOK(c, s) {
		switch {
		case r.needsClear(c) && known && !hasAny(offered, clearMechs):
			// the client would need PLAIN/LOGIN/USER, which this server does not offer
		case r.isOAuth() && c == clientThunderbird && mech == "OAUTHBEARER" && known && !hasAny(offered, []string{"XOAUTH2"}):
			// Thunderbird's OAuth2 speaks XOAUTH2 only
		default:
			ch := loginChoice{Row: r, Mech: mech}
			if r.needsClear(c) && !known {
				ch.Note = fmt.Sprintf("%s cannot use %s; it logs in with its normal password inside the encrypted connection (servers that offer %s normally offer PLAIN too).", c, mech, mech)
			}
			return ch, nil
		}
	}
	row := findRow(s.Protocol, mech, s.Security)
	reason := fmt.Sprintf("the engine reports no login called %q for %s", s.Auth, strings.ToUpper(string(s.Protocol)))
	if row != nil {
		reason = row.Reason
		if known && row.usesPassword() {
			if ch, ok := standIn(c, s, offered, row, mech); ok {
				return ch, nil
			}
		}
	}
	return loginChoice{}, &UnsupportedError{Format: format, Client: c.String(), Protocol: s.Protocol, Mechanism: s.Auth, Security: s.Security, Reason: reason}
}

// standIn finds another mechanism the server offers that the client can do, without
// ever trading a hidden password for a clear one on an unencrypted connection and
// without turning a password login into OAuth.
func standIn(c client, s detect.Setting, offered []string, from *loginRow, mech string) (loginChoice, bool) {
	secure := s.Security == detect.SecurityTLS || s.Security == detect.SecurityStartTLS
	for _, alt := range offerPreference {
		if alt == mech || !hasAny(offered, []string{alt}) {
			continue
		}
		r := findRow(s.Protocol, alt, s.Security)
		if r == nil || !r.cellOK(c, s) || r.isOAuth() || !r.usesPassword() {
			continue
		}
		if r.RevealsPassword && !secure && !from.RevealsPassword {
			continue
		}
		if r.needsClear(c) && !hasAny(offered, clearMechs) {
			continue
		}
		note := fmt.Sprintf("%s cannot use %s; it logs in with %s, which the same server also offers (that method itself was not tested).", c, displayMech(mech), alt)
		return loginChoice{Row: r, Mech: alt, Note: note}, true
	}
	return loginChoice{}, false
}

func displayMech(m string) string {
	if m == "" {
		return "the reported login"
	}
	return m
}

func hasAny(offered, want []string) bool {
	for _, o := range offered {
		if slices.Contains(want, normMech(o)) {
			return true
		}
	}
	return false
}

// thunderbirdOAuthHosts are the host names (and their subdomains) that Thunderbird's
// built-in OAuth2Providers.sys.mjs knows for mail; clientConfig OAuth2 for any other host
// is rejected by its reader ("Lacking OAuth2 config").
var thunderbirdOAuthHosts = []string{
	"googlemail.com", "gmail.com", "imap.mail.ru", "smtp.mail.ru", "imap.yandex.com", "smtp.yandex.com",
	"imap.seznam.cz", "smtp.seznam.cz", "pop3.seznam.cz", "yahoo.com", "att.net", "aol.com",
	"office365.com", "outlook.com", "hotmail.com", "imap.fastmail.com", "pop.fastmail.com", "smtp.fastmail.com",
	"imap.comcast.net", "pop.comcast.net", "smtp.comcast.net", "thundermail.com",
}

// thunderbirdOAuthHost walks the host's labels the way Thunderbird's lookup does.
func thunderbirdOAuthHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for strings.Contains(h, ".") {
		if slices.Contains(thunderbirdOAuthHosts, h) {
			return true
		}
		h = h[strings.IndexByte(h, '.')+1:]
	}
	return false
}
