package export_test

import (
	"fmt"
	"log"
	"os"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/export"
)

// Write renders an account in one of the mail programs' formats; here the plain text a
// person copies into any mail program's manual setup.
func ExampleWrite() {
	acc := export.Account{
		Address: "me@example.test", Local: "me", Domain: "example.test", DisplayName: "Me",
		Incoming: detect.Setting{Protocol: detect.IMAP, Host: "imap.example.test", Port: 993, Security: detect.SecurityTLS, Auth: "PLAIN", Username: "me@example.test", Verified: true},
		Outgoing: detect.Setting{Protocol: detect.SMTP, Host: "smtp.example.test", Port: 465, Security: detect.SecurityTLS, Auth: "PLAIN", Username: "me@example.test", Verified: true},
	}
	if _, err := export.Write("text", acc, export.Options{}, os.Stdout); err != nil {
		log.Fatal(err)
	}
	fmt.Println("(end)")
	// Output:
	// Mail settings for me@example.test
	//
	// Incoming (IMAP)
	//   Server:    imap.example.test
	//   Port:      993
	//   Security:  SSL/TLS
	//   User name: me@example.test
	//   Login:     normal password
	//   Status:    proven by a real login
	//
	// Outgoing (SMTP)
	//   Server:    smtp.example.test
	//   Port:      465
	//   Security:  SSL/TLS
	//   User name: me@example.test
	//   Login:     normal password
	//   Status:    proven by a real login
	// (end)
}
