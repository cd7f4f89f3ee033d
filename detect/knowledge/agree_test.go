package knowledge_test

import (
	"testing"

	"github.com/mailsetup/mailsetup"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/knowledge"
)

// TestAgreementWithISPDB fails on every difference between providers.yaml and the
// ISPDB that no override justifies, and on every override nothing needs any more.
func TestAgreementWithISPDB(t *testing.T) {
	t.Parallel()
	curated, err := detect.LoadProviders(mailsetup.ProvidersYAML)
	if err != nil {
		t.Fatal(err)
	}
	ispdb, err := knowledge.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	used := map[*detect.Override]bool{}
	for _, d := range knowledge.Disagreements(curated, ispdb) {
		p := curated.ByDomain(d.Domains[0])
		o := d.Override(p)
		if o == nil {
			t.Errorf("no override: %s", d)
			continue
		}
		used[o] = true
	}
	for i := range curated.Providers {
		p := &curated.Providers[i]
		for j := range p.Overrides {
			if !used[&p.Overrides[j]] {
				t.Errorf("%s: override %+v justifies no disagreement (stale?)", p.ID, p.Overrides[j])
			}
		}
	}
}
