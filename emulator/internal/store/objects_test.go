package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/store/storetest"
)

func TestObjectsSQLiteFile(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "store.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestObjectsSQLiteMemory(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.Open(context.Background(), store.MemoryPath)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// FuzzListCursor: any After value gives a page or ErrBadCursor, never a panic or a database
// error.
func FuzzListCursor(f *testing.F) {
	ctx := context.Background()
	s, err := store.Open(ctx, store.MemoryPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	const tenant = "11111111-1111-4111-8111-111111111111"
	if err := s.PutTenant(ctx, store.Tenant{ID: tenant, Name: "a.onmicrosoft.com"}); err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{"a", "b", "c"} {
		if _, err := s.Create(ctx, store.Object{TenantID: tenant, Type: "Recipient", Name: name, Props: map[string]any{"Size": len(name)}}); err != nil {
			f.Fatal(err)
		}
	}
	_, next, err := s.List(ctx, store.ListQuery{TenantID: tenant, Limit: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(next, "")
	f.Add(next, "Size")
	f.Add("eyJrIjpbMV0sImkiOiIxMTExMTExMS0xMTExLTQxMTEtODExMS0xMTExMTExMTExMTEifQ", "Size")
	f.Add("!!", store.FieldWhenCreated)
	f.Fuzz(func(t *testing.T, after, orderBy string) {
		_, _, err := s.List(ctx, store.ListQuery{TenantID: tenant, After: after, OrderBy: orderBy, Limit: 2})
		if errors.Is(err, store.ErrDatabase) {
			t.Errorf("List after %q by %q: %v", after, orderBy, err)
		}
	})
}
