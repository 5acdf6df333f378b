package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Tenants, apps, certificates, users and assertion ids: what the identity endpoints read.

const tenantCols = `id, name, display_name, created_at`

func scanTenant(row interface{ Scan(...any) error }) (Tenant, error) {
	var t Tenant
	var created sql.NullInt64
	if err := row.Scan(&t.ID, &t.Name, &t.DisplayName, &created); err != nil {
		return Tenant{}, err
	}
	t.CreatedAt = colTime(created)
	return t, nil
}

// Tenant finds a tenant by GUID, initial domain or any accepted domain, in any case.
func (s *SQLite) Tenant(ctx context.Context, nameOrID string) (Tenant, error) {
	key := lc(nameOrID)
	if g := normGUID(nameOrID); g != "" {
		key = g
	}
	row := s.queryRow(ctx, `SELECT `+tenantCols+` FROM tenants
		WHERE id = ?1 OR name_lc = ?1
		   OR id = (SELECT tenant_id FROM accepted_domains WHERE domain_name_lc = ?1)
		LIMIT 1`, key)
	t, err := scanTenant(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Tenant{}, notFound("tenant", nameOrID)
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("store: tenant %s: %w", nameOrID, err)
	}
	return t, nil
}

// Tenants lists every tenant by name.
func (s *SQLite) Tenants(ctx context.Context) ([]Tenant, error) {
	rows, err := s.query(ctx, `SELECT `+tenantCols+` FROM tenants ORDER BY name_lc`)
	if err != nil {
		return nil, fmt.Errorf("store: tenants: %w", err)
	}
	defer rows.Close()
	var ts []Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, fmt.Errorf("store: tenants: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: tenants: %w", err)
	}
	return ts, nil
}

// PutTenant creates or updates the tenant with t.ID (a new GUID when empty).
func (s *SQLite) PutTenant(ctx context.Context, t Tenant) error {
	if strings.TrimSpace(t.Name) == "" {
		return errors.New("store: put tenant: empty Name")
	}
	id := idOrNew(t.ID)
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO tenants (id, name, name_lc, display_name, created_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_lc = excluded.name_lc,
			display_name = excluded.display_name, created_at = excluded.created_at`,
		id, strings.TrimSpace(t.Name), lc(t.Name), t.DisplayName, timeCol(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: put tenant %s: %w", t.Name, err)
	}
	return nil
}

const appCols = `tenant_id, app_id, object_id, display_name, app_roles, directory_roles, public, redirect_uris`

func scanApp(row interface{ Scan(...any) error }) (App, error) {
	var a App
	var roles, dirRoles, redirects string
	if err := row.Scan(&a.TenantID, &a.AppID, &a.ObjectID, &a.DisplayName, &roles, &dirRoles, &a.Public, &redirects); err != nil {
		return App{}, err
	}
	var err error
	if a.AppRoles, err = colStrings(roles); err != nil {
		return App{}, err
	}
	if a.DirectoryRoles, err = colStrings(dirRoles); err != nil {
		return App{}, err
	}
	if a.RedirectURIs, err = colStrings(redirects); err != nil {
		return App{}, err
	}
	return a, nil
}

// App finds an app registration by tenant and client id.
func (s *SQLite) App(ctx context.Context, tenantID, appID string) (App, error) {
	row := s.queryRow(ctx, `SELECT `+appCols+` FROM apps WHERE tenant_id = ? AND app_id = ?`,
		idOrNew(tenantID), lc(appID))
	a, err := scanApp(row)
	if errors.Is(err, sql.ErrNoRows) {
		return App{}, notFound("app", tenantID, appID)
	}
	if err != nil {
		return App{}, fmt.Errorf("store: app %s/%s: %w", tenantID, appID, err)
	}
	return a, nil
}

// AppAnyTenant finds an app registration by client id in whichever tenant holds it; when
// several do, the oldest tenant's wins (the app's home tenant).
func (s *SQLite) AppAnyTenant(ctx context.Context, appID string) (App, error) {
	row := s.queryRow(ctx, `SELECT `+prefixCols("a.", appCols)+` FROM apps a
		JOIN tenants t ON t.id = a.tenant_id
		WHERE a.app_id = ? ORDER BY t.created_at, t.id LIMIT 1`, lc(appID))
	a, err := scanApp(row)
	if errors.Is(err, sql.ErrNoRows) {
		return App{}, notFound("app", appID)
	}
	if err != nil {
		return App{}, fmt.Errorf("store: app %s: %w", appID, err)
	}
	return a, nil
}

// PutApp creates or updates the app registration a.AppID in a.TenantID.
func (s *SQLite) PutApp(ctx context.Context, a App) error {
	if a.TenantID == "" || a.AppID == "" {
		return fmt.Errorf("store: put app %q in tenant %q: TenantID and AppID are required", a.AppID, a.TenantID)
	}
	roles, err := jsonCol(a.AppRoles)
	if err != nil {
		return fmt.Errorf("store: put app %s: %w", a.AppID, err)
	}
	dirRoles, err := jsonCol(lowerAll(a.DirectoryRoles))
	if err != nil {
		return fmt.Errorf("store: put app %s: %w", a.AppID, err)
	}
	redirects, err := jsonCol(a.RedirectURIs)
	if err != nil {
		return fmt.Errorf("store: put app %s: %w", a.AppID, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO apps (`+appCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, app_id) DO UPDATE SET object_id = excluded.object_id,
			display_name = excluded.display_name, app_roles = excluded.app_roles,
			directory_roles = excluded.directory_roles, public = excluded.public,
			redirect_uris = excluded.redirect_uris`,
		idOrNew(a.TenantID), idOrNew(a.AppID), idOrNew(a.ObjectID), a.DisplayName, roles, dirRoles, boolCol(a.Public), redirects)
	if err != nil {
		return fmt.Errorf("store: put app %s in tenant %s: %w", a.AppID, a.TenantID, err)
	}
	return nil
}

// Certificates lists the certificates registered on an app (in any tenant), oldest first.
func (s *SQLite) Certificates(ctx context.Context, appID string) ([]Certificate, error) {
	rows, err := s.query(ctx, `SELECT app_id, thumbprint, sha256, der, not_before, not_after
		FROM certificates WHERE app_id = ? ORDER BY not_before, thumbprint`, lc(appID))
	if err != nil {
		return nil, fmt.Errorf("store: certificates of app %s: %w", appID, err)
	}
	defer rows.Close()
	var cs []Certificate
	for rows.Next() {
		var c Certificate
		var nb, na sql.NullInt64
		if err := rows.Scan(&c.AppID, &c.Thumbprint, &c.SHA256, &c.DER, &nb, &na); err != nil {
			return nil, fmt.Errorf("store: certificates of app %s: %w", appID, err)
		}
		c.NotBefore, c.NotAfter = colTime(nb), colTime(na)
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: certificates of app %s: %w", appID, err)
	}
	return cs, nil
}

// PutCertificate registers (or replaces) the certificate with c.Thumbprint on app c.AppID.
func (s *SQLite) PutCertificate(ctx context.Context, c Certificate) error {
	if c.AppID == "" || c.Thumbprint == "" || len(c.DER) == 0 {
		return fmt.Errorf("store: put certificate %q on app %q: AppID, Thumbprint and DER are required", c.Thumbprint, c.AppID)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO certificates (app_id, thumbprint, sha256, der, not_before, not_after)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (app_id, thumbprint) DO UPDATE SET sha256 = excluded.sha256, der = excluded.der,
			not_before = excluded.not_before, not_after = excluded.not_after`,
		idOrNew(c.AppID), strings.ToUpper(c.Thumbprint), strings.ToUpper(c.SHA256), c.DER, timeCol(c.NotBefore), timeCol(c.NotAfter))
	if err != nil {
		return fmt.Errorf("store: put certificate %s on app %s: %w", c.Thumbprint, c.AppID, err)
	}
	return nil
}

const userCols = `tenant_id, object_id, upn, display_name, password_hash, enabled, mfa_required, totp_secret, powershell_enabled, directory_roles`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var roles string
	if err := row.Scan(&u.TenantID, &u.ObjectID, &u.UPN, &u.DisplayName, &u.PasswordHash, &u.Enabled,
		&u.MFARequired, &u.TOTPSecret, &u.PowerShellEnabled, &roles); err != nil {
		return User{}, err
	}
	var err error
	if u.DirectoryRoles, err = colStrings(roles); err != nil {
		return User{}, err
	}
	return u, nil
}

// User finds a user of a tenant by UPN (any case) or object id.
func (s *SQLite) User(ctx context.Context, tenantID, upnOrObjectID string) (User, error) {
	key := lc(upnOrObjectID)
	if g := normGUID(upnOrObjectID); g != "" {
		key = g
	}
	row := s.queryRow(ctx, `SELECT `+userCols+` FROM users
		WHERE tenant_id = ?1 AND (upn_lc = ?2 OR object_id = ?2) LIMIT 1`, idOrNew(tenantID), key)
	u, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, notFound("user", tenantID, upnOrObjectID)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: user %s/%s: %w", tenantID, upnOrObjectID, err)
	}
	return u, nil
}

// PutUser creates or updates the user u.ObjectID (a new GUID when empty). A non-empty password
// is hashed and replaces the old one; with an empty password, u.PasswordHash is kept when set
// (copying a user), else the stored hash stays (a new user then has no password).
func (s *SQLite) PutUser(ctx context.Context, u User, password string) error {
	if u.TenantID == "" || strings.TrimSpace(u.UPN) == "" {
		return fmt.Errorf("store: put user %q in tenant %q: TenantID and UPN are required", u.UPN, u.TenantID)
	}
	hash := u.PasswordHash
	if password != "" {
		var err error
		if hash, err = hashPassword(password); err != nil {
			return fmt.Errorf("store: put user %s: hash password: %w", u.UPN, err)
		}
	}
	roles, err := jsonCol(lowerAll(u.DirectoryRoles))
	if err != nil {
		return fmt.Errorf("store: put user %s: %w", u.UPN, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO users (tenant_id, object_id, upn, upn_lc, display_name, password_hash,
			enabled, mfa_required, totp_secret, powershell_enabled, directory_roles)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, object_id) DO UPDATE SET upn = excluded.upn, upn_lc = excluded.upn_lc,
			display_name = excluded.display_name,
			password_hash = CASE WHEN excluded.password_hash = '' THEN users.password_hash ELSE excluded.password_hash END,
			enabled = excluded.enabled, mfa_required = excluded.mfa_required, totp_secret = excluded.totp_secret,
			powershell_enabled = excluded.powershell_enabled, directory_roles = excluded.directory_roles`,
		idOrNew(u.TenantID), idOrNew(u.ObjectID), strings.TrimSpace(u.UPN), lc(u.UPN), u.DisplayName, hash,
		boolCol(u.Enabled), boolCol(u.MFARequired), u.TOTPSecret, boolCol(u.PowerShellEnabled), roles)
	if err != nil {
		return fmt.Errorf("store: put user %s in tenant %s: %w", u.UPN, u.TenantID, err)
	}
	return nil
}

// CheckPassword reports whether password is the user's password. It does not look at Enabled
// or MFARequired: sign-in decides what those mean. An unknown user wraps ErrNotFound.
func (s *SQLite) CheckPassword(ctx context.Context, tenantID, upn, password string) (bool, error) {
	u, err := s.User(ctx, tenantID, upn)
	if err != nil {
		return false, err
	}
	return verifyPassword(u.PasswordHash, password), nil
}

const (
	useJTISQL = `INSERT INTO assertion_ids (jti, exp) VALUES (?1, ?2)
		ON CONFLICT (jti) DO UPDATE SET exp = excluded.exp WHERE assertion_ids.exp < ?3`
	purgeJTISQL = `DELETE FROM assertion_ids WHERE exp < ?`
)

// UseAssertionID records jti until exp and reports whether it was unused (or its earlier use
// has expired). Expired ids are purged as a side effect.
func (s *SQLite) UseAssertionID(ctx context.Context, jti string, exp time.Time) (bool, error) {
	if jti == "" {
		return false, errors.New("store: use assertion id: empty jti")
	}
	now := time.Now().UnixNano()
	var fresh bool
	s.prepare(ctx, useJTISQL, purgeJTISQL)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, useJTISQL, jti, exp.UnixNano(), now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		fresh = n == 1
		_, err = s.txExec(ctx, tx, purgeJTISQL, now)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: use assertion id %s: %w", jti, err)
	}
	return fresh, nil
}

const domainCols = `tenant_id, guid, name, domain_name, domain_type, is_default, is_initial, when_created, when_changed`

// AcceptedDomains lists a tenant's accepted domains by domain name.
func (s *SQLite) AcceptedDomains(ctx context.Context, tenantID string) ([]AcceptedDomain, error) {
	rows, err := s.query(ctx, `SELECT `+domainCols+` FROM accepted_domains
		WHERE tenant_id = ? ORDER BY domain_name_lc`, idOrNew(tenantID))
	if err != nil {
		return nil, fmt.Errorf("store: accepted domains of tenant %s: %w", tenantID, err)
	}
	defer rows.Close()
	var ds []AcceptedDomain
	for rows.Next() {
		var d AcceptedDomain
		var wc, wch sql.NullInt64
		if err := rows.Scan(&d.TenantID, &d.GUID, &d.Name, &d.DomainName, &d.DomainType, &d.Default, &d.Initial, &wc, &wch); err != nil {
			return nil, fmt.Errorf("store: accepted domains of tenant %s: %w", tenantID, err)
		}
		d.WhenCreated, d.WhenChanged = colTime(wc), colTime(wch)
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: accepted domains of tenant %s: %w", tenantID, err)
	}
	return ds, nil
}

// PutAcceptedDomain creates or updates the accepted domain d.GUID (a new GUID when empty). A
// domain name belongs to one tenant; setting Default clears it on the tenant's other domains.
func (s *SQLite) PutAcceptedDomain(ctx context.Context, d AcceptedDomain) error {
	if d.TenantID == "" || strings.TrimSpace(d.DomainName) == "" {
		return fmt.Errorf("store: put accepted domain %q in tenant %q: TenantID and DomainName are required", d.DomainName, d.TenantID)
	}
	if d.Name == "" {
		d.Name = d.DomainName
	}
	if d.DomainType == "" {
		d.DomainType = "Authoritative"
	}
	now := time.Now()
	if d.WhenCreated.IsZero() {
		d.WhenCreated = now
	}
	if d.WhenChanged.IsZero() {
		d.WhenChanged = d.WhenCreated
	}
	tenantID := idOrNew(d.TenantID)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if d.Default {
			if _, err := tx.ExecContext(ctx, `UPDATE accepted_domains SET is_default = 0
				WHERE tenant_id = ? AND domain_name_lc <> ? AND is_default = 1`, tenantID, lc(d.DomainName)); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO accepted_domains (guid, tenant_id, name, domain_name, domain_name_lc,
				domain_type, is_default, is_initial, when_created, when_changed)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (guid) DO UPDATE SET tenant_id = excluded.tenant_id, name = excluded.name,
				domain_name = excluded.domain_name, domain_name_lc = excluded.domain_name_lc,
				domain_type = excluded.domain_type, is_default = excluded.is_default,
				is_initial = excluded.is_initial, when_created = excluded.when_created,
				when_changed = excluded.when_changed`,
			idOrNew(d.GUID), tenantID, d.Name, strings.TrimSpace(d.DomainName), lc(d.DomainName),
			d.DomainType, boolCol(d.Default), boolCol(d.Initial), timeCol(d.WhenCreated), timeCol(d.WhenChanged))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: put accepted domain %s in tenant %s: %w", d.DomainName, d.TenantID, err)
	}
	return nil
}

func lowerAll(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = lc(s)
	}
	return out
}

// prefixCols qualifies a comma-separated column list with a table alias.
func prefixCols(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// queryRow, query and txExec run a statement prepared once per connection (s.stmt): preparing
// is most of what a small lookup costs SQLite, and the token endpoint makes several per request.
func (s *SQLite) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, cached, err := s.stmt(ctx, query, nil); err == nil && cached {
		return st.QueryRowContext(ctx, args...)
	} else if err == nil {
		st.Close()
	}
	return s.db.QueryRowContext(ctx, query, args...)
}

func (s *SQLite) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, cached, err := s.stmt(ctx, query, nil); err == nil && cached {
		return st.QueryContext(ctx, args...)
	} else if err == nil {
		st.Close()
	}
	return s.db.QueryContext(ctx, query, args...)
}

// prepare puts statements in s.stmt's cache, if they are not there yet and it has room.
func (s *SQLite) prepare(ctx context.Context, queries ...string) {
	for _, q := range queries {
		if st, cached, err := s.stmt(ctx, q, nil); err == nil && !cached {
			st.Close()
		}
	}
}

// txExec runs a write in tx through the statement prepared for query, when there is one; the
// statement is prepared on the database first, outside tx, as s.stmt must.
func (s *SQLite) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	s.stmts.mu.Lock()
	st := s.stmts.m[query]
	s.stmts.mu.Unlock()
	if st == nil {
		return tx.ExecContext(ctx, query, args...)
	}
	return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}
