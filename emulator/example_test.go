package emulator_test

import (
	"context"
	"fmt"
	"log"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/emulator"
	"github.com/exoctl/exoctl/exo"
)

// The README's Go example, word for word (TestREADMEGoExample checks they are the same).
func Example() {
	ctx := context.Background()
	e, err := emulator.Start(ctx, emulator.Config{Addr: "127.0.0.1:0"}) // temp data, free port
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	app := e.Info.Tenants[0].Apps[0]
	cert, err := auth.LoadPFX(app.CertificateFile, app.CertificatePassword)
	if err != nil {
		log.Fatal(err)
	}
	s, err := exo.Connect(ctx, exo.Options{ConnectionURI: e.URL, AuthorityURI: e.Info.Authority,
		Organization: e.Info.Tenants[0].Name, AppID: app.AppID, Certificate: &cert, HTTPClient: e.HTTPClient()})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	for rec, err := range s.Invoke(ctx, "Get-AcceptedDomain", nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(rec.String("DomainName"))
	}
	// Unordered output:
	// contoso.onmicrosoft.com
	// contoso.com
}
