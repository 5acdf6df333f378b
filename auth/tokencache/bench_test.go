package tokencache

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// blob50K fills an MSAL-like cache to about 50 KB: 40 access tokens of
// ~1.2 KB, the size of Exchange Online's.
func blob50K() *fakeMSAL {
	m := newFakeMSAL()
	for i := range 40 {
		m.put("AccessToken", fmt.Sprintf("home-%d-login.example-at-tenant-scope%d", i, i), strings.Repeat("t", 1200))
	}
	return m
}

// BenchmarkReplaceExport is one token write as MSAL does it: load the file,
// change one entry, write it back (lock, read, decrypt, encrypt, fsync,
// rename).
func BenchmarkReplaceExport(b *testing.B) {
	ctx := context.Background()
	c := mustNew(b, cachePath(b), Options{})
	m := blob50K()
	if err := c.Export(ctx, m, cacheExportHints); err != nil {
		b.Fatal(err)
	}
	raw, _ := m.Marshal()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := c.Replace(ctx, m, cacheReplaceHints); err != nil {
			b.Fatal(err)
		}
		m.put("RefreshToken", "rt", fmt.Sprint(i))
		if err := c.Export(ctx, m, cacheExportHints); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplaceExportUnchanged is a silent read: load the file, Export
// finds nothing changed and writes nothing.
func BenchmarkReplaceExportUnchanged(b *testing.B) {
	ctx := context.Background()
	c := mustNew(b, cachePath(b), Options{})
	m := blob50K()
	if err := c.Export(ctx, m, cacheExportHints); err != nil {
		b.Fatal(err)
	}
	raw, _ := m.Marshal()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Replace(ctx, m, cacheReplaceHints); err != nil {
			b.Fatal(err)
		}
		if err := c.Export(ctx, m, cacheExportHints); err != nil {
			b.Fatal(err)
		}
	}
}

// rawBlob is a Marshaler/Unmarshaler that costs nothing, so the benchmark
// below measures the cache alone, not MSAL's JSON.
type rawBlob struct{ b []byte }

func (r *rawBlob) Marshal() ([]byte, error) { return r.b, nil }
func (r *rawBlob) Unmarshal(b []byte) error { r.b = b; return nil }

// BenchmarkReplaceUnchangedCacheOnly is the cache's own share of a silent
// read of a 50 KB blob: lock, read, decrypt, compare.
func BenchmarkReplaceUnchangedCacheOnly(b *testing.B) {
	ctx := context.Background()
	c := mustNew(b, cachePath(b), Options{})
	raw, _ := blob50K().Marshal()
	r := &rawBlob{b: raw}
	if err := c.Export(ctx, r, cacheExportHints); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Replace(ctx, r, cacheReplaceHints); err != nil {
			b.Fatal(err)
		}
		if err := c.Export(ctx, r, cacheExportHints); err != nil {
			b.Fatal(err)
		}
	}
}
