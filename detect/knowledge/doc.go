// Package knowledge is the provider knowledge base: the curated providers.yaml merged
// with server settings derived from Thunderbird's ISPDB (ispdb.json, made by ./gen
// from a snapshot; attribution and source commit are in the file's header). Load
// returns the merged *detect.ProviderDB the engine uses; Merge is the one place that
// decides which source wins; Disagreements compares the two for the agreement test.
package knowledge

//go:generate go run ./gen -out ispdb.json
