package connection_test

import (
	"context"
	"fmt"
	"os"

	"github.com/exoctl/exoctl/connection"
	"github.com/exoctl/exoctl/exo"
)

// A Go program reopens what `exoctl connect --prefix wingtip` saved, and runs a cmdlet.
func Example_reopen() {
	ctx := context.Background()
	home, err := connection.DefaultHome(os.Getenv)
	if err != nil {
		return
	}
	st, err := connection.Open(home, connection.Options{Getenv: os.Getenv})
	if err != nil {
		return
	}
	s, _, err := st.Reopen(ctx, "wingtip") // Id, ConnectionId or prefix; "" the latest
	if err != nil {
		return
	}
	defer s.Close()
	for rec, err := range s.Invoke(ctx, "Get-AcceptedDomain", nil) {
		if err != nil {
			return
		}
		fmt.Println(rec.String("DomainName"))
	}
}

// A partner's saved sign-in runs a cmdlet in each customer, eight at a time.
func Example_fanOut() {
	ctx := context.Background()
	home, _ := connection.DefaultHome(os.Getenv)
	st, err := connection.Open(home, connection.Options{Getenv: os.Getenv})
	if err != nil {
		return
	}
	p, err := st.Find("northwind")
	if err != nil {
		return
	}
	targets, save, err := st.Tenants(p, []string{"wingtiptoys.onmicrosoft.com", "adatum.onmicrosoft.com"})
	if err != nil {
		return
	}
	defer save(ctx) // the customers' tokens serve the next run
	results := connection.FanOut(ctx, targets, 8, func(ctx context.Context, t connection.Target, s *exo.Session) error {
		for rec, err := range s.Invoke(ctx, "Get-AcceptedDomain", nil) {
			if err != nil {
				return err
			}
			fmt.Println(t.Tenant, rec.String("DomainName"))
		}
		return nil
	})
	for _, r := range results {
		if r.Err != nil {
			fmt.Println(r.Tenant, "failed:", r.Err)
		}
	}
}
