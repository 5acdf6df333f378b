package cli

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/exoctl/exoctl/auth/tokencache"
)

// Profile is a saved connection: everything needed to reconnect silently, no secrets. Secrets
// (the certificate key, a brought token) live encrypted beside it; tokens in the token cache.
type Profile struct {
	ConnectionID          string    `json:"connection_id"`
	ID                    int       `json:"id"`
	Prefix                string    `json:"prefix,omitempty"`
	Method                string    `json:"method"` // certificate, access-token
	Environment           string    `json:"environment,omitempty"`
	ConnectionURI         string    `json:"connection_uri,omitempty"`
	AuthorityURI          string    `json:"authority_uri,omitempty"`
	CAFile                string    `json:"ca_file,omitempty"`
	Organization          string    `json:"organization,omitempty"`
	DelegatedOrganization string    `json:"delegated_organization,omitempty"`
	AppID                 string    `json:"app_id,omitempty"`
	CertificateThumbprint string    `json:"certificate_thumbprint,omitempty"`
	PageSize              int       `json:"page_size,omitempty"`
	Emulator              bool      `json:"emulator,omitempty"`
	UserPrincipalName     string    `json:"user_principal_name,omitempty"`
	TenantID              string    `json:"tenant_id,omitempty"`
	TokenExpiry           time.Time `json:"token_expiry"`
	ConnectedAt           time.Time `json:"connected_at"`
}

// secrets are a profile's secret parts, stored encrypted.
type secrets struct {
	CertificatePEM string `json:"certificate_pem,omitempty"`
	AccessToken    string `json:"access_token,omitempty"`
}

// state is exoctl's folder of connections.
type state struct {
	home string
}

func (f *Factory) state() (*state, error) {
	home, err := f.Home()
	if err != nil {
		return nil, fmt.Errorf("find exoctl's folder: %w (set EXOCTL_HOME)", err)
	}
	if err := os.MkdirAll(filepath.Join(home, "connections"), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", home, err)
	}
	return &state{home: home}, nil
}

func (s *state) dir(connectionID string) string {
	return filepath.Join(s.home, "connections", connectionID)
}

// lock serialises changes to the connection list between processes.
func (s *state) lock() (func(), error) {
	l := flock.New(filepath.Join(s.home, "connections", ".lock"))
	if err := l.Lock(); err != nil {
		return nil, fmt.Errorf("lock %s: %w", s.home, err)
	}
	return func() { _ = l.Unlock() }, nil
}

// profiles lists saved connections by Id.
func (s *state) profiles() ([]*Profile, error) {
	entries, err := os.ReadDir(filepath.Join(s.home, "connections"))
	if err != nil {
		return nil, err
	}
	var out []*Profile
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir(e.Name()), "profile.json"))
		if err != nil {
			continue // a folder being created or removed by another process
		}
		var p Profile
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("connection %s is damaged (%w): run exoctl disconnect --connection %s", e.Name(), err, e.Name())
		}
		out = append(out, &p)
	}
	slices.SortFunc(out, func(a, b *Profile) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// find picks a connection by Id, ConnectionId or prefix; "" picks the most recent one.
func (s *state) find(sel string) (*Profile, error) {
	ps, err := s.profiles()
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, errors.New("no connection: run exoctl connect first (or exoctl connect --emulator to use the local emulator)")
	}
	if sel == "" {
		return slices.MaxFunc(ps, func(a, b *Profile) int { return a.ConnectedAt.Compare(b.ConnectedAt) }), nil
	}
	for _, p := range ps {
		if strconv.Itoa(p.ID) == sel || strings.EqualFold(p.ConnectionID, sel) || (p.Prefix != "" && strings.EqualFold(p.Prefix, sel)) {
			return p, nil
		}
	}
	return nil, fmt.Errorf("no connection %q: exoctl connections lists them", sel)
}

// save writes a new or updated profile with its secrets.
func (s *state) save(p *Profile, sec secrets) error {
	dir := s.dir(p.ConnectionID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(sec, "", "")
	if err != nil {
		return err
	}
	if err := tokencache.WriteSealed(filepath.Join(dir, "secrets.enc"), b, s.cacheOptions(p)); err != nil {
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

// secrets reads a profile's secrets.
func (s *state) secrets(p *Profile) (secrets, error) {
	var sec secrets
	b, err := tokencache.ReadSealed(filepath.Join(s.dir(p.ConnectionID), "secrets.enc"), s.cacheOptions(p))
	if err != nil {
		return sec, fmt.Errorf("read the secrets of connection %d (%w): connect again", p.ID, err)
	}
	if err := json.Unmarshal(b, &sec); err != nil {
		return sec, fmt.Errorf("the secrets of connection %d are damaged: connect again", p.ID)
	}
	return sec, nil
}

func (s *state) cacheOptions(p *Profile) tokencache.Options {
	return tokencache.Options{KeyFile: filepath.Join(s.dir(p.ConnectionID), "cache.key")}
}

// tokenCache returns the connection's persistent MSAL cache.
func (s *state) tokenCache(p *Profile, f *Factory) (*tokencache.Cache, error) {
	o := s.cacheOptions(p)
	o.Logger = f.Logger
	return tokencache.New(filepath.Join(s.dir(p.ConnectionID), "tokens.cache"), o)
}

// remove forgets a connection: its profile, secrets, key and tokens.
func (s *state) remove(p *Profile) error {
	if err := os.RemoveAll(s.dir(p.ConnectionID)); err != nil {
		return fmt.Errorf("remove connection %d: %w", p.ID, err)
	}
	return nil
}

// nextID is the Id for a new connection.
func (s *state) nextID() (int, error) {
	ps, err := s.profiles()
	if err != nil {
		return 0, err
	}
	id := 1
	for _, p := range ps {
		id = max(id, p.ID+1)
	}
	return id, nil
}
