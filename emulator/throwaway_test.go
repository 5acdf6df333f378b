package emulator_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/emulator"
	"github.com/exoctl/exoctl/emulator/internal/store"
)

// TestThrowawayCopies: a throwaway emulator after the first starts from a copy of the first's
// seeded folder: the same tenants, its certificate files in its own folder, tokens issued, and
// nothing the first was told after its start.
func TestThrowawayCopies(t *testing.T) {
	throwaway := func() *emulator.Emulator {
		e, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close() })
		return e
	}
	first := throwaway()
	if err := first.Store().PutTenant(context.Background(), store.Tenant{ID: "0b3f0c52-6f1a-4b4e-9a43-1f7c7b0e2d11", Name: "later.onmicrosoft.com", DisplayName: "Later"}); err != nil {
		t.Fatal(err)
	}
	second := throwaway()
	if len(second.Info.Tenants) != len(first.Info.Tenants) || second.Info.Tenants[0].ID != first.Info.Tenants[0].ID {
		t.Fatalf("tenants differ: %d and %d", len(second.Info.Tenants), len(first.Info.Tenants))
	}
	if _, err := second.Store().Tenant(context.Background(), "later.onmicrosoft.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a tenant made in the first after its start is in the second: %v", err)
	}
	dir := filepath.Dir(second.Info.CAFile)
	for _, ti := range second.Info.Tenants {
		for _, a := range ti.Apps {
			if !strings.HasPrefix(a.CertificateFile, dir+string(filepath.Separator)) || !strings.HasPrefix(a.CertificatePEMFile, dir+string(filepath.Separator)) {
				t.Errorf("%s's certificate files are not in the second's folder %s: %s, %s", ti.Name, dir, a.CertificateFile, a.CertificatePEMFile)
			}
		}
	}
	app := second.Info.Tenants[0].Apps[0]
	if _, err := auth.LoadPFX(app.CertificateFile, app.CertificatePassword); err != nil {
		t.Errorf("the second's PFX: %v", err)
	}
	if msalToken(t, second) == "" {
		t.Error("no token from the second")
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(app.CertificateFile); err != nil {
		t.Errorf("closing the first removed the second's files: %v", err)
	}
	if msalToken(t, second) == "" {
		t.Error("no token from the second after the first closed")
	}
}
