package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func TestDeleteRecipient(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	const tenant = "11111111-2222-4333-8444-555555555555"
	if err := s.PutTenant(ctx, Tenant{ID: tenant, Name: "t.onmicrosoft.com", DisplayName: "T"}); err != nil {
		t.Fatal(err)
	}
	r := Recipient{TenantID: tenant, GUID: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", Name: "Gone", Alias: "gone",
		PrimarySMTPAddress: "gone@t.com", EmailAddresses: []string{"SMTP:gone@t.com", "smtp:other@t.com"}, RecipientTypeDetails: "SharedMailbox"}
	if err := s.PutRecipient(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRecipient(ctx, "99999999-2222-4333-8444-555555555555", r.GUID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete in another tenant: %v, want ErrNotFound", err)
	}
	if err := s.DeleteRecipient(ctx, tenant, "AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRecipient(ctx, tenant, r.GUID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	if err := s.DeleteRecipient(ctx, tenant, "not-a-guid"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete by a non-GUID: %v, want ErrNotFound", err)
	}
	s.Close()
	if s, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range []string{"Gone", "other@t.com", r.GUID} {
		if _, err := s.FindRecipient(ctx, tenant, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("FindRecipient(%s) after delete and reopen: %v", id, err)
		}
	}
}
