// Package mailsetup holds the files that live at the repository root and must be
// embedded into the program, chiefly the provider knowledge base.
package mailsetup

import _ "embed"

// ProvidersYAML is the provider knowledge base (providers.yaml), parsed by detect.LoadProviders.
//
//go:embed providers.yaml
var ProvidersYAML []byte
