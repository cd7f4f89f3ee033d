package batch

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		// want is "address|password|name|problem" per client, in order.
		want    []string
		wantErr bool
	}{
		{"csv with header", "address,password,name\nme@example.com,pw,Me\n", []string{"me@example.com|pw|Me|"}, false},
		{"address only", "me@example.com\nyou@example.com\n", []string{"me@example.com|||", "you@example.com|||"}, false},
		{"byte-order mark and CRLF", "\ufeffE-Mail;Passwort;Name\r\nme@example.com;pw;Me\r\n", []string{"me@example.com|pw|Me|"}, false},
		{"tab from a spreadsheet", "me@example.com\tpw\tMe Myself\n", []string{"me@example.com|pw|Me Myself|"}, false},
		{"tab with an empty password", "me@example.com\t\tMe\n", []string{"me@example.com||Me|"}, false},
		{"quoted password with a comma", "me@example.com,\"p,w\",Me\n", []string{"me@example.com|p,w|Me|"}, false},
		{"unicode domain mapped", "me@bücher.example\n", []string{"me@xn--bcher-kva.example|||"}, false},
		{"blank lines skipped", "\n\nme@example.com\n\n", []string{"me@example.com|||"}, false},
		{"not an address", "me\n", []string{"me|||not an email address"}, false},
		{"listed twice", "me@example.com,a\nME@example.com,b\n", []string{"me@example.com|a||", "ME@example.com|b||listed twice (first on line 1)"}, false},
		{"too many columns", "me@example.com,pw,Me,extra\n", []string{"me@example.com|pw|Me|4 columns; want address, password, name"}, false},
		{"empty trailing columns are fine", "me@example.com,pw,Me,,\n", []string{"me@example.com|pw|Me|"}, false},
		{"empty", "\n \n", nil, true},
		{"header only", "address,password\n", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseList(strings.NewReader(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v", tt.name, err)
			continue
		}
		var rows []string
		for _, c := range got {
			rows = append(rows, strings.Join([]string{c.Address, c.Password, c.Name, c.Problem}, "|"))
			if (c.Problem == "") != (c.ProblemNote.Key == "") {
				t.Errorf("%s: problem %q, its note %+v", tt.name, c.Problem, c.ProblemNote)
			}
		}
		if strings.Join(rows, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s: got\n%s\nwant\n%s", tt.name, strings.Join(rows, "\n"), strings.Join(tt.want, "\n"))
		}
	}
}

func TestParseListLimits(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := 0; i <= MaxClients; i++ {
		fmt.Fprintf(&b, "u%d@example.com\n", i)
	}
	if _, err := ParseList(strings.NewReader(b.String())); !errors.Is(err, ErrTooManyClients) {
		t.Errorf("%d clients accepted, limit %d", MaxClients+1, MaxClients)
	}
	if _, err := ParseList(bytes.NewReader(make([]byte, maxListBytes+1))); !errors.Is(err, ErrListTooLarge) {
		t.Errorf("a list over the size limit: %v", err)
	}
	if _, err := ParseList(strings.NewReader("")); !errors.Is(err, ErrNoClients) {
		t.Errorf("empty list: %v", err)
	}
}

// TestWriteList: the list is saved without passwords.
func TestWriteList(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	clients := []Client{{Address: "me@example.com", Password: "secret-one", Name: "Me"}, {Address: "you@example.com", Password: "secret-two"}}
	if err := WriteList(&b, clients); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "secret") {
		t.Errorf("the list holds a password:\n%s", b.String())
	}
	back, err := ParseList(&b)
	if err != nil || len(back) != 2 || back[0].Name != "Me" || back[0].Password != "" || back[1].Address != "you@example.com" {
		t.Errorf("read back: %+v %v", back, err)
	}
}
