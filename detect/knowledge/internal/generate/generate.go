// Package generate derives the knowledge base's ispdb.json from a snapshot of
// Thunderbird's ISPDB; the gen command and the reproducibility test share it.
package generate

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/knowledge"
	"github.com/mailsetup/mailsetup/detect/knowledge/clientconfig"
)

// maxDocument caps one ISPDB document; the largest in the 2026 snapshot is ~10 KiB.
const maxDocument = 1 << 20

// Stats counts what a run read and wrote.
type Stats struct {
	Entries, Domains, Providers int
	// Skipped lists, per entry, the servers or fields the parser left out.
	Skipped []string
}

// Run reads every *.xml file of dir (an ISPDB snapshot), converts it and writes the
// data file to w. The output depends only on the files and snap: entries are read in
// name order and the providers written sorted.
func Run(dir string, snap detect.ISPDBSnapshot, w io.Writer) (Stats, error) {
	var st Stats
	names, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil {
		return st, fmt.Errorf("ispdb %s: %w", dir, err)
	}
	if len(names) == 0 {
		return st, fmt.Errorf("ispdb %s: no .xml files", dir)
	}
	sort.Strings(names)
	owner := map[string]string{}
	var data knowledge.Data
	for _, name := range names {
		entry := strings.TrimSuffix(filepath.Base(name), ".xml")
		b, err := readCapped(name)
		if err != nil {
			return st, err
		}
		c, err := clientconfig.Parse(b)
		if err != nil {
			return st, fmt.Errorf("ispdb %s: %w", entry, err)
		}
		for _, s := range c.Skipped {
			st.Skipped = append(st.Skipped, entry+": "+s)
		}
		for _, d := range c.Domains {
			if o, ok := owner[d]; ok {
				return st, fmt.Errorf("ispdb %s: domain %s is also in %s", entry, d, o)
			}
			owner[d] = entry
		}
		src := "https://github.com/thunderbird/autoconfig/blob/" + snap.Commit + "/ispdb/" + entry + ".xml"
		data.Providers = append(data.Providers, knowledge.FromClientConfig(entry, c, src)...)
		st.Entries++
	}
	st.Domains = len(owner)
	st.Providers = len(data.Providers)
	data.Source = knowledge.NewSource(snap, st.Entries, st.Domains)
	db := &detect.ProviderDB{Providers: data.Providers}
	if err := db.Validate(); err != nil {
		return st, fmt.Errorf("ispdb: derived data does not validate: %w", err)
	}
	return st, data.Encode(w)
}

func readCapped(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("ispdb: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxDocument+1))
	if err != nil {
		return nil, fmt.Errorf("ispdb %s: %w", name, err)
	}
	if len(b) > maxDocument {
		return nil, fmt.Errorf("ispdb %s: larger than %d bytes", name, maxDocument)
	}
	return b, nil
}

// ErrNoSnapshot means no ISPDB snapshot folder was found.
var ErrNoSnapshot = errors.New("no ISPDB snapshot folder (set ISPDB_DIR or pass -ispdb)")

// FindSnapshot returns the snapshot folder: $ISPDB_DIR when set, else the first
// shared/data/ispdb beside an ancestor of from (the team's layout keeps the snapshot
// in ../shared/data/ispdb of the checkout).
func FindSnapshot(from string) (string, error) {
	if d := os.Getenv("ISPDB_DIR"); d != "" {
		return d, nil
	}
	dir, err := filepath.Abs(from)
	if err != nil {
		return "", err
	}
	for {
		cand := filepath.Join(dir, "shared", "data", "ispdb")
		if fi, err := os.Stat(cand); err == nil && fi.IsDir() {
			return cand, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoSnapshot
		}
		dir = parent
	}
}
