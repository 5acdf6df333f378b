package keyring

import (
	"context"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/exoctl/exoctl/auth/tokencache"
)

// fake is an in-memory go-keyring backend that counts calls and can fail or hang.
type fake struct {
	mu    sync.Mutex
	m     map[string]string
	calls int
	err   error         // returned by every call when set
	hang  chan struct{} // every call blocks until closed when set
}

func newFake() *fake { return &fake{m: map[string]string{}} }

func (f *fake) enter() error {
	f.mu.Lock()
	f.calls++
	hang, err := f.hang, f.err
	f.mu.Unlock()
	if hang != nil {
		<-hang
	}
	return err
}

func (f *fake) Get(service, user string) (string, error) {
	if err := f.enter(); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[service+"/"+user]
	if !ok {
		return "", gokeyring.ErrNotFound
	}
	return v, nil
}

func (f *fake) Set(service, user, password string) error {
	if err := f.enter(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[service+"/"+user] = password
	return nil
}

func (f *fake) Delete(service, user string) error {
	if err := f.enter(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.m[service+"/"+user]; !ok {
		return gokeyring.ErrNotFound
	}
	delete(f.m, service+"/"+user)
	return nil
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// useFake makes Open use f, as if a session bus were present.
func useFake(t *testing.T, f *fake) {
	t.Helper()
	oldB, oldD := newBackend, usesDBus
	newBackend = func() backend { return f }
	usesDBus = false
	t.Cleanup(func() { newBackend, usesDBus = oldB, oldD })
}

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func open(t *testing.T, f *fake) *Store {
	t.Helper()
	useFake(t, f)
	s, err := Open(context.Background(), Options{Getenv: env()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSecretsAreStoredBase64(t *testing.T) {
	f := newFake()
	s := open(t, f)
	secret := []byte{0, 1, 2, 0xff, '\n', 0}
	if err := s.Set("exoctl", "acct", secret); err != nil {
		t.Fatal(err)
	}
	if got, want := f.m["exoctl/acct"], base64.StdEncoding.EncodeToString(secret); got != want {
		t.Errorf("stored %q, want %q", got, want)
	}
	got, err := s.Get("exoctl", "acct")
	if err != nil || string(got) != string(secret) {
		t.Errorf("Get = %v, %v; want %v", got, err, secret)
	}
}

func TestNotFoundIsErrKeyNotFound(t *testing.T) {
	s := open(t, newFake())
	_, err := s.Get("exoctl", "absent")
	if !errors.Is(err, tokencache.ErrKeyNotFound) {
		t.Errorf("Get of an absent entry: %v, want ErrKeyNotFound", err)
	}
	if err := s.Delete("exoctl", "absent"); err != nil {
		t.Errorf("Delete of an absent entry: %v", err)
	}
}

func TestDelete(t *testing.T) {
	s := open(t, newFake())
	if err := s.Set("exoctl", "a", []byte("k")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("exoctl", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("exoctl", "a"); !errors.Is(err, tokencache.ErrKeyNotFound) {
		t.Errorf("after Delete: %v", err)
	}
}

func TestNotBase64IsBadKeyAndNotQuoted(t *testing.T) {
	f := newFake()
	s := open(t, f)
	f.m["exoctl/acct"] = "s3cr3t-not-base64!"
	_, err := s.Get("exoctl", "acct")
	if !errors.Is(err, tokencache.ErrBadKey) {
		t.Fatalf("err = %v, want ErrBadKey", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "!") {
		t.Errorf("error quotes the stored value: %v", err)
	}
}

func TestBackendErrorsAreWrapped(t *testing.T) {
	f := newFake()
	s := open(t, f)
	boom := errors.New("boom")
	f.err = boom
	if _, err := s.Get("exoctl", "a"); !errors.Is(err, boom) || errors.Is(err, tokencache.ErrKeyNotFound) {
		t.Errorf("Get: %v", err)
	}
	if err := s.Set("exoctl", "a", []byte("x")); !errors.Is(err, boom) {
		t.Errorf("Set: %v", err)
	}
	if err := s.Delete("exoctl", "a"); !errors.Is(err, boom) {
		t.Errorf("Delete: %v", err)
	}
}

func TestParseMode(t *testing.T) {
	for v, want := range map[string]Mode{
		"": Auto, "auto": Auto, "on": Auto, "off": Off, "OFF": Off, "0": Off, "false": Off, "file": Off,
		"required": Required, " Required ": Required,
	} {
		if got, err := ParseMode(v); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	if _, err := ParseMode("maybe"); err == nil || !strings.Contains(err.Error(), EnvVar) {
		t.Errorf("ParseMode(maybe): %v", err)
	}
}

func TestLookupOffNeverTouchesTheKeyring(t *testing.T) {
	f := newFake()
	useFake(t, f)
	s, err := Lookup(context.Background(), Options{Getenv: env(EnvVar, "off")})
	if s != nil || err != nil {
		t.Errorf("Lookup(off) = %v, %v", s, err)
	}
	if f.count() != 0 {
		t.Errorf("%d keyring calls with %s=off", f.count(), EnvVar)
	}
}

func TestLookupAutoAndRequired(t *testing.T) {
	f := newFake()
	useFake(t, f)
	ctx := context.Background()
	if s, err := Lookup(ctx, Options{Getenv: env()}); s == nil || err != nil {
		t.Errorf("reachable, auto: %v, %v", s, err)
	}
	if s, err := Lookup(ctx, Options{Getenv: env(EnvVar, "required")}); s == nil || err != nil {
		t.Errorf("reachable, required: %v, %v", s, err)
	}
	f.err = errors.New("org.freedesktop.DBus.Error.ServiceUnknown")
	if s, err := Lookup(ctx, Options{Getenv: env()}); s != nil || err != nil {
		t.Errorf("unreachable, auto: %v, %v; want nil, nil (fall back)", s, err)
	}
	s, err := Lookup(ctx, Options{Getenv: env(EnvVar, "required")})
	if s != nil || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "ServiceUnknown") || !strings.Contains(err.Error(), "required") {
		t.Errorf("unreachable, required: %v, %v", s, err)
	}
	if _, err := Lookup(ctx, Options{Getenv: env(EnvVar, "sometimes")}); err == nil {
		t.Error("unknown mode accepted")
	}
}

func TestNoSessionBusSkipsAtOnce(t *testing.T) {
	f := newFake()
	useFake(t, f)
	usesDBus = true
	_, err := Open(context.Background(), Options{Getenv: env()})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "DBUS_SESSION_BUS_ADDRESS") {
		t.Errorf("err = %v", err)
	}
	if f.count() != 0 {
		t.Error("probed without a session bus")
	}
	if s, err := Lookup(context.Background(), Options{Getenv: env()}); s != nil || err != nil {
		t.Errorf("Lookup without a bus: %v, %v", s, err)
	}
	if _, err := Open(context.Background(), Options{Getenv: env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")}); err != nil {
		t.Errorf("with a bus address: %v", err)
	}
}

func TestHangingKeyringTimesOut(t *testing.T) {
	f := newFake()
	f.hang = make(chan struct{})
	defer close(f.hang)
	useFake(t, f)
	start := time.Now()
	_, err := Open(context.Background(), Options{Getenv: env(), Timeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("probe took %v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Open(ctx, Options{Getenv: env(), Timeout: time.Hour}); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// A Store's own calls are bounded too.
	s := &Store{b: f, timeout: 50 * time.Millisecond}
	if _, err := s.Get("exoctl", "a"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Get: %v", err)
	}
}

func TestSystemHonoursOff(t *testing.T) {
	f := newFake()
	useFake(t, f)
	t.Setenv(EnvVar, "off")
	if kr, ok := System(context.Background()); ok || kr != nil {
		t.Errorf("System with %s=off = %v, %v", EnvVar, kr, ok)
	}
	t.Setenv(EnvVar, "")
	if kr, ok := System(context.Background()); !ok || kr == nil {
		t.Errorf("System = %v, %v", kr, ok)
	}
}

// The Store is what tokencache expects: New creates the key in it once and reuses it.
func TestTokenCacheKeepsItsKeyInTheStore(t *testing.T) {
	f := newFake()
	s := open(t, f)
	path := filepath.Join(t.TempDir(), "tokens.cache")
	if _, err := tokencache.New(path, tokencache.Options{Keyring: s}); err != nil {
		t.Fatal(err)
	}
	if len(f.m) != 1 {
		t.Fatalf("keyring holds %d entries, want 1", len(f.m))
	}
	for _, v := range f.m {
		if key, err := base64.StdEncoding.DecodeString(v); err != nil || len(key) != 32 {
			t.Errorf("stored key: %d bytes, %v", len(key), err)
		}
	}
	if err := tokencache.WriteSealed(path+".sealed", []byte("x"), tokencache.Options{Keyring: s}); err != nil {
		t.Fatal(err)
	}
	if b, err := tokencache.ReadSealed(path+".sealed", tokencache.Options{Keyring: s}); err != nil || string(b) != "x" {
		t.Errorf("ReadSealed = %q, %v", b, err)
	}
}
