package detect

// Temporary stubs until the discovery, probe and network branches merge; removed then.

import "context"

func (o *Options) Discover(ctx context.Context, addr Address) ([]SourceResult, []Candidate, *Provider) {
	return nil, nil, nil
}
func (o *Options) CheckNetwork(ctx context.Context, targets []string) Network { return Network{} }
