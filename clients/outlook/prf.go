package outlook

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailsetup/mailsetup/clients"
)

// PRF files (Outlook profile files from the Office Customization Tool) are INI files;
// each internet account is a section ([Account1] …) with keys such as AccountName,
// EmailAddress, IMAPServer/POP3Server, IMAPUserName/POP3UserName, IMAPPort/POP3Port,
// IMAPUseSSL/POP3UseSSL, SMTPServer, SMTPPort, SMTPSecureConnection (0 none, 1 SSL,
// 2 TLS = STARTTLS, 3 Auto), SMTPUseAuth and SMTPUserName. They map onto the same
// account values as the registry, so ParsePRF turns them into registry-style keys.

// prfNames maps PRF keys to the registry value names account() reads.
var prfNames = map[string]string{
	"AccountName": "Account Name", "EmailAddress": "Email", "DisplayName": "Display Name",
	"IMAPServer": "IMAP Server", "IMAPUserName": "IMAP User", "IMAPPort": "IMAP Port", "IMAPUseSSL": "IMAP Use SSL", "IMAPUseSPA": "IMAP Use SPA",
	"POP3Server": "POP3 Server", "POP3UserName": "POP3 User", "POP3Port": "POP3 Port", "POP3UseSSL": "POP3 Use SSL", "POP3UseSPA": "POP3 Use SPA",
	"SMTPServer": "SMTP Server", "SMTPUserName": "SMTP User", "SMTPPort": "SMTP Port", "SMTPSecureConnection": "SMTP Secure Connection",
	"SMTPUseSSL": "SMTP Use SSL", "SMTPUseAuth": "SMTP Use Auth", "SMTPUseSPA": "SMTP Use SPA",
}

var numericPRF = map[string]bool{"IMAPPort": true, "IMAPUseSSL": true, "IMAPUseSPA": true, "POP3Port": true, "POP3UseSSL": true,
	"POP3UseSPA": true, "SMTPPort": true, "SMTPSecureConnection": true, "SMTPUseSSL": true, "SMTPUseAuth": true, "SMTPUseSPA": true}

// ParsePRF reads the internet accounts of an Outlook PRF file.
func ParsePRF(data []byte, source string) ([]clients.Account, []string, error) {
	sections := clients.ParseINI(data)
	if len(sections) == 0 {
		return nil, nil, fmt.Errorf("outlook: %s is not a PRF file (no [sections])", source)
	}
	var keys []Key
	var notes []string
	sectionOf := map[string]string{}
	for _, s := range sections {
		if s.Values["IMAPServer"] == "" && s.Values["POP3Server"] == "" {
			continue
		}
		k := Key{Path: `HKEY_CURRENT_USER\` + ProfilesPath + `\PRF\` + AccountsKeyGUID + `\` + fmt.Sprintf("%08x", len(keys)+1), Values: map[string]Value{}}
		for pk, rv := range prfNames {
			val, ok := s.Values[pk]
			if !ok || val == "" {
				continue
			}
			if numericPRF[pk] {
				n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(val), "0x"), base(val), 32)
				if err != nil {
					notes = append(notes, fmt.Sprintf("[%s] %s=%s is not a number; ignored", s.Name, pk, val))
					continue
				}
				d := make([]byte, 4)
				binary.LittleEndian.PutUint32(d, uint32(n))
				k.Values[rv] = Value{Type: RegDword, Data: d}
				continue
			}
			k.Values[rv] = Value{Type: RegSZ, Data: utf16z(val)}
		}
		keys = append(keys, k)
		sectionOf[k.Path] = s.Name
	}
	accts, problems := Accounts(keys, "")
	for i := range accts {
		accts[i].Client = clients.OutlookPRF
		sect := sectionOf[accts[i].InOrigin.File]
		accts[i].InOrigin.File = source + " [" + sect + "]"
		accts[i].OutOrigin.File = source + " [" + sect + "]"
		prfKeys(accts[i].InOrigin.Keys)
		prfKeys(accts[i].OutOrigin.Keys)
	}
	if len(accts) == 0 && len(problems) == 0 {
		return nil, nil, fmt.Errorf("outlook: %s: %w", source, clients.ErrNoAccounts)
	}
	return accts, append(notes, problems...), nil
}

func base(v string) int {
	if strings.HasPrefix(strings.ToLower(v), "0x") {
		return 16
	}
	return 10
}

// prfKeys renames registry value names back to the PRF's keys.
func prfKeys(m map[clients.Field]string) {
	for f, rv := range m {
		for pk, name := range prfNames {
			if name == rv {
				m[f] = pk
			}
		}
	}
}
