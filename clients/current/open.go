// Package current checks the mail settings a person uses now: it reads them from the
// installed mail programs or from a file of any kind the user opens, probes exactly
// those settings on this network first, runs the usual engine for the same account,
// and works out the verdict on each current setting and the smallest change proven in
// this run to make it work; it applies that change in place (Thunderbird) or as an
// export in the program's own format.
package current

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/clients/apple"
	"github.com/mailsetup/mailsetup/clients/outlook"
	"github.com/mailsetup/mailsetup/clients/thunderbird"
	"github.com/mailsetup/mailsetup/detect"
)

// Kind is the kind of file Open recognised.
type Kind string

// The kinds of file Open reads.
const (
	KindProfile      Kind = "thunderbird-profile"
	KindPrefs        Kind = "thunderbird-prefs"
	KindReg          Kind = "outlook-reg"
	KindPRF          Kind = "outlook-prf"
	KindMobileconfig Kind = "mobileconfig"
	KindClientConfig Kind = "clientconfig"
	KindReport       Kind = "report"
)

// ErrUnknownFile says Open could not tell what a file is.
var ErrUnknownFile = errors.New("current: not a file this program reads (Thunderbird prefs.js/user.js or profile folder, Outlook .reg or .prf, .mobileconfig, clientConfig XML, saved report)")

// ErrNeedAddress says a clientConfig file has placeholders and no address was given.
var ErrNeedAddress = errors.New("current: this clientConfig file needs the email address (its servers are written with %EMAILADDRESS% placeholders)")

// maxFile caps a file Open reads.
const maxFile = 64 << 20

// Opened is what Open found in a file.
type Opened struct {
	Kind     Kind
	Accounts []clients.Account
	// Notes are facts about the file the user should know (skipped lines, assumptions).
	Notes []string
}

// Open reads the accounts of the file or folder at path, whatever its kind: a
// Thunderbird profile folder (or its prefs.js/user.js, which then reads the whole
// profile so user.js overrides count), a lone prefs.js/user.js, an Outlook .reg
// export or PRF, a .mobileconfig (signed or not), a clientConfig XML (address fills its
// placeholders) or a report saved by `mailsetup probe --json`.
func Open(path, address string) (*Opened, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("current: %w", err)
	}
	if st.IsDir() {
		accts, notes, err := thunderbird.ReadProfile(path)
		if err != nil {
			return nil, err
		}
		return finish(&Opened{Kind: KindProfile, Accounts: accts, Notes: notes}, path)
	}
	base := strings.ToLower(filepath.Base(path))
	if base == "prefs.js" || base == "user.js" {
		if _, err := os.Stat(filepath.Join(filepath.Dir(path), "prefs.js")); err == nil {
			accts, notes, err := thunderbird.ReadProfile(filepath.Dir(path))
			if err != nil {
				return nil, err
			}
			return finish(&Opened{Kind: KindProfile, Accounts: accts, Notes: notes}, path)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("current: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("current: %w", err)
	}
	if len(data) > maxFile {
		return nil, fmt.Errorf("current: %s is larger than %d MiB", path, maxFile>>20)
	}
	o, err := Parse(data, path, address)
	if err != nil {
		return nil, err
	}
	return finish(o, path)
}

func finish(o *Opened, path string) (*Opened, error) {
	if len(o.Accounts) == 0 {
		msg := ""
		if len(o.Notes) > 0 {
			msg = " (" + strings.Join(o.Notes, "; ") + ")"
		}
		return nil, fmt.Errorf("current: %s: %w%s", path, clients.ErrNoAccounts, msg)
	}
	return o, nil
}

// Sniff tells the kind of a file from its first bytes (and its name for PRF files).
func Sniff(data []byte, name string) (Kind, bool) {
	head := data
	if len(head) > 4096 {
		head = head[:4096]
	}
	if bytes.HasPrefix(head, []byte{0xff, 0xfe}) {
		head = utf16Head(head[2:])
	}
	t := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf")
	ext := strings.ToLower(filepath.Ext(name))
	switch {
	case bytes.HasPrefix(t, []byte("REGEDIT4")) || bytes.HasPrefix(t, []byte("Windows Registry Editor")):
		return KindReg, true
	case bytes.HasPrefix(t, []byte("bplist")) || bytes.Contains(t, []byte("<plist")) || bytes.Contains(t, []byte("<!DOCTYPE plist")):
		return KindMobileconfig, true
	case bytes.Contains(t, []byte("<clientConfig")):
		return KindClientConfig, true
	case len(t) > 0 && t[0] == 0x30 && (ext == ".mobileconfig" || bytes.Contains(data, []byte("com.apple.mail.managed")) || bytes.Contains(data, []byte("PayloadContent"))):
		return KindMobileconfig, true
	case len(t) > 0 && t[0] == '{':
		return KindReport, true
	case bytes.Contains(t, []byte("user_pref(")) || bytes.Contains(t, []byte("pref(")) && ext == ".js":
		return KindPrefs, true
	case len(t) > 0 && t[0] == '[' || ext == ".prf":
		return KindPRF, true
	}
	return "", false
}

func utf16Head(b []byte) []byte {
	var out []byte
	for i := 0; i+1 < len(b); i += 2 {
		if b[i+1] == 0 {
			out = append(out, b[i])
		} else {
			out = append(out, '?')
		}
	}
	return out
}

// Parse reads the accounts in data (the contents of the file named name).
func Parse(data []byte, name, address string) (*Opened, error) {
	kind, ok := Sniff(data, name)
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, ErrUnknownFile)
	}
	o := &Opened{Kind: kind}
	var err error
	switch kind {
	case KindReg:
		o.Accounts, o.Notes, err = outlook.FromReg(data, name)
	case KindPRF:
		o.Accounts, o.Notes, err = outlook.ParsePRF(data, name)
	case KindMobileconfig:
		o.Accounts, o.Notes, err = apple.Parse(data, name)
	case KindPrefs:
		o.Accounts, o.Notes, err = thunderbird.ParseFile(name, data)
	case KindClientConfig:
		o.Accounts, err = fromClientConfig(data, name, address)
	case KindReport:
		o.Accounts, err = fromReport(data, name)
	}
	if err != nil {
		return nil, err
	}
	return o, nil
}

// fromClientConfig takes the first incoming and first outgoing server of a Mozilla
// clientConfig, as Thunderbird would set them up.
func fromClientConfig(data []byte, name, address string) ([]clients.Account, error) {
	placeholder := bytes.Contains(data, []byte("%EMAIL"))
	if address == "" && placeholder {
		return nil, ErrNeedAddress
	}
	addr := detect.Address{Local: "user", Domain: "example.invalid"}
	if address != "" {
		var err error
		if addr, err = detect.ParseAddress(address); err != nil {
			return nil, err
		}
	}
	cands, err := detect.ParseClientConfig(data, addr)
	if err != nil {
		return nil, fmt.Errorf("current: %s: %w", name, err)
	}
	a := clients.Account{Client: clients.ClientConfig, Name: name, Address: address}
	for i, c := range cands {
		s := detect.Setting{Protocol: c.Protocol, Host: c.Host, Port: c.Port, Security: c.Security, Auth: ccAuth(c.Auth), Username: c.Username}
		o := clients.Origin{File: fmt.Sprintf("%s (server %d)", name, i+1), Keys: map[clients.Field]string{
			clients.FieldHost: "hostname", clients.FieldPort: "port", clients.FieldSecurity: "socketType", clients.FieldAuth: "authentication", clients.FieldUsername: "username"}}
		switch {
		case c.Protocol == detect.SMTP && a.Outgoing == nil:
			a.Outgoing, a.OutOrigin = &s, o
		case c.Protocol != detect.SMTP && a.Incoming == nil:
			a.Incoming, a.InOrigin = &s, o
		}
	}
	if err := clients.ValidateAccount(&a); err != nil {
		return nil, err
	}
	return []clients.Account{a}, nil
}

func ccAuth(words string) string {
	switch f := strings.Fields(words); {
	case len(f) == 0:
		return "password-cleartext"
	case f[0] == "none" || f[0] == "client-IP-address":
		return "none"
	case f[0] == "smtp-after-pop":
		return detect.AuthPOPBeforeSMTP
	default:
		return f[0]
	}
}

// fromReport takes the recommended settings of a saved `mailsetup probe --json` report.
func fromReport(data []byte, name string) ([]clients.Account, error) {
	var rep detect.Report
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("current: %s: not a mailsetup report: %w", name, err)
	}
	a := clients.Account{Client: clients.Report, Name: rep.Address, Address: rep.Address,
		Incoming: rep.Recommended.Incoming, Outgoing: rep.Recommended.Outgoing}
	keys := func(role string) clients.Origin {
		return clients.Origin{File: name, Keys: map[clients.Field]string{clients.FieldHost: "recommended." + role + ".host",
			clients.FieldPort: "recommended." + role + ".port", clients.FieldSecurity: "recommended." + role + ".security"}}
	}
	a.InOrigin, a.OutOrigin = keys("incoming"), keys("outgoing")
	if err := clients.ValidateAccount(&a); err != nil {
		return nil, err
	}
	return []clients.Account{a}, nil
}

// Manual builds an account from settings a person typed into the window's form.
func Manual(address string, in, out *detect.Setting) (clients.Account, error) {
	a := clients.Account{Client: clients.Manual, Name: address, Address: address, Incoming: in, Outgoing: out}
	if in != nil {
		a.InOrigin = clients.Origin{File: "typed in"}
	}
	if out != nil {
		a.OutOrigin = clients.Origin{File: "typed in"}
	}
	if err := clients.ValidateAccount(&a); err != nil {
		return clients.Account{}, err
	}
	return a, nil
}

// Installed lists the accounts of the mail programs installed for this user:
// Thunderbird's profiles (default ones first) and, on Windows, Outlook's registry.
func Installed() ([]clients.Account, []string) {
	home, _ := os.UserHomeDir()
	return installed(thunderbird.Roots(runtime.GOOS, home, os.Getenv("APPDATA")), outlook.FromRegistry)
}

func installed(roots []thunderbird.Root, fromRegistry func() ([]clients.Account, []string, error)) ([]clients.Account, []string) {
	var out []clients.Account
	var notes []string
	for _, f := range thunderbird.Find(roots) {
		out = append(out, f.Accounts...)
		for _, n := range f.Notes {
			notes = append(notes, "Thunderbird profile "+f.Profile.Dir+": "+n)
		}
	}
	accts, more, err := fromRegistry()
	out = append(out, accts...)
	notes = append(notes, more...)
	if err != nil && !errors.Is(err, outlook.ErrNoRegistry) {
		notes = append(notes, err.Error())
	}
	return out, notes
}

// InstalledClient lists the accounts of one installed program ("thunderbird" or "outlook").
func InstalledClient(client string) ([]clients.Account, []string, error) {
	home, _ := os.UserHomeDir()
	switch client {
	case "thunderbird":
		accts, notes := installed(thunderbird.Roots(runtime.GOOS, home, os.Getenv("APPDATA")), func() ([]clients.Account, []string, error) { return nil, nil, nil })
		return accts, notes, nil
	case "outlook":
		return outlook.FromRegistry()
	}
	return nil, nil, fmt.Errorf("current: unknown mail program %q (want thunderbird or outlook)", client)
}
