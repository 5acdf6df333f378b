package connection

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/exoctl/exoctl/auth/keyring"
	"github.com/exoctl/exoctl/auth/tokencache"
)

// Profile is a saved connection: everything needed to reconnect silently, no secrets. Secrets
// (the certificate key, a brought token) live encrypted beside it; tokens, a user's refresh
// token included, in the token cache.
type Profile struct {
	ConnectionID          string `json:"connection_id"`
	ID                    int    `json:"id"`
	Prefix                string `json:"prefix,omitempty"`
	Method                string `json:"method"` // certificate, access-token, password, device, interactive
	Environment           string `json:"environment,omitempty"`
	ConnectionURI         string `json:"connection_uri,omitempty"`
	AuthorityURI          string `json:"authority_uri,omitempty"`
	CAFile                string `json:"ca_file,omitempty"`
	Organization          string `json:"organization,omitempty"`
	DelegatedOrganization string `json:"delegated_organization,omitempty"`
	AppID                 string `json:"app_id,omitempty"`
	CertificateThumbprint string `json:"certificate_thumbprint,omitempty"`
	PageSize              int    `json:"page_size,omitempty"`
	Emulator              bool   `json:"emulator,omitempty"`
	UserPrincipalName     string `json:"user_principal_name,omitempty"`
	// HomeAccountID is the signed-in user's account in the token cache (uid.utid), which a
	// user connection reconnects with silently. Passwords are never saved.
	HomeAccountID string `json:"home_account_id,omitempty"`
	// ManagedIdentityAccountID names a user-assigned managed identity; IMDSEndpoint is where
	// IMDS requests go instead of 169.254.169.254 (the emulator's; empty on Azure).
	ManagedIdentityAccountID string    `json:"managed_identity_account_id,omitempty"`
	IMDSEndpoint             string    `json:"imds_endpoint,omitempty"`
	TenantID                 string    `json:"tenant_id,omitempty"`
	TokenExpiry              time.Time `json:"token_expiry"`
	ConnectedAt              time.Time `json:"connected_at"`
	// KeyStore is where the key of the connection's encrypted files lives, chosen when it was
	// created: "keyring" (the OS keyring) or "file" (cache.key beside them; also profiles
	// saved before exoctl knew keyrings).
	KeyStore string `json:"key_store,omitempty"`
	// Compliance marks a Security & Compliance connection (Connect-IPPSSession).
	Compliance bool `json:"compliance,omitempty"`
}

// Key stores of Profile.KeyStore.
const (
	keyStoreKeyring = "keyring"
	keyStoreFile    = "file"
)

// Secrets are a profile's secret parts, stored encrypted beside it.
type Secrets struct {
	CertificatePEM string `json:"certificate_pem,omitempty"`
	AccessToken    string `json:"access_token,omitempty"`
}

// Store is exoctl's folder of connections. It is safe for use by several processes at once
// (changes to the list take a file lock).
type Store struct {
	home   string
	getenv func(string) string // reads EXOCTL_KEYRING; nil means the keyring is off
	log    *slog.Logger

	// The OS keyring, probed at most once per process and only for a connection that uses
	// it or is being created.
	krOnce sync.Once
	kr     *keyring.Store
	krErr  error
}

// Options configure a Store.
type Options struct {
	// Getenv reads EXOCTL_KEYRING (whether the OS keyring keeps the connections' keys) and the
	// keyring's own variables; nil keeps keys in files.
	Getenv func(string) string
	Logger *slog.Logger
}

// DefaultHome is exoctl's folder: EXOCTL_HOME, else the user config folder + /exoctl.
func DefaultHome(getenv func(string) string) (string, error) {
	if getenv != nil {
		if h := getenv("EXOCTL_HOME"); h != "" {
			return h, nil
		}
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find exoctl's folder: %w (set EXOCTL_HOME)", err)
	}
	return filepath.Join(cfg, "exoctl"), nil
}

// Open opens the connections under home (DefaultHome for exoctl's own), creating the folder.
func Open(home string, o Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(home, "connections"), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", home, err)
	}
	// Nobody else may write where exoctl keeps its secrets.
	for _, dir := range []string{home, filepath.Join(home, "connections")} {
		if err := tokencache.CheckFolder(dir, o.Logger); err != nil {
			return nil, err
		}
	}
	return &Store{home: home, getenv: o.Getenv, log: o.Logger}, nil
}

// Home is the folder the store lives in.
func (s *Store) Home() string { return s.home }

// Dir is the folder of one connection's files.
func (s *Store) Dir(connectionID string) string {
	return filepath.Join(s.home, "connections", connectionID)
}

// Lock serialises changes to the connection list between processes; call the returned
// function to release it.
func (s *Store) Lock() (func(), error) {
	l := tokencache.NewLock(filepath.Join(s.home, "connections", ".lock"))
	if err := l.Lock(); err != nil {
		return nil, fmt.Errorf("lock %s: %w", s.home, err)
	}
	return func() { _ = l.Unlock() }, nil
}

// List returns the saved connections by Id.
func (s *Store) List() ([]*Profile, error) {
	entries, err := os.ReadDir(filepath.Join(s.home, "connections"))
	if err != nil {
		return nil, err
	}
	var out []*Profile
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.Dir(e.Name()), "profile.json"))
		if err != nil {
			continue // a folder being created or removed by another process
		}
		var p Profile
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("connection %s is damaged (%w): run exoctl disconnect --connection %s", e.Name(), err, e.Name())
		}
		if p.KeyStore == "" {
			p.KeyStore = keyStoreFile // saved before key stores were recorded
		}
		out = append(out, &p)
	}
	slices.SortFunc(out, func(a, b *Profile) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Find picks a connection by Id, ConnectionId or prefix; "" picks the most recent one.
func (s *Store) Find(sel string) (*Profile, error) {
	ps, err := s.List()
	if err != nil {
		return nil, err
	}
	return find(ps, sel)
}

// find is Find among ps.
func find(ps []*Profile, sel string) (*Profile, error) {
	if len(ps) == 0 {
		return nil, errors.New("no connection: run exoctl connect first (or exoctl connect --emulator to use the local emulator)")
	}
	if sel == "" {
		return slices.MaxFunc(ps, func(a, b *Profile) int { return a.ConnectedAt.Compare(b.ConnectedAt) }), nil
	}
	for _, p := range ps {
		if p.Matches(sel) {
			return p, nil
		}
	}
	return nil, fmt.Errorf("no connection %q: exoctl connections lists them", sel)
}

// Matches reports whether sel names the connection: its Id, ConnectionId or prefix (any case).
func (p *Profile) Matches(sel string) bool {
	return strconv.Itoa(p.ID) == sel || strings.EqualFold(p.ConnectionID, sel) || (p.Prefix != "" && strings.EqualFold(p.Prefix, sel))
}

// Save writes a new or updated profile with its secrets.
func (s *Store) Save(p *Profile, sec Secrets) error {
	dir := s.Dir(p.ConnectionID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(sec, "", "")
	if err != nil {
		return err
	}
	o, err := s.cacheOptions(p)
	if err != nil {
		return err
	}
	if err := tokencache.WriteSealed(filepath.Join(dir, "secrets.enc"), b, o); err != nil {
		return fmt.Errorf("save connection secrets: %w", err)
	}
	pb, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "profile.json.tmp")
	if err := os.WriteFile(tmp, pb, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "profile.json"))
}

// Secrets reads a profile's secrets.
func (s *Store) Secrets(p *Profile) (Secrets, error) {
	var sec Secrets
	o, err := s.cacheOptions(p)
	if err != nil {
		return sec, err
	}
	b, err := tokencache.ReadSealed(filepath.Join(s.Dir(p.ConnectionID), "secrets.enc"), o)
	if err != nil {
		return sec, fmt.Errorf("read the secrets of connection %d (%w): connect again", p.ID, err)
	}
	if err := json.Unmarshal(b, &sec); err != nil {
		return sec, fmt.Errorf("the secrets of connection %d are damaged: connect again", p.ID)
	}
	return sec, nil
}

// cacheOptions says where the key of a connection's encrypted files lives: in the store its
// profile records, so that a connection keeps using the key that encrypted its files. A new
// connection (none recorded yet) gets the OS keyring when one is reachable and EXOCTL_KEYRING
// allows it, else a 0600 key file beside the files; the choice is recorded in p, which save
// then writes. A "file" connection never touches the keyring, so it costs nothing.
func (s *Store) cacheOptions(p *Profile) (tokencache.Options, error) {
	file := tokencache.Options{KeyFile: filepath.Join(s.Dir(p.ConnectionID), "cache.key")}
	switch p.KeyStore {
	case keyStoreFile:
		return file, nil
	case keyStoreKeyring:
		mode, err := keyring.ParseMode(s.env(keyring.EnvVar))
		if err != nil {
			return tokencache.Options{}, err
		}
		if mode == keyring.Off {
			return tokencache.Options{}, fmt.Errorf("connection %d keeps its key in the OS keyring, which %s=off turns off: unset it, or run exoctl disconnect --connection %d and connect again", p.ID, keyring.EnvVar, p.ID)
		}
		kr, err := s.keyring()
		if err != nil {
			return tokencache.Options{}, fmt.Errorf("connection %d keeps its key in the OS keyring, which cannot be reached now (%w): unlock it or start its service, or run exoctl disconnect --connection %d and connect again", p.ID, err, p.ID)
		}
		return tokencache.Options{Keyring: kr}, nil
	case "":
		mode, err := keyring.ParseMode(s.env(keyring.EnvVar))
		if err != nil {
			return tokencache.Options{}, err
		}
		if mode != keyring.Off {
			kr, err := s.keyring()
			switch {
			case err == nil:
				p.KeyStore = keyStoreKeyring
				return tokencache.Options{Keyring: kr}, nil
			case mode == keyring.Required:
				return tokencache.Options{}, fmt.Errorf("%w (%s=required; unset it to keep the key in a file instead)", err, keyring.EnvVar)
			}
		}
		p.KeyStore = keyStoreFile
		return file, nil
	}
	return tokencache.Options{}, fmt.Errorf("connection %d keeps its key in %q, which this exoctl does not know: update exoctl, or run exoctl disconnect --connection %d and connect again", p.ID, p.KeyStore, p.ID)
}

func (s *Store) env(k string) string {
	if s.getenv == nil {
		return ""
	}
	return s.getenv(k)
}

// keyring probes the OS keyring once (bounded by keyring.DefaultTimeout) and remembers the answer.
func (s *Store) keyring() (*keyring.Store, error) {
	s.krOnce.Do(func() {
		if s.getenv == nil {
			s.krErr = keyring.ErrUnavailable
			return
		}
		s.kr, s.krErr = keyring.Open(context.Background(), keyring.Options{Getenv: s.getenv})
	})
	return s.kr, s.krErr
}

// TokenCache returns the connection's persistent MSAL cache.
func (s *Store) TokenCache(p *Profile) (*tokencache.Cache, error) {
	o, err := s.cacheOptions(p)
	if err != nil {
		return nil, err
	}
	o.Logger = s.log
	return tokencache.New(filepath.Join(s.Dir(p.ConnectionID), "tokens.cache"), o)
}

// Remove forgets a connection: its profile, secrets, key and tokens.
func (s *Store) Remove(p *Profile) error {
	dir := s.Dir(p.ConnectionID)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove connection %d: %w", p.ID, err)
	}
	if p.KeyStore != keyStoreKeyring {
		return nil
	}
	// Its keys in the OS keyring, now that nothing they encrypt is left. Failing here leaves
	// only a random key behind, so it is a warning.
	kr, err := s.keyring()
	for _, name := range []string{"tokens.cache", "secrets.enc"} {
		var account string
		if err == nil {
			account, err = tokencache.KeyringAccount(filepath.Join(dir, name))
		}
		if err == nil {
			err = kr.Delete(tokencache.KeyringService, account)
		}
	}
	if err != nil && s.log != nil {
		s.log.Warn("could not delete the connection's keys from the OS keyring; delete the entries of service "+tokencache.KeyringService+" for it by hand",
			"connection", p.ID, "error", err)
	}
	return nil
}

// nextID is the Id for a new connection.
func (s *Store) nextID() (int, error) {
	ps, err := s.List()
	if err != nil {
		return 0, err
	}
	id := 1
	for _, p := range ps {
		id = max(id, p.ID+1)
	}
	return id, nil
}
