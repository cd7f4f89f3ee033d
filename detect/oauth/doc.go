// Package oauth signs a user in to a mail provider with OAuth2 and logs in to the
// provider's mail servers with the token, for the providers that no longer accept
// passwords over IMAP, POP3 and SMTP.
//
// The pieces, in the order a probe uses them:
//
//   - Issuer holds an authorization server as plain facts (endpoints, scopes per
//     protocol). The provider knowledge base and autoconfig's <oAuth2> element fill
//     it directly; Options.Discover reads RFC 8414 / OpenID Connect metadata from an
//     issuer URL, and Options.DiscoverConfig from the "openid-configuration" URL a
//     server names in its OAUTHBEARER failure. Issuer.Merge combines the two.
//   - Options.ResolveClient finds the client registration to present: an explicit
//     value, the user's mailsetup/oauth.json, MAILSETUP_OAUTH_CLIENT_ID[_ISSUER], a
//     build-time default (-ldflags -X), or RFC 7591 dynamic registration. The project
//     ships no client ID; without one the *RegistrationNeededError says what to
//     register at the issuer and where to put it.
//   - Options.SignInBrowser runs the authorization code grant with PKCE through the
//     user's own browser and a one-shot loopback redirect on 127.0.0.1;
//     Options.SignInDevice runs the device authorization grant. Both use
//     golang.org/x/oauth2 for every token request and return an *oauth2.Token.
//   - NewSASLClient makes a go-sasl client for XOAUTH2 or OAUTHBEARER with that token,
//     for go-imap, go-smtp and POP3 AUTH. When the server rejects the token, the
//     client decodes its JSON failure (RFC 7628 §3.2.2) into a Failure, answers it as
//     the mechanism requires, and lets the server finish with its own NO / 535 / -ERR.
//   - SecretForms lists every byte string that would reveal a token (raw, inside
//     either mechanism's initial response, and in base64) for the transcript's
//     scrubber. Tokens live in memory only: this package writes none to disk and
//     puts none in an error text.
//
// Failures are *Error values with a Kind (cancelled, access_denied, state_mismatch,
// issuer_down, invalid_grant, expired …); KindOf reads it from any error.
//
// The package imports nothing of the engine; detect/oauth/oauthtest holds a real
// authorization server (zitadel/oidc's OP) for tests.
package oauth
