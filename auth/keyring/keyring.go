package keyring

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/exoctl/exoctl/auth/tokencache"
)

// EnvVar turns the OS keyring off or makes it required; see the package doc.
const EnvVar = "EXOCTL_KEYRING"

// DefaultTimeout bounds the probe and each keyring call when Options.Timeout
// is zero.
const DefaultTimeout = 2 * time.Second

// probeAccount is looked up (never stored) to see whether the keyring answers.
const probeAccount = "exoctl-probe"

// ErrUnavailable is wrapped by the errors that say no OS keyring is reachable.
var ErrUnavailable = errors.New("OS keyring not reachable")

// Mode is what EXOCTL_KEYRING asks for.
type Mode int

const (
	// Auto uses the OS keyring when it is reachable.
	Auto Mode = iota
	// Off never uses the OS keyring.
	Off
	// Required makes an unreachable OS keyring an error.
	Required
)

func (m Mode) String() string {
	switch m {
	case Off:
		return "off"
	case Required:
		return "required"
	default:
		return "auto"
	}
}

// ParseMode reads a value of EXOCTL_KEYRING.
func ParseMode(v string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "auto", "on":
		return Auto, nil
	case "off", "0", "false", "no", "none", "file":
		return Off, nil
	case "required", "require":
		return Required, nil
	}
	return Auto, fmt.Errorf("%s=%q: want off, auto or required", EnvVar, v)
}

// Options configure Open and Lookup.
type Options struct {
	// Getenv reads EXOCTL_KEYRING and DBUS_SESSION_BUS_ADDRESS. Nil means
	// os.Getenv.
	Getenv func(string) string
	// Timeout bounds the probe and then every Get, Set and Delete of the
	// returned Store. Zero means DefaultTimeout.
	Timeout time.Duration
}

func (o Options) getenv(k string) string {
	if o.Getenv == nil {
		return os.Getenv(k)
	}
	return o.Getenv(k)
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

// backend is the part of go-keyring's API a Store uses: secrets as strings.
type backend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// osBackend is the process's OS keyring.
type osBackend struct{}

func (osBackend) Get(service, user string) (string, error) { return gokeyring.Get(service, user) }
func (osBackend) Set(service, user, password string) error {
	return gokeyring.Set(service, user, password)
}
func (osBackend) Delete(service, user string) error { return gokeyring.Delete(service, user) }

// Package state swapped by tests: the backend, and whether this platform
// reaches its keyring over the D-Bus session bus.
var (
	newBackend = func() backend { return osBackend{} }
	usesDBus   = runtime.GOOS != "darwin" && runtime.GOOS != "windows"
)

// Store is the OS keyring, as a tokencache.Keyring with Delete. Its methods
// are safe for concurrent use.
type Store struct {
	b       backend
	timeout time.Duration
}

var _ tokencache.Keyring = (*Store)(nil)

// System returns the OS keyring and true when it is reachable now and
// EXOCTL_KEYRING (from the process environment) allows it. It costs at most
// DefaultTimeout, and nothing on Linux without a session bus.
func System(ctx context.Context) (tokencache.Keyring, bool) {
	s, err := Lookup(ctx, Options{})
	if err != nil || s == nil {
		return nil, false
	}
	return s, true
}

// Lookup applies EXOCTL_KEYRING: off gives (nil, nil); auto gives the keyring
// when Open succeeds and (nil, nil) otherwise; required gives Open's error,
// which wraps ErrUnavailable. An unknown value is an error.
func Lookup(ctx context.Context, o Options) (*Store, error) {
	mode, err := ParseMode(o.getenv(EnvVar))
	if err != nil {
		return nil, err
	}
	if mode == Off {
		return nil, nil
	}
	s, err := Open(ctx, o)
	if err != nil {
		if mode == Required {
			return nil, fmt.Errorf("%w (%s=required)", err, EnvVar)
		}
		return nil, nil
	}
	return s, nil
}

// Open returns the OS keyring if a probe within o.Timeout shows it answers. It
// ignores EXOCTL_KEYRING. Its error wraps ErrUnavailable and says why.
func Open(ctx context.Context, o Options) (*Store, error) {
	if usesDBus && o.getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return nil, fmt.Errorf("%w: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is empty)", ErrUnavailable)
	}
	s := &Store{b: newBackend(), timeout: o.timeout()}
	_, err := bounded(ctx, s.timeout, func() (string, error) {
		return s.b.Get(tokencache.KeyringService, probeAccount)
	})
	if err != nil && !errors.Is(err, gokeyring.ErrNotFound) {
		if errors.Is(err, ErrUnavailable) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return s, nil
}

// Get returns the secret stored under service/account. When there is none
// the error wraps tokencache.ErrKeyNotFound.
func (s *Store) Get(service, account string) ([]byte, error) {
	v, err := bounded(context.Background(), s.timeout, func() (string, error) {
		return s.b.Get(service, account)
	})
	if errors.Is(err, gokeyring.ErrNotFound) {
		return nil, fmt.Errorf("keyring: %s/%s: %w", service, account, tokencache.ErrKeyNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: get %s/%s: %w", service, account, scrub(err))
	}
	secret, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		// Not the decoder's error: it could quote part of the value.
		return nil, fmt.Errorf("keyring: %s/%s: %w: the entry is not base64; delete it to start over", service, account, tokencache.ErrBadKey)
	}
	return secret, nil
}

// Set stores secret under service/account, replacing what was there.
func (s *Store) Set(service, account string, secret []byte) error {
	v := base64.StdEncoding.EncodeToString(secret)
	_, err := bounded(context.Background(), s.timeout, func() (string, error) {
		return "", s.b.Set(service, account, v)
	})
	if err != nil {
		return fmt.Errorf("keyring: set %s/%s: %w", service, account, err)
	}
	return nil
}

// Delete removes the secret under service/account. Deleting what is not
// there is not an error.
func (s *Store) Delete(service, account string) error {
	_, err := bounded(context.Background(), s.timeout, func() (string, error) {
		return "", s.b.Delete(service, account)
	})
	if err != nil && !errors.Is(err, gokeyring.ErrNotFound) {
		return fmt.Errorf("keyring: delete %s/%s: %w", service, account, err)
	}
	return nil
}

// scrub drops decoding errors, which can quote a byte of the stored value
// (go-keyring decodes the Keychain's hex and base64 forms).
func scrub(err error) error {
	var hexErr hex.InvalidByteError
	var b64Err base64.CorruptInputError
	if errors.As(err, &hexErr) || errors.As(err, &b64Err) {
		return errors.New("the stored value does not decode")
	}
	return err
}

// bounded runs f in a goroutine and gives up after d or when ctx ends. A call
// given up on keeps running in the background (D-Bus offers no way to cancel
// it) but its result is dropped.
func bounded(ctx context.Context, d time.Duration, f func() (string, error)) (string, error) {
	type result struct {
		v   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-t.C:
		return "", fmt.Errorf("%w: no answer within %v", ErrUnavailable, d)
	case <-ctx.Done():
		return "", fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
}
