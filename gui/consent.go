package gui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/i18n"
)

// This file is the confirmation the trust model asks for: a server that no trusted
// source names gets the password only after the user has seen where its name came from
// and whose certificate it holds, and said yes.

// untrustedServer is a server the engine reached without credentials, with what the
// user needs to decide about it.
type untrustedServer struct {
	trust detect.HostTrust
	// cert is the certificate the server presented (nil when it offered no TLS).
	cert *detect.CertInfo
	// cells are the matrix cells that reached it.
	cells []detect.ProbeResult
}

// untrustedServers lists the servers that were reached but not given a login because
// no trusted source names them, in the report's order.
func untrustedServers(rep *detect.Report) []untrustedServer {
	var out []untrustedServer
	for _, h := range rep.Hosts {
		if h.Trusted {
			continue
		}
		s := untrustedServer{trust: h}
		for _, p := range rep.Probes {
			if !strings.EqualFold(p.Host, h.Host) || p.Status != detect.StatusUntrustedHost {
				continue
			}
			s.cells = append(s.cells, p)
			if s.cert == nil && p.Cert != nil {
				s.cert = p.Cert
			}
		}
		if len(s.cells) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// serverGroup is one or more untrusted servers that presented the same certificate:
// one operator, so one confirmation.
type serverGroup []untrustedServer

// groupByCertificate groups servers by the certificate they presented; a server without
// one is a group of its own.
func groupByCertificate(servers []untrustedServer) []serverGroup {
	var out []serverGroup
	index := map[string]int{}
	for _, s := range servers {
		if s.cert != nil && s.cert.SHA256 != "" {
			if i, ok := index[s.cert.SHA256]; ok {
				out[i] = append(out[i], s)
				continue
			}
			index[s.cert.SHA256] = len(out)
		}
		out = append(out, serverGroup{s})
	}
	return out
}

// hosts names the group's servers.
func (g serverGroup) hosts() []string {
	var out []string
	for _, s := range g {
		out = append(out, s.trust.Host)
	}
	return out
}

// consentText is what the confirmation says about a group of servers (pure, tested).
func consentText(tr *i18n.Lang, g serverGroup, address string) []string {
	names := strings.Join(g.hosts(), ", ")
	lines := []string{tr.N("consent.found", len(g), "hosts", names, "address", address)}
	for _, s := range g {
		why := tr.TrustReason(s.trust.Reason)
		if s.trust.Via != "" {
			lines = append(lines, tr.T("consent.origin_via", "host", s.trust.Host, "why", why, "via", s.trust.Via))
		} else {
			lines = append(lines, tr.T("consent.origin", "host", s.trust.Host, "why", why))
		}
	}
	if c := g[0].cert; c != nil {
		certNames := strings.Join(c.SANs, ", ")
		if certNames == "" {
			certNames = c.Subject
		}
		lines = append(lines,
			tr.T("consent.certificate", "names", certNames, "issuer", c.Issuer),
			tr.T("consent.fingerprint", "sha256", c.SHA256))
	} else {
		lines = append(lines, tr.T("consent.no_encryption"))
	}
	lines = append(lines, tr.N("consent.advice", len(g)))
	return lines
}

// untrustedSection lists the untrusted servers on the result screen, one button per
// certificate, each opening the confirmation.
func (u *UI) untrustedSection(rep *detect.Report, groups []serverGroup) fyne.CanvasObject {
	box := container.NewVBox(widget.NewLabelWithStyle(u.t("consent.section"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	for _, g := range groups {
		for _, s := range g {
			l := widget.NewLabel(u.t("consent.server_why", "host", s.trust.Host, "why", u.tr.TrustReason(s.trust.Reason)))
			l.Wrapping = fyne.TextWrapWord
			box.Add(l)
		}
		b := widget.NewButtonWithIcon(u.t("consent.check_button", "hosts", strings.Join(g.hosts(), ", ")), theme.WarningIcon(), func() { u.confirmServers(rep, g) })
		b.Alignment = widget.ButtonAlignLeading
		box.Add(b)
	}
	return box
}

// confirmServers asks whether the user trusts the group's servers; yes checks the
// account again with them allowed to receive the login.
func (u *UI) confirmServers(rep *detect.Report, g serverGroup) {
	var lines []fyne.CanvasObject
	for _, t := range consentText(u.tr, g, rep.Address) {
		l := widget.NewLabel(t)
		l.Wrapping = fyne.TextWrapWord
		lines = append(lines, l)
	}
	scroll := container.NewVScroll(container.NewVBox(lines...))
	scroll.SetMinSize(fyne.NewSize(600, 320))
	title := u.t("consent.title", "hosts", strings.Join(g.hosts(), ", "))
	d := dialog.NewCustomConfirm(title, u.t("consent.yes"), u.t("consent.no"), scroll, func(yes bool) {
		if !yes || u.lastReq == nil {
			return
		}
		req := *u.lastReq
		req.trustHosts = append(append([]string(nil), req.trustHosts...), g.hosts()...)
		u.startCheck(req)
	}, u.win)
	u.consent = d
	d.Show()
}
