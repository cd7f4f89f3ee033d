package main

import (
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mailsetup/mailsetup/batch"
	"github.com/mailsetup/mailsetup/batch/batchtest"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/gui"
)

// The batch demo (MAILSETUP_DEMO_BATCH=1 with --demo): three client domains with 30
// mailboxes run in this process behind the demo's round trip, and the window opens on
// the batch screen with their list loaded: a wrong password, a row without password, a
// mailbox whose IMAP is off and a line that is no address among them. With
// MAILSETUP_AUTOSTART=1 the list is checked at once; MAILSETUP_BATCH_EXPORT=DIR exports
// everything there when done; MAILSETUP_QUIT_AFTER_CHECK=1 closes the window then.
var batchDemoDomains = []string{"acme.example", "globex.example", "initech.example"}

// batchDemo starts the demo domains and points cfg at them; the caller closes the Office.
func batchDemo(cfg *gui.Config, db *detect.ProviderDB, rtt time.Duration) (*batchtest.Office, error) {
	office, err := batchtest.NewOffice(batchtest.OfficeConfig{Domains: batchDemoDomains, Users: 10,
		NoIMAP: []string{"user07@globex.example"}})
	if err != nil {
		return nil, err
	}
	if err := office.Net.AddLatency(rtt); err != nil {
		office.Close()
		return nil, err
	}
	list := office.CSV()
	list = strings.Replace(list, batchtest.Password("user04@acme.example"), "Winter2024!", 1)
	list = strings.Replace(list, "user09@initech.example,"+batchtest.Password("user09@initech.example"), "user09@initech.example,", 1)
	list += "reception at initech,,Front desk\n"
	cfg.Base = detect.Options{Providers: db, IPDialer: office.Net, Resolver: office.Net,
		ExtraRoots: []*x509.Certificate{office.CA.Cert}, CaptivePortalURL: "off", Timeout: 5 * time.Second}
	cfg.Demo, cfg.DemoDomain = true, strings.Join(batchDemoDomains, ", ")
	cfg.Batch = gui.BatchConfig{Start: true, List: list,
		AutoRun:   os.Getenv("MAILSETUP_AUTOSTART") == "1",
		ExportDir: os.Getenv("MAILSETUP_BATCH_EXPORT"),
		Quit:      os.Getenv("MAILSETUP_AUTOSTART") == "1" && os.Getenv("MAILSETUP_QUIT_AFTER_CHECK") == "1"}
	if os.Getenv("MAILSETUP_TIMING") == "1" {
		started := time.Now()
		cfg.Batch.OnDone = func(rs []batch.Result) {
			n := map[batch.State]int{}
			for _, r := range rs {
				n[r.State]++
			}
			fmt.Fprintf(os.Stderr, "batch done %d ms after start: %d clients, %d verified, %d found without a password, %d need attention\n",
				time.Since(started).Milliseconds(), len(rs), n[batch.StateVerified], n[batch.StateUnverified], n[batch.StateAttention])
			if mb := peakResidentMB(); mb > 0 {
				fmt.Fprintf(os.Stderr, "batch peak resident %d MB\n", mb)
			}
		}
	}
	return office, nil
}
