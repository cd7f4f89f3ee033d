package clients

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"strings"
	"unicode/utf16"
)

// INISection is one [section] of an INI file with its key=value pairs.
type INISection struct {
	Name   string
	Values map[string]string
}

// ParseINI reads the simple INI dialect of Thunderbird's profiles.ini and Outlook's PRF
// files: [sections], key=value lines, ; and # comments, UTF-8 (with or without a BOM)
// or UTF-16LE with a BOM. Keys are kept as written; later duplicates win.
func ParseINI(data []byte) []INISection {
	text := decodeText(data)
	var out []INISection
	s := bufio.NewScanner(strings.NewReader(text))
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		switch {
		case line == "" || line[0] == ';' || line[0] == '#':
		case line[0] == '[' && strings.HasSuffix(line, "]"):
			out = append(out, INISection{Name: strings.TrimSpace(line[1 : len(line)-1]), Values: map[string]string{}})
		case len(out) > 0:
			if k, v, ok := strings.Cut(line, "="); ok {
				out[len(out)-1].Values[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return out
}

// decodeText turns UTF-16LE (with BOM) or UTF-8 (BOM optional) bytes into a string.
func decodeText(data []byte) string {
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
		b := data[2:]
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		return string(utf16.Decode(u))
	}
	return string(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
}
