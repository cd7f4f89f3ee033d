package batch

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/mailsetup/mailsetup/detect"
)

// MaxClients caps a client list, so a wrong file (a whole address book) is refused
// rather than checked for hours.
const MaxClients = 5000

// maxListBytes caps the list read from a file or the clipboard.
const maxListBytes = 8 << 20

// Client is one row of a client list. Its password lives in memory only: no function
// of this package writes it anywhere.
type Client struct {
	// Line is the row's line in the list (1-based), for messages.
	Line     int
	Address  string
	Password string
	// Name is the account holder's name (the From display name of the exports).
	Name string
	// Problem says why the row cannot be checked ("" when it can): not an address,
	// listed twice.
	Problem string
	// ProblemNote is Problem in structured form (a zero Note when there is none).
	ProblemNote Note
}

// Errors of a list that cannot be read at all (besides a file's own and CSV's).
var (
	// ErrNoClients says a list holds no row with an address.
	ErrNoClients = errors.New("batch: the list holds no addresses")
	// ErrListTooLarge says a list is larger than 8 MiB.
	ErrListTooLarge = errors.New("batch: the list is too large")
	// ErrTooManyClients says a list holds more than MaxClients rows.
	ErrTooManyClients = errors.New("batch: too many clients in one list")
)

// ParseList reads a client list: one client per line, address[,password][,name], as a
// CSV file or a spreadsheet's export or clipboard (comma, semicolon or tab separated,
// the first of these the first line uses; a UTF-8 byte-order mark and a header row
// naming "address", "e-mail" or "email" are skipped). A row that cannot be checked is
// returned with its Problem set, so a window can show it; the error is for a list that
// cannot be read at all.
func ParseList(r io.Reader) ([]Client, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxListBytes+1))
	if err != nil {
		return nil, fmt.Errorf("batch: reading the list: %w", err)
	}
	if len(data) > maxListBytes {
		return nil, fmt.Errorf("%w (larger than %d MiB)", ErrListTooLarge, maxListBytes>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = delimiter(data)
	cr.FieldsPerRecord = -1
	// "a, b" lists are common; with tabs the trimming would eat empty columns.
	cr.TrimLeadingSpace = cr.Comma != '\t'
	cr.LazyQuotes = true
	var out []Client
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("batch: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 0 || strings.TrimSpace(rec[0]) == "" && strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue
		}
		if len(out) == 0 && len(seen) == 0 && isHeader(rec[0]) {
			continue
		}
		if len(out) >= MaxClients {
			return nil, fmt.Errorf("%w (more than %d)", ErrTooManyClients, MaxClients)
		}
		c := Client{Line: line, Address: strings.TrimSpace(rec[0])}
		if len(rec) > 1 {
			c.Password = strings.TrimRight(rec[1], "\r\n")
		}
		if len(rec) > 2 {
			c.Name = strings.TrimSpace(rec[2])
		}
		addr, err := detect.ParseAddress(c.Address)
		switch {
		case len(rec) > 3 && strings.TrimSpace(strings.Join(rec[3:], "")) != "":
			c.Problem = fmt.Sprintf("%d columns; want address, password, name", len(rec))
			c.ProblemNote = note(NoteColumns, "columns", strconv.Itoa(len(rec)))
		case err != nil:
			c.Problem, c.ProblemNote = "not an email address", note(NoteNotAddress)
		case strings.IndexFunc(c.Name, unicode.IsControl) >= 0:
			c.Problem, c.ProblemNote = "the name contains control characters", note(NoteControlChars)
		default:
			c.Address = addr.String()
			key := strings.ToLower(c.Address) // mailboxes differing in case only are one
			if first, dup := seen[key]; dup {
				c.Problem = fmt.Sprintf("listed twice (first on line %d)", first)
				c.ProblemNote = note(NoteListedTwice, "line", strconv.Itoa(first))
			} else {
				seen[key] = c.Line
			}
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, ErrNoClients
	}
	return out, nil
}

// delimiter picks the separator the first line uses: tab (a spreadsheet's clipboard),
// semicolon (spreadsheets in locales with a decimal comma), else comma.
func delimiter(data []byte) rune {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	for _, d := range []byte{'\t', ';', ','} {
		if bytes.IndexByte(first, d) >= 0 {
			return rune(d)
		}
	}
	return ','
}

func isHeader(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "address", "email", "e-mail", "email address", "e-mail address", "mail":
		return true
	}
	return false
}

// WriteList writes the list in the form ParseList reads, with the password column left
// empty: the client list is never written with passwords.
func WriteList(w io.Writer, clients []Client) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"address", "password", "name"}); err != nil {
		return fmt.Errorf("batch: writing the list: %w", err)
	}
	for _, c := range clients {
		if err := cw.Write([]string{c.Address, "", c.Name}); err != nil {
			return fmt.Errorf("batch: writing the list: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("batch: writing the list: %w", err)
	}
	return nil
}
