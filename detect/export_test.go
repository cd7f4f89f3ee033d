package detect

import "github.com/mailsetup/mailsetup/detect/trust"

// Hooks for the external tests of this package (notice_test.go).

// WarningsOf runs warnings and returns the English sentences and their notices.
func WarningsOf(rep *Report, p *Provider, o *Options) ([]string, []Notice) {
	w := warnings(rep, p, o)
	return w.text, w.notices
}

// UntrustedResult is untrustedResult.
func UntrustedResult(res ProbeResult, reason trust.Reason, via string) ProbeResult {
	return untrustedResult(res, trust.Decision{Reason: reason, Via: via})
}

// NetworkAdviceOf is networkAdvice.
func NetworkAdviceOf(n Network) []string { return networkAdvice(n) }
