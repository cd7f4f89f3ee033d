package detect

import "strconv"

// Words are the plain-language title, explanation and fix for one Kind.
type Words struct {
	Title       string
	Explanation string
	Fix         string
}

// words holds the plain language for every Kind; CLI, GUI and exports all read it.
var words = map[Kind]Words{
	KindOK: {
		"Works",
		"We connected, the encryption checked out, and the server accepted your login.",
		"Use these settings.",
	},
	KindUnverified: {
		"Reachable, login not tested",
		"We connected and the encryption checked out, but without a password we could not test the login.",
		"Run the check again with your password to prove these settings work.",
	},
	KindTimeout: {
		"No answer",
		"The server did not answer in time. Either the name or port is wrong, or the network you are on silently blocks this port.",
		"Try another port (465 or 587 for sending), or another network. If only this port times out, the network is blocking it.",
	},
	KindRefused: {
		"Connection refused",
		"The server's address was reached, but nothing accepts connections on this port.",
		"This server does not offer this port; use one of the ports that worked.",
	},
	KindUnreachable: {
		"Server unreachable",
		"There is no network route to this server from where you are.",
		"Check that you are online; if other servers work, this address may be for another network (IPv6 only, or an internal name).",
	},
	KindDNS: {
		"Server name not found",
		"The server's name does not exist in DNS, or DNS did not answer.",
		"Check the spelling of the server name; this guess may simply not exist for your provider.",
	},
	KindTLSHandshake: {
		"Encryption failed",
		"We reached the server, but the encrypted connection could not be set up on this port in this mode.",
		"Use the security mode the port expects: TLS (SSL) on 465/993/995, STARTTLS on 587/143/110.",
	},
	KindCertExpired: {
		"Server certificate expired",
		"The server proves its identity with a certificate, and that certificate has expired. Your mail program will warn or refuse.",
		"Tell your provider; do not accept the warning on an untrusted network.",
	},
	KindCertNameMismatch: {
		"Certificate is for another name",
		"The server's certificate does not name the server you asked for. Either the provider uses another name for this service, or something on this network answers in the real server's place. The name inside the certificate proves nothing: whoever answers chose it.",
		"Do not log in here. Use the server name your provider publishes (its help pages or your other devices' settings), or another network. Accept this exact certificate only if your provider confirms its fingerprint.",
	},
	KindCertUnknownCA: {
		"Certificate not trusted",
		"The server's certificate was issued by an authority this computer does not trust.",
		"If this is your company's own server, install its CA (use --ca); otherwise do not accept it.",
	},
	KindCertSelfSigned: {
		"Self-signed certificate",
		"The server signed its own certificate, so nothing vouches for its identity.",
		"Only accept it if the provider told you its exact fingerprint; better, ask for a real certificate.",
	},
	KindNoStartTLS: {
		"Encryption not offered",
		"The server does not offer to switch this connection to encryption (STARTTLS), or refused when asked. On a network that should offer it, a middlebox may be stripping it.",
		"Use the implicit-TLS port instead (465 for sending, 993 for IMAP, 995 for POP3).",
	},
	KindAuthRejected: {
		"Login rejected",
		"The server answered, so the server name, port and encryption are right, but it did not accept the user name or password.",
		"Check the password. Many providers need an app password when two-step verification is on, or IMAP/POP enabled in web settings first.",
	},
	KindMechanismUnsupported: {
		"No common login method",
		"The server offers login methods this program cannot use on this connection.",
		"Try another port or security mode; the ones that worked are listed.",
	},
	KindNoAuth: {
		"No login offered",
		"The server offers no login on this connection. It may accept mail only from its own network, or only after encryption.",
		"Use a port that offers login (587 with STARTTLS or 465).",
	},
	KindPlaintextRefused: {
		"Password not sent unencrypted",
		"This connection is not encrypted, so we did not log in. A clear-text login shows your password to anyone on the network; even CRAM-MD5, SCRAM and APOP, which do not send the password itself, reveal an answer from which it can be guessed offline, and an impostor can accept any answer.",
		"Use an encrypted port. Only for a server that offers no encryption at all, and only if you accept the risk, allow unencrypted logins in the options.",
	},
	KindServerTemporary: {
		"Server said: try later",
		"The server answered with a temporary error (4xx). It may be busy, slowing down unknown senders, or limiting logins.",
		"Wait a few minutes and try again.",
	},
	KindServerPermanent: {
		"Server refused",
		"The server answered with a permanent error (5xx); the code says why.",
		"Read the server's message in the transcript; policy errors (5.7.1) come from the provider's rules.",
	},
	KindProtocol: {
		"Unexpected reply",
		"Something answered, but not the way a mail server of this kind should. The port may belong to another service, or a proxy is in between.",
		"Use another port; if a proxy intercepts mail here, use an encrypted port (465).",
	},
	KindLoginCap: {
		"Login not tried again",
		"This server already rejected several logins in this run; we stopped so your account is not locked.",
		"Fix the user name or password first, then check again.",
	},
	KindPort25Blocked: {
		"Port 25 blocked here",
		"This network blocks outgoing port 25, as many ISPs, hotels and public networks do, so we did not wait for it.",
		"Send through 587 (STARTTLS) or 465 (TLS) with login; they work on almost every network.",
	},
	KindCanceled: {
		"Cancelled",
		"The check was stopped before this step finished.",
		"Run the check again.",
	},
	KindRelayOpen: {
		"Sends without login from this network",
		"The server accepted mail for an outside address without a login: it trusts the network you are on. This works only here.",
		"Use a login-based port for a laptop that travels; this setting stops working on other networks.",
	},
	KindImplicitTLSPort: {
		"This port expects TLS",
		"The same port answered an encrypted (TLS) connection right away, so it never speaks unencrypted; a clear-text attempt would only wait.",
		"Use this port with TLS (often called SSL).",
	},
	KindPlainPort: {
		"This port starts unencrypted",
		"The server on this port greets in plain text and expects the switch to encryption (STARTTLS) after that, so a connection that starts with TLS fails. Nothing is wrong with the server.",
		"Use this port with STARTTLS, or use the implicit-TLS port (465 for sending, 993 for IMAP, 995 for POP3).",
	},
	KindPOPBeforeSMTP: {
		"Sends after checking mail (POP before SMTP)",
		"The server refuses mail from this network at first, but accepts it for a while after a POP3 login from the same address.",
		"Set your mail program to check mail before sending (Thunderbird and Outlook have this option), or use a login-based port if the provider offers one.",
	},
	KindUntrustedHost: {
		"Not logged in: server not confirmed",
		"A source we cannot vouch for named this server (for example a document fetched without encryption, or a DNS record pointing outside your domain). Someone on this network could have planted it, so we checked it without sending your password or anything derived from it.",
		"If you know this server belongs to your provider, confirm it (in the window, or with --trust-host); otherwise ignore it.",
	},
	KindEncryptionExists: {
		"Not logged in unencrypted: this server offers encryption",
		"The same server accepts encrypted connections, so a login without encryption is never needed here. A network that hides the encrypted option wants exactly that login.",
		"Use the encrypted setting (SSL/TLS or STARTTLS). If the encrypted one has a certificate problem, read that diagnosis instead of switching encryption off.",
	},
	KindTLSOutdated: {
		"Outdated encryption",
		"The server only speaks TLS 1.0 or 1.1, which are no longer considered safe for passwords, so we did not log in over it.",
		"Ask your provider to enable TLS 1.2 or later; until then use another server or port that offers it.",
	},
	KindLimitExceeded: {
		"Server answer too large",
		"The server sent more than any mail server needs to (an endless reply, or a login challenge that would take minutes to compute), so we stopped talking to it.",
		"This is not a normal mail server, or something on this network interferes. Use another port or network.",
	},
	KindOAuthRejected: {
		"Sign-in not accepted",
		"The server answered, so the server name, port and encryption are right, but it did not accept the sign-in from your provider's page: the sign-in expired, was withdrawn, or lacks the permission for mail.",
		"Sign in again. If it keeps failing, your provider or administrator may have turned this kind of access (IMAP, POP or SMTP) off for your account.",
	},
	KindLoginDisabled: {
		"Login disabled before encryption",
		"The server refuses logins on this unencrypted connection.",
		"Use the encrypted port (993 or 995) or STARTTLS.",
	},
}

// WordsFor returns the plain words for k; an unknown Kind gets the protocol-error words.
func WordsFor(k Kind) Words {
	if w, ok := words[k]; ok {
		return w
	}
	return words[KindProtocol]
}

// DiagnosisFor builds the report's diagnosis for a failure (nil means success).
func DiagnosisFor(f *Failure) *Diagnosis {
	k := KindOK
	if f != nil {
		k = f.Kind
	}
	w := WordsFor(k)
	d := &Diagnosis{Kind: k, Title: w.Title, Explanation: w.Explanation, Fix: w.Fix}
	if f != nil && f.Code != 0 {
		if f.Enhanced != "" {
			d.Explanation += " (server code " + strconv.Itoa(f.Code) + " " + f.Enhanced + ")"
			d.Notices = []Notice{notice(NoticeServerCodeEnhanced, "code", strconv.Itoa(f.Code), "enhanced", f.Enhanced)}
		} else {
			d.Explanation += " (server code " + strconv.Itoa(f.Code) + ")"
			d.Notices = []Notice{notice(NoticeServerCode, "code", strconv.Itoa(f.Code))}
		}
	}
	return d
}
