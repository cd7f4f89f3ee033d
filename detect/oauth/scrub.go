package oauth

import (
	"encoding/base64"
	"slices"
	"strings"

	"golang.org/x/oauth2"
)

// minSecretForm is the shortest form worth scrubbing; shorter fragments would blank
// ordinary text.
const minSecretForm = 8

// SecretForms lists every byte string that reveals tok and must be scrubbed from
// transcripts, logs and reports, longest first: the access, refresh and ID tokens
// raw; the XOAUTH2 and OAUTHBEARER initial responses this package sends for user,
// host and port (with and without host and port) raw and in base64; and the parts of
// any base64 text that encode a token at any byte offset (standard and URL
// alphabets), so a token inside a base64 blob is caught however it is aligned.
func SecretForms(user string, tok *oauth2.Token, host string, port int) [][]byte {
	if tok == nil {
		return nil
	}
	var secrets []string
	for _, s := range []string{tok.AccessToken, tok.RefreshToken} {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	if id, ok := tok.Extra("id_token").(string); ok && id != "" {
		secrets = append(secrets, id)
	}
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if len(s) >= minSecretForm && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range secrets {
		add(s)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			for shift := 0; shift < 3; shift++ {
				add(base64Core(enc, s, shift))
			}
		}
	}
	if tok.AccessToken != "" {
		irs := [][]byte{
			initialResponse(XOAUTH2, user, tok.AccessToken, "", 0),
			initialResponse(OAUTHBEARER, user, tok.AccessToken, host, port),
			initialResponse(OAUTHBEARER, user, tok.AccessToken, host, 0),
			initialResponse(OAUTHBEARER, user, tok.AccessToken, "", 0),
			initialResponse(OAUTHBEARER, "", tok.AccessToken, host, port),
		}
		for _, ir := range irs {
			add(string(ir))
			add(base64.StdEncoding.EncodeToString(ir))
			add(base64.RawStdEncoding.EncodeToString(ir))
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	forms := make([][]byte, len(out))
	for i, s := range out {
		forms[i] = []byte(s)
	}
	return forms
}

// base64Core returns the characters of enc's encoding of s that depend on s alone
// when s starts shift bytes after a 3-byte boundary: every base64 text containing s
// at such an offset contains this string.
func base64Core(enc *base64.Encoding, s string, shift int) string {
	full := enc.WithPadding(base64.NoPadding).EncodeToString([]byte(strings.Repeat("\x00", shift) + s))
	start := (8*shift + 5) / 6 // first character with no bits of the prefix
	end := (8 * (shift + len(s))) / 6
	if start >= end || end > len(full) {
		return ""
	}
	return full[start:end]
}
