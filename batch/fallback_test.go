package batch

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/batch/batchtest"
	"github.com/mailsetup/mailsetup/detect"
)

// TestNotSharedFallsBack: a shared report whose trust decision does not hold for an
// address (here another domain's, put in the group's place) is not used for it: the
// address gets a whole check of its own, which the group shares from then on.
func TestNotSharedFallsBack(t *testing.T) {
	t.Parallel()
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test", "d02.test"}, Users: 2})
	opts := detect.Options{Dialer: office.Net, Resolver: office.Net, ExtraRoots: []*x509.Certificate{office.CA.Cert},
		SkipNetwork: true, Timeout: 5 * time.Second, Password: batchtest.Password("user01@d01.test")}
	other, err := detect.Run(context.Background(), "user01@d01.test", opts)
	if err != nil {
		t.Fatal(err)
	}
	b := New(Options{Engine: opts})
	b.setBase("domain:d02.test", other)
	c := Client{Address: "user02@d02.test", Password: batchtest.Password("user02@d02.test")}
	r := b.Check(context.Background(), []Client{c})[0]
	if r.State != StateVerified || r.Shared {
		t.Errorf("%s: %s shared=%v %q, want verified by a whole check", r.Address, r.State, r.Shared, r.Reason)
	}
	if base := b.base("domain:d02.test"); base == nil || base.Domain != "d02.test" {
		t.Errorf("the group's shared report is %v, want d02.test's own", base)
	}
	for _, p := range r.Report.Probes {
		if p.Verified && !strings.HasSuffix(p.Host, ".d02.test") {
			t.Errorf("logged in to %s for a d02.test address", p.Host)
		}
	}
}
