package tokencache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/gofrs/flock"
)

var (
	cacheReplaceHints = cache.ReplaceHints{PartitionKey: "p"}
	cacheExportHints  = cache.ExportHints{PartitionKey: "p"}
)

const secretToken = "eyJSECRET-access-token-material"

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := cachePath(t)
	c := mustNew(t, path, Options{})

	m := newFakeMSAL()
	if err := c.Replace(ctx, m, cacheReplaceHints); err != nil {
		t.Fatalf("Replace with no file: %v", err)
	}
	if got := m.keys("AccessToken"); len(got) != 0 {
		t.Fatalf("missing file should load empty, got %v", got)
	}
	m.put("AccessToken", "k1", secretToken)
	if err := c.Export(ctx, m, cacheExportHints); err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("EXOCTLTC\x01")) {
		t.Errorf("file header = %q, want magic + version 1", raw[:min(9, len(raw))])
	}
	if bytes.Contains(raw, []byte(secretToken)) || bytes.Contains(raw, []byte("AccessToken")) {
		t.Error("cache file holds plain text")
	}

	// Another process (a new Cache on the same path, same key file).
	got := readBlob(t, path, Options{})
	if v, _ := got.get("AccessToken", "k1"); v != secretToken {
		t.Errorf("round trip: got %q", v)
	}
}

func TestExportSkipsUnchangedBlob(t *testing.T) {
	ctx := context.Background()
	path := cachePath(t)
	c := mustNew(t, path, Options{})
	m := newFakeMSAL()
	m.put("AccessToken", "k", "v")
	if err := c.Export(ctx, m, cacheExportHints); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path)

	// Unchanged after a write: no write.
	if err := c.Export(ctx, m, cacheExportHints); err != nil {
		t.Fatal(err)
	}
	// Unchanged after a read by another Cache: no write either.
	c2 := mustNew(t, path, Options{})
	m2 := newFakeMSAL()
	if err := c2.Replace(ctx, m2, cacheReplaceHints); err != nil {
		t.Fatal(err)
	}
	if err := c2.Export(ctx, m2, cacheExportHints); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if !os.SameFile(before, after) {
		t.Error("Export rewrote an unchanged cache")
	}

	m2.put("AccessToken", "k2", "v2")
	if err := c2.Export(ctx, m2, cacheExportHints); err != nil {
		t.Fatal(err)
	}
	changed, _ := os.Stat(path)
	if os.SameFile(before, changed) {
		t.Error("Export did not write a changed cache")
	}
}

func TestAtomicWriteLeavesNoTempFiles(t *testing.T) {
	ctx := context.Background()
	path := cachePath(t)
	c := mustNew(t, path, Options{})
	m := newFakeMSAL()
	for i := range 50 {
		m.put("AccessToken", fmt.Sprint(i), strings.Repeat("x", i*100))
		if err := c.Export(ctx, m, cacheExportHints); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"cache.key", "tokens.bin", "tokens.bin.lock"}
	if got := dirNames(t, filepath.Dir(path)); !slices.Equal(got, want) {
		t.Errorf("directory holds %v, want %v", got, want)
	}
}

func TestStaleTempFilesRemoved(t *testing.T) {
	ctx := context.Background()
	path := cachePath(t)
	c := mustNew(t, path, Options{})
	// A writer that died between create and rename.
	stale := path + ".tmp-12345"
	if err := os.WriteFile(stale, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := newFakeMSAL()
	m.put("AccessToken", "k", "v")
	if err := c.Export(ctx, m, cacheExportHints); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file still there: %v", err)
	}
}

func TestCorruptFileMovedAside(t *testing.T) {
	ctx := context.Background()
	good := func(t *testing.T, path string) []byte {
		c := mustNew(t, path, Options{})
		m := newFakeMSAL()
		m.put("AccessToken", "k", secretToken)
		if err := c.Export(ctx, m, cacheExportHints); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		reason string
	}{
		{"empty file", func(t *testing.T, path string) {
			os.WriteFile(path, nil, 0o600)
		}, "truncated"},
		{"garbage", func(t *testing.T, path string) {
			os.WriteFile(path, []byte(`{"AccessToken":{"k":"`+secretToken+`"}}`), 0o600)
		}, "not an exoctl token cache"},
		{"truncated", func(t *testing.T, path string) {
			raw := good(t, path)
			os.WriteFile(path, raw[:len(raw)/2], 0o600)
		}, "cannot decrypt"},
		{"truncated inside header", func(t *testing.T, path string) {
			raw := good(t, path)
			os.WriteFile(path, raw[:headerLen+3], 0o600)
		}, "truncated"},
		{"flipped bit", func(t *testing.T, path string) {
			raw := good(t, path)
			raw[len(raw)-20] ^= 1
			os.WriteFile(path, raw, 0o600)
		}, "cannot decrypt"},
		{"unknown version", func(t *testing.T, path string) {
			raw := good(t, path)
			raw[len(magic)] = 9
			os.WriteFile(path, raw, 0o600)
		}, "unknown format version 9"},
		{"wrong key", func(t *testing.T, path string) {
			good(t, path)
			os.Remove(filepath.Join(filepath.Dir(path), "cache.key"))
		}, "wrong key"},
		{"not an MSAL blob", func(t *testing.T, path string) {
			c := mustNew(t, path, Options{})
			file, err := seal(c.key, []byte(`["`+secretToken+`"]`))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(path, file, 0o600)
		}, "not an MSAL token cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := cachePath(t)
			os.MkdirAll(filepath.Dir(path), 0o700)
			tt.damage(t, path)
			damaged, _ := os.ReadFile(path)

			rec := &logRecorder{}
			c := mustNew(t, path, Options{Logger: slog.New(rec)})
			m := newFakeMSAL()
			m.put("AccessToken", "stale", "x") // Replace must clear it
			if err := c.Replace(ctx, m, cacheReplaceHints); err != nil {
				t.Fatalf("Replace failed on a corrupt file: %v", err)
			}
			if got := m.keys("AccessToken"); len(got) != 0 {
				t.Errorf("corrupt file should load empty, got %v", got)
			}

			// Moved aside, intact, and reported.
			var aside []string
			for _, n := range dirNames(t, filepath.Dir(path)) {
				if strings.HasPrefix(n, "tokens.bin.corrupt-") {
					aside = append(aside, n)
				}
			}
			if len(aside) != 1 {
				t.Fatalf("want one file moved aside, dir has %v", dirNames(t, filepath.Dir(path)))
			}
			if kept, _ := os.ReadFile(filepath.Join(filepath.Dir(path), aside[0])); !bytes.Equal(kept, damaged) {
				t.Error("file moved aside differs from the corrupt file")
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Error("corrupt file still in place")
			}
			var ce *CorruptError
			for _, err := range rec.errs() {
				if errors.As(err, &ce) {
					break
				}
			}
			if ce == nil || !errors.Is(ce, ErrCorrupt) {
				t.Fatalf("no CorruptError wrapping ErrCorrupt logged; log: %s", rec.text.String())
			}
			if !strings.Contains(ce.Reason, tt.reason) {
				t.Errorf("reason %q, want it to mention %q", ce.Reason, tt.reason)
			}
			if filepath.Base(ce.MovedTo) != aside[0] {
				t.Errorf("reported MovedTo %q, file is %q", ce.MovedTo, aside[0])
			}
			if strings.Contains(rec.text.String(), secretToken) || strings.Contains(ce.Error(), secretToken) {
				t.Error("token material in the report")
			}

			// The cache carries on.
			m.put("AccessToken", "fresh", "y")
			if err := c.Export(ctx, m, cacheExportHints); err != nil {
				t.Fatal(err)
			}
			if v, _ := readBlob(t, path, Options{}).get("AccessToken", "fresh"); v != "y" {
				t.Error("cache unusable after a corrupt file")
			}
		})
	}
}

func TestExportOverCorruptFile(t *testing.T) {
	ctx := context.Background()
	path := cachePath(t)
	rec := &logRecorder{}
	c := mustNew(t, path, Options{Logger: slog.New(rec)})
	if err := os.WriteFile(path, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := newFakeMSAL()
	m.put("AccessToken", "k", "v")
	if err := c.Export(ctx, m, cacheExportHints); err != nil {
		t.Fatal(err)
	}
	if len(rec.errs()) == 0 {
		t.Error("corrupt file overwritten without a report")
	}
	if v, _ := readBlob(t, path, Options{}).get("AccessToken", "k"); v != "v" {
		t.Error("Export over a corrupt file lost the write")
	}
}

func TestBadKeyFile(t *testing.T) {
	for _, size := range []int{0, 5, 31, 33, 64} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			path := cachePath(t)
			keyFile := filepath.Join(t.TempDir(), "my.key")
			if err := os.WriteFile(keyFile, bytes.Repeat([]byte{7}, size), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(path, Options{KeyFile: keyFile})
			if !errors.Is(err, ErrBadKey) {
				t.Fatalf("New = %v, want ErrBadKey", err)
			}
			if !strings.Contains(err.Error(), "delete it") || !strings.Contains(err.Error(), keyFile) {
				t.Errorf("error does not say which file to delete: %v", err)
			}
		})
	}
}

func TestKeyFileCreatedOnceAndShared(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "keys", "k")
	a := mustNew(t, filepath.Join(dir, "a", "tokens"), Options{KeyFile: keyFile})
	b := mustNew(t, filepath.Join(dir, "b", "tokens"), Options{KeyFile: keyFile})
	if !bytes.Equal(a.key, b.key) {
		t.Error("second New made a new key")
	}
	raw, err := os.ReadFile(keyFile)
	if err != nil || !bytes.Equal(raw, a.key) {
		t.Errorf("key file: %v", err)
	}
	// No temp files left beside the key.
	if got := dirNames(t, filepath.Dir(keyFile)); !slices.Equal(got, []string{"k"}) {
		t.Errorf("key directory holds %v", got)
	}
}

func TestKeyring(t *testing.T) {
	ctx := context.Background()
	path := cachePath(t)
	kr := &memKeyring{}
	c := mustNew(t, path, Options{Keyring: kr})
	m := newFakeMSAL()
	m.put("AccessToken", "k", "v")
	if err := c.Export(ctx, m, cacheExportHints); err != nil {
		t.Fatal(err)
	}
	if v, _ := readBlob(t, path, Options{Keyring: kr}).get("AccessToken", "k"); v != "v" {
		t.Error("second Cache could not read with the keyring key")
	}
	if kr.sets != 1 {
		t.Errorf("keyring Set called %d times, want 1", kr.sets)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "cache.key")); !errors.Is(err, os.ErrNotExist) {
		t.Error("key file written although a keyring was given")
	}
	secret, err := kr.Get(KeyringService, keyringAccount(c.Path()))
	if err != nil || len(secret) != keyLen {
		t.Fatalf("keyring entry: %v (%d bytes)", err, len(secret))
	}
	// Another cache path gets another key.
	other := mustNew(t, cachePath(t), Options{Keyring: kr})
	if bytes.Equal(other.key, c.key) {
		t.Error("two cache paths share one keyring key")
	}

	// A damaged entry is an error naming it.
	kr.Set(KeyringService, keyringAccount(c.Path()), []byte("short"))
	_, err = New(path, Options{Keyring: kr})
	if !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), "delete that entry") {
		t.Errorf("damaged keyring key: %v", err)
	}
}

type brokenKeyring struct{}

func (brokenKeyring) Get(string, string) ([]byte, error) { return nil, errors.New("dbus: no session") }
func (brokenKeyring) Set(string, string, []byte) error   { return errors.New("dbus: no session") }

func TestKeyringUnreachable(t *testing.T) {
	_, err := New(cachePath(t), Options{Keyring: brokenKeyring{}})
	if err == nil || !strings.Contains(err.Error(), "dbus: no session") {
		t.Errorf("New = %v, want the keyring's error", err)
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	path := cachePath(t)
	c := mustNew(t, path, Options{})
	m := newFakeMSAL()
	m.put("AccessToken", "k", "v")
	if err := c.Export(ctx, m, cacheExportHints); err != nil {
		t.Fatal(err)
	}
	aside := path + ".corrupt-20240101T000000.000000000Z"
	os.WriteFile(aside, []byte("old"), 0o600)

	if err := c.Delete(); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	for _, p := range []string{path, aside} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived Delete", p)
		}
	}
	// A stale in-memory copy that did not change does not write tokens back.
	if err := c.Export(ctx, m, cacheExportHints); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("unchanged stale cache was written back after Delete")
	}
	// Another process deleted the file (Disconnect) while this one held a
	// loaded copy; its next change writes only what it changed.
	other := mustNew(t, path, Options{})
	om := newFakeMSAL()
	om.put("AccessToken", "a", "1")
	om.put("AccessToken", "b", "2")
	other.Export(ctx, om, cacheExportHints)
	loaded := newFakeMSAL()
	c.Replace(ctx, loaded, cacheReplaceHints)
	if err := other.Delete(); err != nil {
		t.Fatal(err)
	}
	loaded.put("AccessToken", "c", "3")
	if err := c.Export(ctx, loaded, cacheExportHints); err != nil {
		t.Fatal(err)
	}
	if got := readBlob(t, path, Options{}).keys("AccessToken"); !slices.Equal(got, []string{"c"}) {
		t.Errorf("after a Disconnect elsewhere the file holds %v, want [c]", got)
	}
}

func TestLockTimeoutAndCancel(t *testing.T) {
	path := cachePath(t)
	c := mustNew(t, path, Options{})
	holder := flock.New(c.Path() + ".lock")
	if err := holder.Lock(); err != nil {
		t.Fatal(err)
	}
	defer holder.Unlock()

	m := newFakeMSAL()
	m.put("AccessToken", "k", "v")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.Export(ctx, m, cacheExportHints)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), ".lock") {
		t.Errorf("Export under a held lock = %v, want DeadlineExceeded naming the lock", err)
	}
	err = c.Replace(ctx, m, cacheReplaceHints)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Replace under a held lock = %v", err)
	}

	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := c.Export(canceled, m, cacheExportHints); !errors.Is(err, context.Canceled) {
		t.Errorf("Export with canceled ctx = %v", err)
	}
}

func TestSeparateMSALObjectsShareOneCache(t *testing.T) {
	// Two MSAL clients in one process handed the same *Cache: each keeps its
	// own merge base, so one's write is not mistaken for the other's delete.
	ctx := context.Background()
	c := mustNew(t, cachePath(t), Options{})
	a, b := newFakeMSAL(), newFakeMSAL()
	c.Replace(ctx, a, cacheReplaceHints)
	c.Replace(ctx, b, cacheReplaceHints)
	a.put("AccessToken", "a", "1")
	b.put("AccessToken", "b", "2")
	if err := c.Export(ctx, a, cacheExportHints); err != nil {
		t.Fatal(err)
	}
	if err := c.Export(ctx, b, cacheExportHints); err != nil {
		t.Fatal(err)
	}
	if got := readBlob(t, c.Path(), Options{}).keys("AccessToken"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("file holds %v, want [a b]", got)
	}
}
