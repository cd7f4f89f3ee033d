package main

import (
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/mailsetup/mailsetup/cmd/mailsetup/cli"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest"
	"github.com/mailsetup/mailsetup/gui"
)

// Demo account: the servers of demo.example run inside this process (the same
// in-process fixtures the tests use), behind a proxy that adds a real round-trip time.
const (
	demoDomain   = "demo.example"
	demoAddress  = "you@demo.example"
	demoPassword = "demo-password"
	demoRTT      = 60 * time.Millisecond
	// hostedDomain is a second demo domain whose DNS service records point to the servers
	// of demoDomain: no trusted source names them for it, so the window asks before it
	// logs in there (MAILSETUP_DEMO_ACCOUNT=hosted prefills it).
	hostedDomain = "hosted.example"
)

// runWindow opens the GUI; --demo first starts the demo servers.
func runWindow(args []string, db *detect.ProviderDB) {
	fs := flag.NewFlagSet("mailsetup", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "run against built-in demo servers on this computer")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, cli.Usage)
		os.Exit(cli.ExitBadInput)
	}
	if os.Getenv("GOGC") == "" {
		// The window's live heap is mostly parsed fonts (~13 MB); collecting at 50 %
		// growth instead of 100 % keeps 4–10 MB less resident during a check, at a
		// cost in GC time that an idle window does not notice (docs/PERFORMANCE.md).
		debug.SetGCPercent(50)
	}
	cfg := gui.Config{Base: detect.Options{Providers: db}, Version: version}
	if *demo {
		w, err := detecttest.NewWorld(demoDomain, demoAddress, demoPassword)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mailsetup: demo servers: %v\n", err)
			os.Exit(1)
		}
		defer w.Close()
		rtt := demoRTT
		if v, err := time.ParseDuration(os.Getenv("MAILSETUP_DEMO_RTT")); err == nil {
			rtt = v // the smoke test slows the demo down to photograph the checking screen
		}
		if os.Getenv("MAILSETUP_DEMO_DROP25") == "1" {
			w.Net.Drop("*", 25) // the demo network silently drops port 25, as a hotel's does
		}
		if err := w.Net.AddLatency(rtt); err != nil {
			fmt.Fprintf(os.Stderr, "mailsetup: demo latency: %v\n", err)
			os.Exit(1)
		}
		// IPDialer: the demo resolves and dials through the engine's real path.
		cfg.Base = detect.Options{Providers: db, IPDialer: w.Net, Resolver: w.Net,
			ExtraRoots: []*x509.Certificate{w.CA.Cert}, CaptivePortalURL: "off", Timeout: 5 * time.Second}
		for _, srv := range []struct {
			service, host string
			port          int
		}{{"submissions", "smtp.", 465}, {"submission", "smtp.", 587}, {"imaps", "imap.", 993}, {"pop3s", "pop.", 995}} {
			w.Net.SRV(srv.service, hostedDomain, srv.host+demoDomain, srv.port)
		}
		cfg.Demo, cfg.DemoAddress, cfg.DemoPassword, cfg.DemoDomain = true, demoAddress, demoPassword, demoDomain
		switch os.Getenv("MAILSETUP_DEMO_ACCOUNT") {
		case "hosted":
			cfg.DemoAddress, cfg.DemoUsername = "you@"+hostedDomain, demoAddress
		case "oauth":
			// The demo provider as the knowledge base would describe one that signs in with
			// OAuth2; its sign-in page does not exist, so the window waits for the browser
			// (the screenshot of that wait) until Cancel. A client ID must come from the
			// usual places (MAILSETUP_OAUTH_CLIENT_ID …): the project ships none.
			cfg.Base.Providers = demoOAuthKnowledge(db)
			cfg.DemoSignIn = true
		}
		// Unattended measurement (scripts/smoke-gui.sh, the CI jobs on macOS and Windows):
		// check the demo account at once, report, and close.
		cfg.AutoStart = os.Getenv("MAILSETUP_AUTOSTART") == "1"
		cfg.QuitAfterResult = cfg.AutoStart && os.Getenv("MAILSETUP_QUIT_AFTER_CHECK") == "1"
		if os.Getenv("MAILSETUP_DEMO_BATCH") == "1" {
			office, err := batchDemo(&cfg, db, rtt) // the batch screen on demo client domains (batchdemo.go)
			if err != nil {
				fmt.Fprintf(os.Stderr, "mailsetup: batch demo servers: %v\n", err)
				os.Exit(1)
			}
			defer office.Close()
			cfg.AutoStart = false
		}
	}
	cfg.Current = currentConfig(cfg.Base, *demo)
	if os.Getenv("MAILSETUP_TIMING") == "1" {
		launched := time.Now()
		cfg.OnStarted = func(d time.Duration) { fmt.Fprintf(os.Stderr, "first frame after %d ms\n", d.Milliseconds()) }
		cfg.OnResult = func(rep *detect.Report) {
			fmt.Fprintf(os.Stderr, "result shown after %d ms (engine %d ms)\n", time.Since(launched).Milliseconds(), rep.Meta.ElapsedMS)
			if mb := peakResidentMB(); mb > 0 {
				fmt.Fprintf(os.Stderr, "peak resident %d MB\n", mb)
			}
		}
	}
	gui.Main(cfg)
}

// demoOAuthKnowledge is the knowledge base plus the demo provider with an OAuth2 sign-in.
func demoOAuthKnowledge(db *detect.ProviderDB) *detect.ProviderDB {
	out := &detect.ProviderDB{ReferenceHosts: db.ReferenceHosts}
	if db != nil {
		out.Providers = append(out.Providers, db.Providers...)
	}
	out.Providers = append(out.Providers, detect.Provider{ID: "demo", Name: "Demo Mail", Domains: []string{demoDomain}, Username: "address",
		Servers: []detect.ProviderServer{
			{Protocol: detect.SMTP, Host: "smtp." + demoDomain, Port: 465, Security: detect.SecurityTLS},
			{Protocol: detect.IMAP, Host: "imap." + demoDomain, Port: 993, Security: detect.SecurityTLS}},
		OAuth2: &detect.ProviderOAuth2{Issuer: "https://login." + demoDomain, AuthURL: "https://login." + demoDomain + "/authorize",
			TokenURL: "https://login." + demoDomain + "/token",
			Scopes:   detect.OAuth2Scopes{IMAP: []string{"mail"}, POP3: []string{"mail"}, SMTP: []string{"mail"}}}})
	out.Index()
	return out
}
