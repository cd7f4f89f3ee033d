package detect_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"log"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest"
)

// Run finds, proves and recommends an account's settings. Here the servers are the
// in-process fixtures of a small provider, reached through a fake network; a real
// program leaves Dialer, Resolver and ExtraRoots empty.
func ExampleRun() {
	world, err := detecttest.NewWorld("example.test", "me@example.test", "secret")
	if err != nil {
		log.Fatal(err)
	}
	defer world.Close()
	rep, err := detect.Run(context.Background(), "me@example.test", detect.Options{
		Password:    "secret",
		IPDialer:    world.Net, // the engine's own resolving and dialing, over the fake network
		Resolver:    world.Net,
		ExtraRoots:  []*x509.Certificate{world.CA.Cert},
		SkipNetwork: true,
		OnlineISPDB: "off",
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range []*detect.Setting{rep.Recommended.Outgoing, rep.Recommended.Incoming} {
		fmt.Printf("%s %s:%d %s, verified %v\n", s.Protocol, s.Host, s.Port, detect.SecurityWords(s.Security), s.Verified)
	}
	// Output:
	// smtp smtp.example.test:465 SSL/TLS, verified true
	// imap imap.example.test:993 SSL/TLS, verified true
}
