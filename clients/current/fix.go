package current

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/clients/thunderbird"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/export"
)

// ErrNothingToFix says no current setting has a proven change.
var ErrNothingToFix = errors.New("current: no proven change to apply")

// ExportFile is one file of an export in a mail program's own format.
type ExportFile struct {
	Format string `json:"format"`
	Name   string `json:"name"`
	Data   []byte `json:"-"`
}

// Fixed is what Apply did: the account with its changes, and either the in-place
// Thunderbird fix (with its backup, for undo) or the export files.
type Fixed struct {
	Account clients.Account          `json:"account"`
	Changes []Change                 `json:"changes"`
	Prefs   []thunderbird.PrefChange `json:"prefs,omitempty"`
	Backup  *thunderbird.Backup      `json:"backup,omitempty"`
	Exports []ExportFile             `json:"exports,omitempty"`
}

// Changes returns the proven changes of a result.
func (r *Result) Changes() []Change {
	var out []Change
	for _, p := range r.Parts {
		if p.Change != nil {
			out = append(out, *p.Change)
		}
	}
	return out
}

// Fixable reports whether Apply would change a Thunderbird profile in place.
func Fixable(a clients.Account) bool { return a.Client == clients.Thunderbird && a.Profile != "" }

// Apply applies the result's proven changes: in a Thunderbird profile it writes
// only the changed prefs of those servers into user.js (while Thunderbird is not
// running, with a backup); for every other source it makes the export in the
// program's own format with only this account, the changes applied.
func Apply(res *Result, now time.Time) (*Fixed, error) {
	changes := res.Changes()
	if len(changes) == 0 {
		return nil, ErrNothingToFix
	}
	fx := &Fixed{Account: applied(res.Account, changes), Changes: changes}
	if !Fixable(res.Account) {
		files, err := Exports(fx.Account)
		if err != nil {
			return nil, err
		}
		fx.Exports = files
		return fx, nil
	}
	var whys []string
	for _, c := range changes {
		origin := res.Account.InOrigin
		if c.Role == Outgoing {
			origin = res.Account.OutOrigin
		}
		prefs, err := thunderbird.PrefsFor(origin, c.From, c.To)
		if err != nil {
			return nil, err
		}
		fx.Prefs = append(fx.Prefs, prefs...)
		whys = append(whys, string(c.Role)+": "+strings.TrimSuffix(c.Sentence, "."))
	}
	b, err := thunderbird.Fix(res.Account.Profile, fx.Prefs, strings.Join(whys, "; "), now)
	if err != nil {
		return nil, err
	}
	fx.Backup = b
	return fx, nil
}

// Undo reverts an in-place fix.
func Undo(fx *Fixed) error {
	if fx == nil || fx.Backup == nil {
		return errors.New("current: nothing was changed in place")
	}
	return thunderbird.Undo(*fx.Backup)
}

// applied returns a with the changes' new settings.
func applied(a clients.Account, changes []Change) clients.Account {
	for _, c := range changes {
		to := c.To
		to.Verified = false
		if c.Role == Incoming {
			a.Incoming = &to
		} else {
			a.Outgoing = &to
		}
	}
	return a
}

// exportFormats are the formats an account of each source is exported in.
var exportFormats = map[clients.Client][]string{
	clients.Apple:        {"apple"},
	clients.Outlook:      {"outlook", "outlook-reg"},
	clients.OutlookPRF:   {"outlook", "outlook-reg"},
	clients.ClientConfig: {"thunderbird"},
	clients.Thunderbird:  {"thunderbird-prefs"},
	clients.Report:       {"text"},
	clients.Manual:       {"text"},
}

// Exports renders a in its program's own formats with the export package's writers.
// Both settings are needed (an export describes a whole account).
func Exports(a clients.Account) ([]ExportFile, error) {
	if a.Incoming == nil || a.Outgoing == nil {
		return nil, errors.New("current: an export needs both the incoming and the outgoing setting")
	}
	addr, err := detect.ParseAddress(a.Address)
	if err != nil {
		return nil, fmt.Errorf("current: export: %w", err)
	}
	acc := export.Account{Address: addr.String(), Local: addr.Local, Domain: addr.Domain, DisplayName: a.Name,
		Incoming: *a.Incoming, Outgoing: *a.Outgoing}
	if acc.DisplayName == "" || acc.DisplayName == acc.Address {
		acc.DisplayName = addr.Local
	}
	acc.Incoming.Auth = mechanismFor(acc.Incoming.Auth)
	acc.Outgoing.Auth = mechanismFor(acc.Outgoing.Auth)
	formats := exportFormats[a.Client]
	if len(formats) == 0 {
		formats = []string{"text"}
	}
	var out []ExportFile
	for _, f := range formats {
		var b bytes.Buffer
		if _, err := export.Write(f, acc, export.Options{}, &b); err != nil {
			return nil, err
		}
		out = append(out, ExportFile{Format: f, Name: strings.ReplaceAll(acc.Address, "@", "_at_") + "-fixed-" + f + export.Extensions[f], Data: b.Bytes()})
	}
	return out, nil
}

// mechanismFor turns a program's login word into a mechanism the export writers know.
func mechanismFor(auth string) string {
	switch auth {
	case "password-cleartext", "", "any":
		return "PLAIN"
	case "password-encrypted":
		return "CRAM-MD5"
	}
	return auth
}
