package detect

// Temporary stubs until the discovery, probe and network branches merge; removed then.

import "context"

func (o *Options) Discover(ctx context.Context, addr Address) ([]SourceResult, []Candidate, *Provider) {
	return nil, nil, nil
}
func (o *Options) ProbeIMAP(ctx context.Context, key ProbeKey, login *Login) ProbeResult {
	return ProbeResult{}
}
func (o *Options) ProbePOP3(ctx context.Context, key ProbeKey, login *Login) ProbeResult {
	return ProbeResult{}
}
func (o *Options) FindMessage(ctx context.Context, key ProbeKey, login *Login, username, messageID string) (bool, error) {
	return false, nil
}
func (o *Options) CheckNetwork(ctx context.Context, targets []string) Network { return Network{} }
