package store

import (
	"context"
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	for _, seed := range []string{"demo", "large"} {
		s, err := Open(ctx, t.TempDir()+"/s.db")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := Seed(ctx, s, SeedOptions{Seed: seed}); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %v", seed, time.Since(start))
		n, _ := s.CountRecipients(ctx, DemoTenantID)
		t.Log(n)
		start = time.Now()
		p, next, err := s.Recipients(ctx, RecipientQuery{TenantID: DemoTenantID, Limit: 1000})
		t.Log(len(p), next, err, time.Since(start))
		r, err := s.FindRecipient(ctx, "contoso.com", "smtp:ADMIN@contoso.com")
		t.Logf("%+v %v", r, err)
		s.Close()
	}
}
