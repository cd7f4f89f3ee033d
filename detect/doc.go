// Package detect is the engine of Mail Setup Assistant: it discovers an account's
// servers, probes every sensible port, security mode and login, classifies every
// failure into a typed Kind with plain words, and recommends verified settings.
//
// It imports no GUI code. Every network call takes a context and has a deadline;
// the dialer, resolver, HTTP client and clock come from Options so tests can point
// the engine at loopback servers.
package detect
