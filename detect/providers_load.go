package detect

// Temporary loader until the providers branch merges.

import "gopkg.in/yaml.v3"

func LoadProviders(data []byte) (*ProviderDB, error) {
	var db ProviderDB
	err := yaml.Unmarshal(data, &db)
	return &db, err
}
