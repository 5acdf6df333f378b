package catalog

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"
)

// TestEmbeddedUpToDate regenerates the catalog from the source, where the source exists, and
// fails when the committed catalog.txt.gz is out of date.
func TestEmbeddedUpToDate(t *testing.T) {
	path := SourcePath(".")
	if path == "" {
		t.Skip("no source catalog (set EXOCTL_CATALOG_SOURCE, or keep ../shared/catalog beside the repository)")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Generate(src)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(embedded))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("catalog.txt.gz is out of date with %s: run go run ./emulator/internal/catalog/gen from the repository root", path)
	}
}

func TestLoad(t *testing.T) {
	c := Load()
	if len(c.Cmdlets) < 900 || c.Source == "" {
		t.Fatalf("catalog has %d cmdlets, source %q", len(c.Cmdlets), c.Source)
	}
	var exo, scc, module int
	for _, cm := range c.Cmdlets {
		if cm.Products&ExchangeOnline != 0 {
			exo++
		}
		if cm.Products&SecurityCompliance != 0 {
			scc++
		}
		if cm.Module {
			module++
		}
	}
	// The counts the source's README gives.
	if exo != 730 || scc != 275 || module != 35 {
		t.Errorf("EXO %d, S&C %d, module %d cmdlets; want 730, 275, 35", exo, scc, module)
	}
	gm := c.Cmdlet("get-mailbox")
	if gm == nil || gm.Name != "Get-Mailbox" || len(gm.Sets) == 0 {
		t.Fatalf("Get-Mailbox: %+v", gm)
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := decodeGzip(embedded); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkForProduct(b *testing.B) {
	c := Load()
	for b.Loop() {
		n := 0
		for _, cm := range c.Cmdlets {
			if cm.Products&ExchangeOnline != 0 && !cm.Module {
				NewCommand(cm, ExchangeOnline)
				n++
			}
		}
	}
}
