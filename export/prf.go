package export

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding/charmap"

	"github.com/mailsetup/mailsetup/detect"
)

// The Outlook profile file (.prf) is what classic Outlook imports with
// `outlook.exe /importprf FILE` (Office Resource Kit, "Customize Outlook profiles by using
// an Outlook Profile (PRF) file"). Sections: [General] profile defaults, [Service List],
// [Internet Account List] (AccountN=I_Mail for POP3, IMAP_I_Mail for IMAP), [AccountN]
// values, and the mapping sections that tie each key to its MAPI property. The mapping
// below is the one the Office Customization Tool writes; Outlook needs it to know each
// key's type and property.

// prfMapping is Section 7 of an OCT-generated PRF, per account type: key → type,property.
var prfMapping = map[string][][2]string{
	"I_Mail": {
		{"AccountType", "POP3"},
		{"AccountName", "PT_UNICODE,0x0002"}, {"DisplayName", "PT_UNICODE,0x000B"}, {"EmailAddress", "PT_UNICODE,0x000C"},
		{"POP3Server", "PT_UNICODE,0x0100"}, {"POP3UserName", "PT_UNICODE,0x0101"}, {"POP3UseSPA", "PT_LONG,0x0108"},
		{"Organization", "PT_UNICODE,0x0107"}, {"ReplyEmailAddress", "PT_UNICODE,0x0103"}, {"POP3Port", "PT_LONG,0x0104"},
		{"POP3UseSSL", "PT_LONG,0x0105"}, {"SMTPServer", "PT_UNICODE,0x0200"}, {"SMTPUseAuth", "PT_LONG,0x0203"},
		{"SMTPAuthMethod", "PT_LONG,0x0208"}, {"SMTPUserName", "PT_UNICODE,0x0204"}, {"SMTPUseSPA", "PT_LONG,0x0207"},
		{"ConnectionType", "PT_LONG,0x000F"}, {"ConnectionOID", "PT_UNICODE,0x0010"}, {"SMTPPort", "PT_LONG,0x0201"},
		{"SMTPSecureConnection", "PT_LONG,0x020A"}, {"ServerTimeOut", "PT_LONG,0x0209"}, {"LeaveOnServer", "PT_LONG,0x1000"},
	},
	"IMAP_I_Mail": {
		{"AccountType", "IMAP"},
		{"AccountName", "PT_UNICODE,0x0002"}, {"DisplayName", "PT_UNICODE,0x000B"}, {"EmailAddress", "PT_UNICODE,0x000C"},
		{"IMAPServer", "PT_UNICODE,0x0100"}, {"IMAPUserName", "PT_UNICODE,0x0101"}, {"IMAPUseSPA", "PT_LONG,0x0108"},
		{"Organization", "PT_UNICODE,0x0107"}, {"ReplyEmailAddress", "PT_UNICODE,0x0103"}, {"IMAPPort", "PT_LONG,0x0104"},
		{"IMAPUseSSL", "PT_LONG,0x0105"}, {"SMTPServer", "PT_UNICODE,0x0200"}, {"SMTPUseAuth", "PT_LONG,0x0203"},
		{"SMTPAuthMethod", "PT_LONG,0x0208"}, {"SMTPUserName", "PT_UNICODE,0x0204"}, {"SMTPUseSPA", "PT_LONG,0x0207"},
		{"ConnectionType", "PT_LONG,0x000F"}, {"ConnectionOID", "PT_UNICODE,0x0010"}, {"SMTPPort", "PT_LONG,0x0201"},
		{"SMTPSecureConnection", "PT_LONG,0x020A"}, {"ServerTimeOut", "PT_LONG,0x0209"}, {"CheckNewImap", "PT_LONG,0x1100"},
		{"RootFolder", "PT_UNICODE,0x1101"},
	},
}

// prfEncryption is Outlook's "Use the following type of encrypted connection" list as
// stored in *UseSSL and SMTPSecureConnection: 0 None, 1 SSL (implicit TLS), 2 TLS
// (STARTTLS), 3 Auto.
func prfEncryption(s detect.Security) int {
	switch s {
	case detect.SecurityTLS:
		return 1
	case detect.SecurityStartTLS:
		return 2
	}
	return 0
}

func b01(b bool) int {
	if b {
		return 1
	}
	return 0
}

// prfAccount builds the PRF's text (before encoding) and the user's warnings.
func prfAccount(a Account) (string, []string, error) {
	in, out, err := bothLogins(clientOutlook, "outlook-prf", a)
	if err != nil {
		return "", nil, err
	}
	warnings := outlookWarnings(a, in, out)
	section, prefix := "IMAP_I_Mail", "IMAP"
	if a.Incoming.Protocol == detect.POP3 {
		section, prefix = "I_Mail", "POP3"
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\r\n", args...) }
	line(";Mail Setup Assistant: Outlook profile file for %s.", a.Address)
	line(";Import: close Outlook, then run the .cmd saved with this file, or run")
	line(";  outlook.exe /importprf \"<path to this file>\"")
	line(";It adds the account to your default Outlook profile (or creates one). Outlook asks for")
	line(";the password at the first send/receive. No password is stored in this file.")
	line("")
	line("[General]")
	line("Custom=1")
	line("ProfileName=%s", a.Address)
	line("DefaultProfile=Yes")
	line("OverwriteProfile=Append")
	line("ModifyDefaultProfileIfPresent=TRUE")
	line("BackupProfile=No")
	line("")
	line("[Service List]")
	line(";ServiceX=Microsoft Outlook Client")
	line("")
	line("[Internet Account List]")
	line("Account1=%s", section)
	line("")
	line("[Account1]")
	line("UniqueService=No")
	line("AccountName=%s", a.Address)
	line("DisplayName=%s", a.DisplayName)
	line("EmailAddress=%s", a.Address)
	if a.Organization != "" {
		line("Organization=%s", a.Organization)
	}
	line("%sServer=%s", prefix, a.Incoming.Host)
	line("%sUserName=%s", prefix, a.Incoming.Username)
	line("%sPort=%d", prefix, a.Incoming.Port)
	line("%sUseSSL=%d", prefix, prfEncryption(a.Incoming.Security))
	line("%sUseSPA=%d", prefix, b01(in.Row.Outlook.SPA))
	line("SMTPServer=%s", a.Outgoing.Host)
	line("SMTPPort=%d", a.Outgoing.Port)
	line("SMTPSecureConnection=%d", prfEncryption(a.Outgoing.Security))
	line("SMTPUseAuth=%d", b01(out.Row.Outlook.AuthRequired))
	if out.Row.Outlook.AuthRequired {
		// 0 = "Use same settings as my incoming mail server", what the OCT writes by default.
		line("SMTPAuthMethod=0")
		line("SMTPUseSPA=%d", b01(out.Row.Outlook.SPA))
		if a.Outgoing.Username != a.Incoming.Username {
			warnings = append(warnings, fmt.Sprintf("Outlook: the outgoing server wants the user name %q, not the incoming one. After importing: File > Account Settings > the account > More Settings > Outgoing Server > Log on using, and type that user name.", a.Outgoing.Username))
		}
	}
	if a.Outgoing.Auth == detect.AuthPOPBeforeSMTP {
		warnings = append(warnings, "Outlook: after importing, choose File > Account Settings > the account > More Settings > Outgoing Server > Log on to incoming mail server before sending mail (POP before SMTP).")
	}
	line("ConnectionType=0")
	line("ServerTimeOut=60")
	line("")
	line(";Mapping for internet account properties (as the Office Customization Tool writes it). Do not modify.")
	line("[%s]", section)
	for _, kv := range prfMapping[section] {
		line("%s=%s", kv[0], kv[1])
	}
	return b.String(), warnings, nil
}

// writePRF writes the profile file in the Windows ANSI code page (1252) with CRLF line
// endings, as the Office Customization Tool does; text outside that code page is refused
// rather than written as question marks.
func writePRF(a Account, w io.Writer) ([]string, error) {
	text, warnings, err := prfAccount(a)
	if err != nil {
		return nil, err
	}
	enc, err := charmap.Windows1252.NewEncoder().String(text)
	if err != nil {
		return nil, &InvalidError{Field: "Outlook profile text", Value: a.DisplayName + " / " + a.Incoming.Username,
			Reason: "has characters outside the Windows-1252 code page that Outlook's profile file is read in"}
	}
	_, err = io.WriteString(w, enc)
	return warnings, err
}

// cmdSafe keeps only characters that mean nothing to cmd.exe (no % ^ & | < > ! " ( )).
func cmdSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@._+-", r) {
			return r
		}
		return '_'
	}, s)
}

// writePRFCmd writes a .cmd that imports the .prf saved beside it: the one with the same
// base name, else any .prf in the folder. It refuses to run while Outlook is open,
// because Outlook reads the profile only when it starts.
func writePRFCmd(a Account, w io.Writer) ([]string, error) {
	_, warnings, err := prfAccount(a)
	if err != nil {
		return nil, err
	}
	addr := cmdSafe(a.Address)
	var b bytes.Buffer
	for _, l := range []string{
		"@echo off",
		"rem Mail Setup Assistant: adds " + addr + " to classic Outlook 2010 and later, Microsoft 365 too,",
		"rem by importing the Outlook profile file, the .prf saved next to this file.",
		"rem The new Outlook for Windows cannot import it: use the New Outlook sheet instead.",
		"setlocal",
		`set "PRF=%~dpn0.prf"`,
		`if not exist "%PRF%" for %%F in ("%~dp0*.prf") do set "PRF=%%~fF"`,
		`if not exist "%PRF%" (`,
		"  echo No .prf file was found next to this file. Save the Outlook profile export here first.",
		"  pause",
		"  exit /b 1",
		")",
		`tasklist /fi "imagename eq outlook.exe" 2>nul | find /i "outlook.exe" >nul`,
		"if not errorlevel 1 (",
		"  echo Outlook is running. Close it, then run this file again.",
		"  pause",
		"  exit /b 1",
		")",
		"echo Adding " + addr + " to Outlook. Outlook asks for the password at the first send/receive.",
		`start "" outlook.exe /importprf "%PRF%"`,
		"if errorlevel 1 (",
		"  echo Outlook could not be started. Is classic Outlook installed?",
		"  pause",
		"  exit /b 1",
		")",
		"endlocal",
	} {
		b.WriteString(l + "\r\n")
	}
	_, err = w.Write(b.Bytes())
	return warnings, err
}
