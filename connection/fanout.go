package connection

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/google/uuid"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/auth/tokencache"
	"github.com/exoctl/exoctl/cloud"
	"github.com/exoctl/exoctl/exo"
)

// Target is one tenant of a fan-out: what its records are labelled with, and how to open its
// session when its turn comes (so that only the running ones hold a session).
type Target struct {
	// Tenant names the tenant as the user named it (a domain or GUID), or the saved
	// connection's organization.
	Tenant string
	open   func(ctx context.Context) (*exo.Session, error)
}

// Open opens the target's session.
func (t Target) Open(ctx context.Context) (*exo.Session, error) { return t.open(ctx) }

// Select picks saved connections by selectors: an Id, ConnectionId or prefix each, a comma
// list of them ("1,3,5"), or a prefix pattern with * and ? ("contoso*"). An empty list picks
// the latest connection. A selector that matches nothing is an error.
func (s *Store) Select(sels []string) ([]*Profile, error) {
	var parts []string
	for _, sel := range sels {
		for _, p := range strings.Split(sel, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
	}
	if len(parts) == 0 {
		p, err := s.Find("")
		if err != nil {
			return nil, err
		}
		return []*Profile{p}, nil
	}
	ps, err := s.List()
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, errors.New("no connection: run exoctl connect first (or exoctl connect --emulator to use the local emulator)")
	}
	var out []*Profile
	seen := map[string]bool{}
	for _, sel := range parts {
		n := 0
		for _, p := range ps {
			if !p.Matches(sel) && !(strings.ContainsAny(sel, "*?") && p.Prefix != "" && globMatch(sel, p.Prefix)) {
				continue
			}
			n++
			if !seen[p.ConnectionID] {
				seen[p.ConnectionID] = true
				out = append(out, p)
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("no connection %q: exoctl connections lists them", sel)
		}
	}
	return out, nil
}

func globMatch(pattern, name string) bool {
	ok, err := path.Match(strings.ToLower(pattern), strings.ToLower(name))
	return err == nil && ok
}

// Targets are saved connections as fan-out targets, each reopened silently in its turn.
func (s *Store) Targets(ps []*Profile) []Target {
	out := make([]Target, len(ps))
	for i, p := range ps {
		label := p.DelegatedOrganization
		if label == "" {
			label = p.Organization
		}
		if label == "" {
			label = p.TenantID
		}
		if label == "" {
			label = strconv.Itoa(p.ID)
		}
		out[i] = Target{Tenant: label, open: func(ctx context.Context) (*exo.Session, error) { return s.Session(ctx, p) }}
	}
	return out
}

// Tenants are fan-out targets for many tenants from one saved connection's sign-in: a partner's
// user gets each customer's token silently at the customer's authority (MSAL's tenant override
// of the saved account, no prompt), a multi-tenant app with its certificate. Each session is
// the tenant's (InvokeCommand on it, DelegatedOrganization set). Brought tokens and managed
// identities serve their own tenant only.
//
// The connection's token cache is read once and written once, by save: every customer's token
// lands in memory meanwhile, instead of each of them rewriting the encrypted file. Call save
// when the fan-out is over (the tokens then serve the next run within their lifetime).
func (s *Store) Tenants(p *Profile, tenants []string) (targets []Target, save func(context.Context) error, err error) {
	var bc *batchCache
	opts, err := s.optionsWith(p, func(c *tokencache.Cache) cache.ExportReplace {
		bc = &batchCache{inner: c}
		return bc
	})
	if err != nil {
		return nil, nil, err
	}
	var forTenant func(string) auth.TenantSource
	switch src := opts.Credential.(type) {
	case *auth.PublicSource:
		forTenant = src.ForTenant
	default:
		if opts.Certificate == nil || opts.AppID == "" {
			return nil, nil, fmt.Errorf("connection %d signs in with %s, which serves its own tenant only: --tenants needs a connection of a partner's user or of a multi-tenant app with a certificate", p.ID, p.Method)
		}
		if opts.HTTPClient == nil {
			if opts.HTTPClient, err = exo.HTTPClient(opts.CAFile); err != nil {
				return nil, nil, err
			}
		}
		au, err := authorityURI(opts.Environment, opts.AuthorityURI)
		if err != nil {
			return nil, nil, err
		}
		authority, err := cloud.Authority(au, p.Organization)
		if err != nil {
			return nil, nil, err
		}
		cs, err := auth.NewCertificateSource(auth.ConfidentialConfig{
			Authority: authority, ClientID: opts.AppID, HTTPClient: opts.HTTPClient, Cache: opts.TokenCache,
		}, *opts.Certificate)
		if err != nil {
			return nil, nil, err
		}
		forTenant = cs.ForTenant
	}
	targets = make([]Target, 0, len(tenants))
	for _, t := range tenants {
		o := opts
		o.Credential = forTenant(t)
		o.DelegatedOrganization = t
		o.Organization = t
		o.ConnectionID = uuid.NewString()
		prof := *p
		prof.DelegatedOrganization = t
		targets = append(targets, Target{Tenant: t, open: func(ctx context.Context) (*exo.Session, error) {
			sess, err := exo.Connect(ctx, o)
			if err != nil {
				return nil, connectHint(err, &prof, o.ConnectionURI, "--tenants")
			}
			sess.SetConnection(p.ID, p.Prefix)
			return sess, nil
		}})
	}
	return targets, bc.save, nil
}

// batchCache loads a persistent token cache into MSAL's memory once and writes it back once,
// on save: a fan-out over hundreds of tenants then costs two file operations, not two per
// tenant. MSAL's in-memory cache keeps everything acquired meanwhile.
type batchCache struct {
	inner *tokencache.Cache

	mu     sync.Mutex
	loaded bool
	last   cache.Marshaler
}

func (b *batchCache) Replace(ctx context.Context, u cache.Unmarshaler, h cache.ReplaceHints) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.loaded {
		return nil
	}
	if err := b.inner.Replace(ctx, u, h); err != nil {
		return err
	}
	b.loaded = true
	return nil
}

func (b *batchCache) Export(_ context.Context, m cache.Marshaler, _ cache.ExportHints) error {
	b.mu.Lock()
	b.last = m
	b.mu.Unlock()
	return nil
}

// save writes what MSAL holds to the persistent cache (merged with what other processes wrote).
func (b *batchCache) save(ctx context.Context) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	m := b.last
	b.mu.Unlock()
	if m == nil {
		return nil
	}
	return b.inner.Export(ctx, m, cache.ExportHints{})
}

// Result is how one target of a fan-out ended.
type Result struct {
	Tenant string
	Err    error
}

// FanOut runs fn on each target's session, at most parallel at once (8 when 0 or less), and
// returns each target's result in target order. Sessions are opened in the target's turn and
// closed after fn, so memory does not grow with the number of targets. Each session has its own
// retries and backoff, and a tenant that waits a second or more to retry (throttled, or the
// service failing) lends its turn to the next tenants meanwhile, then waits for a turn again: one
// throttled tenant does not hold up the others. A failed target never stops the others; ctx's
// end does.
func FanOut(ctx context.Context, targets []Target, parallel int, fn func(ctx context.Context, t Target, s *exo.Session) error) []Result {
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	results := make([]Result, len(targets))
	turns := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, t := range targets {
		select {
		case turns <- struct{}{}:
		case <-ctx.Done():
			results[i] = Result{Tenant: t.Tenant, Err: ctx.Err()}
			continue
		}
		wg.Go(func() {
			tn := &turn{turns: turns, held: true}
			results[i] = Result{Tenant: t.Tenant, Err: runTarget(exo.WithYielder(ctx, tn), t, fn)}
			tn.Yield()
		})
	}
	wg.Wait()
	return results
}

// turn is one target's hold on one of a fan-out's parallel turns, lent while its session waits
// to retry (exo.Yielder).
type turn struct {
	turns chan struct{}
	mu    sync.Mutex
	held  bool
}

// Yield gives the turn back, if held.
func (t *turn) Yield() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.held {
		<-t.turns
		t.held = false
	}
}

// Resume waits for a turn again, unless one is held.
func (t *turn) Resume(ctx context.Context) error {
	t.mu.Lock()
	held := t.held
	t.mu.Unlock()
	if held {
		return nil
	}
	select {
	case t.turns <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.held {
		<-t.turns // another wait of this target's resumed first
	}
	t.held = true
	return nil
}

// DefaultParallel is how many tenants a fan-out runs at once unless told otherwise.
const DefaultParallel = 8

func runTarget(ctx context.Context, t Target, fn func(ctx context.Context, t Target, s *exo.Session) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sess, err := t.Open(ctx)
	if err != nil {
		return err
	}
	defer sess.Close()
	return fn(ctx, t, sess)
}
