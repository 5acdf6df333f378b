package store_test

import (
	"context"
	"fmt"
	"iter"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

const benchTenant = "4c9f2b7e-81d3-4a56-9e0c-5b7d3f1a2c68"

// mailboxObjects yields n mailboxes shaped as the exchange schemas store them: about twenty
// properties and six unique keys each.
func mailboxObjects(n int) iter.Seq[store.Object] {
	kinds := []string{"UserMailbox", "UserMailbox", "UserMailbox", "SharedMailbox", "RoomMailbox"}
	depts := []string{"Sales", "Marketing", "Finance", "Engineering", "Legal", "IT"}
	cities := []string{"Seattle", "London", "Berlin", "Tokyo", "Sydney", "Toronto"}
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	return func(yield func(store.Object) bool) {
		for i := range n {
			name := fmt.Sprintf("User %06d", (i*7919)%n)
			alias := fmt.Sprintf("user%06d", (i*7919)%n)
			primary := alias + "@contoso.com"
			ext := uuid.NewString()
			addrs := []string{"SMTP:" + primary, "smtp:" + alias + "@contoso.onmicrosoft.com"}
			o := store.Object{TenantID: benchTenant, Type: "Recipient", Name: name,
				WhenCreated: base.Add(time.Duration(i) * time.Minute),
				Props: map[string]any{
					"Alias": alias, "DisplayName": name, "FirstName": "User", "LastName": fmt.Sprint(i),
					"UserPrincipalName": primary, "PrimarySmtpAddress": primary, "EmailAddresses": addrs,
					"RecipientType": "UserMailbox", "RecipientTypeDetails": kinds[i%len(kinds)],
					"Database": "EURPR01DG123-db045", "ServerName": "am5pr01mb1234", "ExchangeGuid": uuid.NewString(),
					"ExternalDirectoryObjectId": ext, "Department": depts[i%len(depts)], "Title": "Engineer",
					"City": cities[i%len(cities)], "CountryOrRegion": "United States", "UsageLocation": "United States",
					"Office": cities[i%len(cities)], "ProhibitSendQuota": int64(106300440576), "HiddenFromAddressListsEnabled": false,
				},
				Keys: []store.Key{store.ProxyKey(addrs[0]), store.ProxyKey(addrs[1]), {Space: "Recipient.Name", Value: name},
					{Space: "Recipient.Alias", Value: alias}, {Space: "Recipient.UserPrincipalName", Value: primary},
					{Space: "Recipient.ExternalDirectoryObjectId", Value: ext}},
			}
			if !yield(o) {
				return
			}
		}
	}
}

func openBench(b *testing.B) *store.SQLite {
	b.Helper()
	s, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "store.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.PutTenant(context.Background(), store.Tenant{ID: benchTenant, Name: "contoso.onmicrosoft.com", DisplayName: "Contoso"}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkObjectsCreateManyLarge loads 100,000 mailboxes into a new file store (the large
// seed's object load).
func BenchmarkObjectsCreateManyLarge(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		s := openBench(b)
		b.StartTimer()
		if err := s.CreateMany(ctx, mailboxObjects(100_000)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkObjectsListPage lists pages of 1000 mailboxes from the middle of 100,000, in Name
// order, by cursor: Get-Mailbox paging a large tenant.
func BenchmarkObjectsListPage(b *testing.B) {
	ctx := context.Background()
	s := openBench(b)
	if err := s.CreateMany(ctx, mailboxObjects(100_000)); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		q    store.ListQuery
	}{
		{"all", store.ListQuery{TenantID: benchTenant, Types: []string{"Recipient"}}},
		{"type", store.ListQuery{TenantID: benchTenant, Types: []string{"Recipient"},
			In: []store.PropIn{{Prop: "RecipientTypeDetails", Values: []string{"UserMailbox"}}}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			q := c.q
			q.Limit = 50_000
			_, after, err := s.List(ctx, q)
			if err != nil || after == "" {
				b.Fatal(err)
			}
			q.After, q.Limit = after, 1000
			records := 0
			for b.Loop() {
				page, _, err := s.List(ctx, q)
				if err != nil || len(page) != 1000 {
					b.Fatal(len(page), err)
				}
				records += len(page)
			}
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
