package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// MemoryPath opens a private in-memory store that vanishes on Close (tests, throwaway emulators).
const MemoryPath = ":memory:"

// SQLite is the embedded Store: one database file in WAL mode, safe for concurrent use.
type SQLite struct {
	db    *sql.DB
	stmts stmts
	lists listGate // ListEach's batch reads at once (objects_sqlite.go)
}

var _ Store = (*SQLite)(nil)

// synchronous is each connection's PRAGMA synchronous: with WAL, NORMAL syncs at checkpoints.
const synchronous = "NORMAL"

// cacheSizeKiB is each connection's page cache, as PRAGMA cache_size takes it (negative: KiB).
const cacheSizeKiB = -65536

// Open opens (creating if needed) the store at path and brings its schema up to date. path is a
// file name, or MemoryPath for a store that lives only as long as the returned value.
func Open(ctx context.Context, path string) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("store: open: empty path")
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+synchronous+")")
	// A page cache that holds a large tenant's indexes, and statement journals in memory:
	// without them bulk writes spend their time spilling pages through syscalls.
	q.Add("_pragma", fmt.Sprintf("cache_size(%d)", cacheSizeKiB))
	q.Add("_pragma", "temp_store(MEMORY)")
	// Writers take the lock when their transaction starts, so two read-then-write
	// transactions never deadlock into SQLITE_BUSY; busy_timeout queues them instead.
	q.Set("_txlock", "immediate")
	memory := path == MemoryPath
	if !memory {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if memory {
		// Every connection would get its own empty database.
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
	}
	s := &SQLite{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := s.prepareObjectStmts(ctx); err != nil {
		s.closeStmts()
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database; data written so far are durable.
func (s *SQLite) Close() error {
	s.closeStmts()
	if _, err := s.db.Exec("PRAGMA optimize"); err != nil {
		s.db.Close()
		return fmt.Errorf("store: close: %w", err)
	}
	return s.db.Close()
}

// Discard closes a database about to be deleted: as Close, without the statistics update
// (PRAGMA optimize) only a database that lives on needs.
func (s *SQLite) Discard() error {
	s.closeStmts()
	return s.db.Close()
}

// Snapshot writes a consistent copy of the database to a new file at path (VACUUM INTO): a
// whole database in one file, with no journal beside it.
func (s *SQLite) Snapshot(ctx context.Context, path string) error {
	if _, err := s.db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("store: snapshot to %s: %w", path, err)
	}
	return nil
}

// migrations are the schema's history: migration i+1 is migrations[i], and PRAGMA user_version
// holds the number of the last one applied. Append; never edit an applied step.
var migrations = []string{
	// 1: directory, Exchange objects, assertion replay cache.
	`
CREATE TABLE tenants (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	name_lc      TEXT NOT NULL UNIQUE,
	display_name TEXT NOT NULL,
	created_at   INTEGER
);

CREATE TABLE apps (
	tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	app_id          TEXT NOT NULL,
	object_id       TEXT NOT NULL,
	display_name    TEXT NOT NULL,
	app_roles       TEXT NOT NULL, -- JSON array
	directory_roles TEXT NOT NULL, -- JSON array of role template ids
	public          INTEGER NOT NULL,
	redirect_uris   TEXT NOT NULL, -- JSON array
	PRIMARY KEY (tenant_id, app_id)
);
CREATE INDEX apps_app_id ON apps(app_id);

CREATE TABLE certificates (
	app_id     TEXT NOT NULL,
	thumbprint TEXT NOT NULL,
	sha256     TEXT NOT NULL,
	der        BLOB NOT NULL,
	not_before INTEGER,
	not_after  INTEGER,
	PRIMARY KEY (app_id, thumbprint)
);

CREATE TABLE users (
	tenant_id          TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	object_id          TEXT NOT NULL,
	upn                TEXT NOT NULL,
	upn_lc             TEXT NOT NULL,
	display_name       TEXT NOT NULL,
	password_hash      TEXT NOT NULL,
	enabled            INTEGER NOT NULL,
	mfa_required       INTEGER NOT NULL,
	totp_secret        TEXT NOT NULL,
	powershell_enabled INTEGER NOT NULL,
	directory_roles    TEXT NOT NULL, -- JSON array of role template ids
	PRIMARY KEY (tenant_id, object_id),
	UNIQUE (tenant_id, upn_lc)
);

CREATE TABLE assertion_ids (
	jti TEXT PRIMARY KEY,
	exp INTEGER NOT NULL
);
CREATE INDEX assertion_ids_exp ON assertion_ids(exp);

CREATE TABLE accepted_domains (
	guid           TEXT PRIMARY KEY,
	tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	name           TEXT NOT NULL,
	domain_name    TEXT NOT NULL,
	domain_name_lc TEXT NOT NULL UNIQUE, -- a domain belongs to one tenant
	domain_type    TEXT NOT NULL,
	is_default     INTEGER NOT NULL,
	is_initial     INTEGER NOT NULL,
	when_created   INTEGER,
	when_changed   INTEGER
);
CREATE INDEX accepted_domains_tenant ON accepted_domains(tenant_id, domain_name_lc);

CREATE TABLE recipients (
	guid                    TEXT PRIMARY KEY,
	tenant_id               TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	external_id             TEXT NOT NULL,
	name                    TEXT NOT NULL,
	name_lc                 TEXT NOT NULL,
	alias                   TEXT NOT NULL,
	alias_lc                TEXT NOT NULL,
	display_name            TEXT NOT NULL,
	first_name              TEXT NOT NULL,
	last_name               TEXT NOT NULL,
	upn                     TEXT NOT NULL,
	upn_lc                  TEXT NOT NULL,
	primary_smtp            TEXT NOT NULL,
	email_addresses         TEXT NOT NULL, -- JSON array, in order; lookups use recipient_addresses
	dn_lc                   TEXT NOT NULL, -- Extra["DistinguishedName"], lower case; found through name_lc
	type                    TEXT NOT NULL,
	type_details            TEXT NOT NULL,
	type_details_lc         TEXT NOT NULL,
	database_name           TEXT NOT NULL,
	prohibit_send_quota     INTEGER NOT NULL,
	prohibit_send_receive   INTEGER NOT NULL,
	issue_warning_quota     INTEGER NOT NULL,
	hidden_from_addr_lists  INTEGER NOT NULL,
	when_created            INTEGER,
	when_changed            INTEGER,
	extra                   TEXT NOT NULL -- JSON object of further PowerShell properties
);
CREATE INDEX recipients_page ON recipients(tenant_id, name_lc, guid);
CREATE INDEX recipients_type_page ON recipients(tenant_id, type_details_lc, name_lc, guid);
CREATE INDEX recipients_alias ON recipients(tenant_id, alias_lc);
CREATE INDEX recipients_upn ON recipients(tenant_id, upn_lc);
CREATE INDEX recipients_external_id ON recipients(tenant_id, external_id);

CREATE TABLE recipient_addresses (
	tenant_id  TEXT NOT NULL,
	address_lc TEXT NOT NULL, -- without its smtp:/x500:... prefix
	guid       TEXT NOT NULL REFERENCES recipients(guid) ON DELETE CASCADE,
	PRIMARY KEY (tenant_id, address_lc, guid)
) WITHOUT ROWID;
CREATE INDEX recipient_addresses_guid ON recipient_addresses(guid);
`,
	// 2: partner directory: groups, partner relationships (DAP, GDAP), guest links.
	partnersMigration,
	// 3: generic objects (objects_sqlite.go), first shape.
	migrationObjects,
	// 4: generic objects with numbered key and reference rows.
	migrationObjectKeys,
}

// migrate applies, each in its own transaction, the migrations the database has not seen.
func (s *SQLite) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this exoctl knows (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			// Re-read inside the write lock: another process may have migrated meanwhile.
			var v int
			if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
				return err
			}
			if v > i {
				return nil
			}
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *SQLite) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Column encodings.

func lc(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// normGUID returns a GUID in its canonical lower-case form, or "" when s is not one.
func normGUID(s string) string {
	u, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil {
		return ""
	}
	return u.String()
}

// idOrNew returns id as a canonical GUID if it is one, id lower-cased otherwise, or a new GUID
// when it is empty.
func idOrNew(id string) string {
	if strings.TrimSpace(id) == "" {
		return uuid.NewString()
	}
	if g := normGUID(id); g != "" {
		return g
	}
	return lc(id)
}

func timeCol(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func colTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.Unix(0, v.Int64).UTC()
}

func boolCol(b bool) int {
	if b {
		return 1
	}
	return 0
}

func jsonCol(v any) (string, error) {
	switch x := v.(type) {
	case []string:
		if x == nil {
			return "[]", nil
		}
	case map[string]any:
		if x == nil {
			return "{}", nil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func colStrings(s string) ([]string, error) {
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

// notFound wraps ErrNotFound naming what was looked up.
func notFound(what string, key ...string) error {
	return fmt.Errorf("store: %s %s: %w", what, strings.Join(key, "/"), ErrNotFound)
}
