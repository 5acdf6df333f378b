package tokencache

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
)

// fakeMSAL stands in for MSAL's *storage.Manager: a JSON object of sections,
// each mapping cache keys to entries, replaced whole by Unmarshal.
type fakeMSAL struct {
	mu   sync.Mutex
	data map[string]map[string]string
}

func newFakeMSAL() *fakeMSAL { return &fakeMSAL{data: map[string]map[string]string{}} }

func (f *fakeMSAL) Marshal() ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return json.Marshal(f.data)
}

func (f *fakeMSAL) Unmarshal(b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := map[string]map[string]string{}
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	f.data = d
	return nil
}

func (f *fakeMSAL) put(section, key, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.data[section] == nil {
		f.data[section] = map[string]string{}
	}
	f.data[section][key] = value
}

func (f *fakeMSAL) del(section, key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.data[section], key)
}

func (f *fakeMSAL) get(section, key string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.data[section][key]
	return v, ok
}

func (f *fakeMSAL) keys(section string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ks []string
	for k := range f.data[section] {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// memKeyring is an in-memory Keyring.
type memKeyring struct {
	mu      sync.Mutex
	secrets map[string][]byte
	sets    int
}

func (k *memKeyring) Get(service, account string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.secrets[service+"/"+account]
	if !ok {
		return nil, fmt.Errorf("memkeyring: %s/%s: %w", service, account, ErrKeyNotFound)
	}
	return bytes.Clone(s), nil
}

func (k *memKeyring) Set(service, account string, secret []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.secrets == nil {
		k.secrets = map[string][]byte{}
	}
	k.secrets[service+"/"+account] = bytes.Clone(secret)
	k.sets++
	return nil
}

// logRecorder captures log records to check what was reported and that no
// secret leaked into them.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
	text    bytes.Buffer
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(ctx context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return slog.NewTextHandler(&l.text, nil).Handle(ctx, r)
}

func (l *logRecorder) errs() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []error
	for _, r := range l.records {
		r.Attrs(func(a slog.Attr) bool {
			if err, ok := a.Value.Any().(error); ok {
				out = append(out, err)
			}
			return true
		})
	}
	return out
}

func mustNew(t testing.TB, path string, opts Options) *Cache {
	t.Helper()
	c, err := New(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dirNames lists a directory's entries, sorted.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// readBlob decrypts the cache file with a fresh Cache, as another process would.
func readBlob(t testing.TB, path string, opts Options) *fakeMSAL {
	t.Helper()
	f := newFakeMSAL()
	if err := mustNew(t, path, opts).Replace(context.Background(), f, cacheReplaceHints); err != nil {
		t.Fatal(err)
	}
	return f
}

func cachePath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "state", "tokens.bin")
}
