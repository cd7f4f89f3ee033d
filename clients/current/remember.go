package current

import (
	"context"
	"time"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/netmemory"
)

// NetworkView is what a check says about the network it ran on.
type NetworkView struct {
	ID          string                `json:"id"`
	Name        string                `json:"name,omitempty"`
	Fingerprint netmemory.Fingerprint `json:"fingerprint"`
	// Known is true when this network was remembered from an earlier check.
	Known bool `json:"known"`
	// Remembered is false when nothing identified the network, so it was not stored.
	Remembered bool `json:"remembered"`
	// Compare says how the networks checked before differ from this one.
	Compare []string `json:"compare"`
}

// Outcomes lists what worked and what failed in a check, without user names: the
// current settings, the proven changes and the engine's verified or blocked cells.
func Outcomes(res *Result) []netmemory.Outcome {
	var out []netmemory.Outcome
	add := func(p detect.ProbeResult, worked bool) {
		k := detect.Kind("")
		if p.Diagnosis != nil {
			k = p.Diagnosis.Kind
		}
		out = append(out, netmemory.Outcome{Protocol: p.Protocol, Host: p.Host, Port: p.Port, Security: p.Security, Worked: worked, Kind: k})
	}
	for _, p := range res.Parts {
		add(p.Probe, p.Verdict.Works)
	}
	if res.Report != nil {
		for _, p := range res.Report.Probes {
			switch {
			case p.Verified:
				add(p, true)
			case p.Diagnosis != nil && (p.Diagnosis.Kind == detect.KindPort25Blocked || p.Diagnosis.Kind == detect.KindTimeout):
				add(p, false)
			}
		}
	}
	return out
}

// Remember fingerprints the network (observe, nil for the running system), records
// this check in the store and compares it with the networks remembered before.
func Remember(ctx context.Context, store *netmemory.Store, observe func(context.Context, detect.Network) netmemory.Fingerprint, res *Result, now time.Time) (*NetworkView, error) {
	if observe == nil {
		observe = netmemory.Observe
	}
	fp := observe(ctx, res.Network)
	v := &NetworkView{ID: fp.ID(), Fingerprint: fp, Compare: []string{}}
	visit := netmemory.VisitOf(now, res.Network, Outcomes(res))
	if fp.Empty() {
		// Nothing identifies this network: compare with the others, remember nothing.
		all, err := store.List()
		if err != nil {
			return v, err
		}
		v.Compare = append(v.Compare, netmemory.Compare(visit, "", all)...)
		return v, nil
	}
	before, after, err := store.Record(fp, visit)
	if err != nil {
		return v, err
	}
	v.Known, v.Remembered, v.Name = before.ID != "", true, after.Name
	all, err := store.List()
	if err != nil {
		return v, err
	}
	v.Compare = append(v.Compare, netmemory.Compare(visit, fp.ID(), all)...)
	return v, nil
}
