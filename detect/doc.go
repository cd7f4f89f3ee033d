// Package detect is the engine of Mail Setup Assistant: it discovers an account's
// servers, decides which of them may receive a login, probes every sensible port,
// security mode and login, classifies every failure into a typed Kind with plain words,
// and recommends settings that a real login proved.
//
// # The pipeline (Run, run.go), step by step
//
//  1. Input: the address is parsed and IDNA-mapped once (address.go); options are
//     checked (a user name with control characters, a trusted host that is an IP).
//  2. Discover (discover.go): all sources at once, each bounded — the embedded
//     knowledge (providers.go; detect/knowledge builds it from providers.yaml and the
//     ISPDB snapshot), the online ISPDB and Microsoft Autodiscover (discover_online.go,
//     detect/autodiscover), the domain's autoconfig (autoconfig.go), SRV, MX and
//     guesses. Each candidate carries its trust origin and the URL or record it came from.
//  3. Trust (trustrun.go, the rules in detect/trust): per server, before any
//     credential leaves — knowledge, own registrable domain, the domain's own HTTPS
//     documents, or the user's confirmation; everything else is probed without one.
//  4. Sign in (oauthrun.go, detect/oauth): with OAuth2, the issuer from the knowledge,
//     a trusted document or the server's own RFC 7628 report; a token for the run.
//  5. Probe (run.go probeAll; smtp.go, imap.go, pop3.go; conn.go dials through
//     dial.go's happy eyeballs and hostcache.go, verifies certificates; share.go lets a
//     clear-text IMAP/POP3 cell reuse its STARTTLS sibling's conversation; login.go caps
//     failed logins per server address; sasl.go and transcript.go, which records and
//     redacts every byte, enforcing the reply limits). The network check
//     (netcheck*.go) runs beside it.
//  6. Clear text (trustrun.go clearTextLogins): only after the matrix, only on a server
//     with no TLS at all, only with consent.
//  7. Diagnose (kind.go Classify, words.go): every failure a Kind, every Kind words.
//  8. Recommend (recommend.go): the best proven setting per direction, never less
//     encryption than the service offers; warnings in plain words.
//  9. Send test (sendtest.go): a real message sent and found again, if asked.
//
// The report (report.go) is the contract of `mailsetup probe --json`. Sentinel errors
// are in errors.go. Every network call takes a context and has a deadline; the dialer,
// resolver, HTTP client and clock come from Options so tests point the engine at
// loopback servers. The package imports no GUI code.
package detect
