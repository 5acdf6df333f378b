package cli

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/exoctl/exoctl/connection"
	"github.com/exoctl/exoctl/exo"
)

// bulkTenants are the sessions of the tenants a bulk CSV's tenant column names, all from one
// saved connection's sign-in (a partner's user or a multi-tenant app): each is opened when its
// first row runs and kept for the rest of the run.
type bulkTenants struct {
	col     int
	targets map[string]connection.Target // by lower-case tenant
	save    func(context.Context) error

	mu       sync.Mutex
	sessions map[string]*bulkTenantSession
}

type bulkTenantSession struct {
	once sync.Once
	s    *exo.Session
	err  error
}

// newBulkTenants resolves the tenants of column col of rows through the saved connection sel.
func newBulkTenants(f *Factory, sel string, col int, rows [][]string) (*bulkTenants, error) {
	var tenants []string
	seen := map[string]bool{}
	for _, r := range rows {
		if col >= len(r) {
			continue
		}
		t := strings.TrimSpace(r[col])
		if t != "" && !seen[strings.ToLower(t)] {
			seen[strings.ToLower(t)] = true
			tenants = append(tenants, t)
		}
	}
	st, err := f.connections()
	if err != nil {
		return nil, err
	}
	p, err := st.Find(sel)
	if err != nil {
		return nil, err
	}
	targets, save, err := st.Tenants(p, tenants)
	if err != nil {
		return nil, err
	}
	b := &bulkTenants{col: col, targets: map[string]connection.Target{}, save: save, sessions: map[string]*bulkTenantSession{}}
	for _, t := range targets {
		b.targets[strings.ToLower(t.Tenant)] = t
	}
	return b, nil
}

// Session is the session of a row's tenant.
func (b *bulkTenants) Session(ctx context.Context, vals []string) (*exo.Session, error) {
	tenant := ""
	if b.col < len(vals) {
		tenant = strings.TrimSpace(vals[b.col])
	}
	if tenant == "" {
		return nil, fmt.Errorf("the row names no tenant in the --tenant-column column")
	}
	key := strings.ToLower(tenant)
	b.mu.Lock()
	ts := b.sessions[key]
	if ts == nil {
		ts = &bulkTenantSession{}
		b.sessions[key] = ts
	}
	target, ok := b.targets[key]
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("tenant %s: not in the CSV's tenant column when the run started", tenant)
	}
	ts.once.Do(func() { ts.s, ts.err = target.Open(ctx) })
	if ts.err != nil {
		return nil, fmt.Errorf("tenant %s: %w", tenant, ts.err)
	}
	return ts.s, nil
}

// Close ends the sessions and keeps the tenants' tokens for the next run.
func (b *bulkTenants) Close(ctx context.Context) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ts := range b.sessions {
		if ts.s != nil {
			_ = ts.s.Close()
		}
	}
	_ = b.save(context.WithoutCancel(ctx))
}
