// Command gen derives detect/knowledge/ispdb.json from a snapshot of Thunderbird's
// ISPDB (the ispdb/ folder of github.com/thunderbird/autoconfig). It writes the
// project's own data, never the XML files. Run it with `make providers` or
// `go generate ./detect/knowledge`:
//
//	go run ./detect/knowledge/gen -ispdb ../shared/data/ispdb -out detect/knowledge/ispdb.json
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/knowledge"
	"github.com/mailsetup/mailsetup/detect/knowledge/internal/generate"
)

func main() {
	dir := flag.String("ispdb", "", "the snapshot's ispdb folder (default $ISPDB_DIR, else shared/data/ispdb beside an ancestor folder)")
	out := flag.String("out", "ispdb.json", "the data file to write")
	commit := flag.String("commit", knowledge.Snapshot.Commit, "git commit of thunderbird/autoconfig the snapshot was taken at")
	date := flag.String("date", knowledge.Snapshot.Date, "date of that commit (YYYY-MM-DD)")
	verbose := flag.Bool("v", false, "list what the parser left out")
	flag.Parse()
	if *dir == "" {
		d, err := generate.FindSnapshot(".")
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(2)
		}
		*dir = d
	}
	var buf bytes.Buffer
	st, err := generate.Run(*dir, detect.ISPDBSnapshot{Date: *date, Commit: *commit}, &buf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if *verbose {
		for _, s := range st.Skipped {
			fmt.Fprintln(os.Stderr, "skipped:", s)
		}
	}
	fmt.Fprintf(os.Stderr, "gen: %d entries, %d domains, %d providers from %s -> %s\n", st.Entries, st.Domains, st.Providers, *dir, *out)
}
