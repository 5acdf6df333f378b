package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// migrationObjects was the first shape of the object tables; migrationObjectKeys replaced it.
const migrationObjects = `
CREATE TABLE objects (
	tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE, id TEXT NOT NULL, type TEXT NOT NULL,
	name TEXT NOT NULL, name_lc TEXT NOT NULL, props TEXT NOT NULL, keys TEXT NOT NULL, refs TEXT NOT NULL,
	version INTEGER NOT NULL, when_created INTEGER NOT NULL, when_changed INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX objects_page ON objects(tenant_id, type, name_lc, id);
CREATE TABLE object_keys (
	tenant_id TEXT NOT NULL, value_lc TEXT NOT NULL, space TEXT NOT NULL, id TEXT NOT NULL,
	PRIMARY KEY (tenant_id, value_lc, space),
	FOREIGN KEY (tenant_id, id) REFERENCES objects(tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX object_keys_owner ON object_keys(tenant_id, id);
CREATE TABLE object_refs (
	tenant_id TEXT NOT NULL, from_id TEXT NOT NULL, name TEXT NOT NULL, to_id TEXT NOT NULL, cascade INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, from_id, name, to_id),
	FOREIGN KEY (tenant_id, from_id) REFERENCES objects(tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, to_id) REFERENCES objects(tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX object_refs_to ON object_refs(tenant_id, to_id, name);
`

// migrationObjectKeys is the generic object contract's schema: objects, their unique keys and
// their references. Keys and Refs are kept twice: as JSON on the object (read with it, in the
// caller's case and order) and as rows the database indexes and checks. Those rows name
// objects, tenants and key spaces by number: a large tenant has several keys per object, and
// short rows are what makes loading and checking them fast.
const migrationObjectKeys = `
DROP TABLE object_refs;
DROP TABLE object_keys;
DROP TABLE objects;

CREATE TABLE objects (
	n            INTEGER PRIMARY KEY,
	tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	id           TEXT NOT NULL,
	type         TEXT NOT NULL,
	name         TEXT NOT NULL,
	name_lc      TEXT NOT NULL,
	props        TEXT NOT NULL, -- JSON object
	keys         TEXT NOT NULL, -- JSON array: space, value, space, value, ...
	refs         TEXT NOT NULL, -- JSON array: name, id, "1" (cascade) or "0", ...
	version      INTEGER NOT NULL,
	when_created INTEGER NOT NULL,
	when_changed INTEGER NOT NULL,
	UNIQUE (tenant_id, id)
);
CREATE INDEX objects_page ON objects(tenant_id, type, name_lc, id);

CREATE TABLE object_tenants (
	n  INTEGER PRIMARY KEY,
	id TEXT NOT NULL UNIQUE REFERENCES tenants(id) ON DELETE CASCADE
);

CREATE TABLE object_spaces (
	n    INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
);

CREATE TABLE object_keys (
	tenant   INTEGER NOT NULL REFERENCES object_tenants(n) ON DELETE CASCADE,
	value_lc TEXT NOT NULL,
	space    INTEGER NOT NULL REFERENCES object_spaces(n),
	obj      INTEGER NOT NULL REFERENCES objects(n) ON DELETE CASCADE,
	PRIMARY KEY (tenant, value_lc, space)
) WITHOUT ROWID;
CREATE INDEX object_keys_owner ON object_keys(obj);

CREATE TABLE object_refs (
	from_obj INTEGER NOT NULL REFERENCES objects(n) ON DELETE CASCADE,
	name     TEXT NOT NULL,
	to_obj   INTEGER NOT NULL REFERENCES objects(n) ON DELETE CASCADE,
	cascade  INTEGER NOT NULL,
	PRIMARY KEY (from_obj, name, to_obj)
) WITHOUT ROWID;
CREATE INDEX object_refs_to ON object_refs(to_obj, name);
`

// objectIndexes are the object tables' secondary indexes exactly as migrationObjectKeys
// creates them: a bulk load into empty tables builds them after the rows are in.
var objectIndexes = []struct{ name, sql string }{
	{"objects_page", `CREATE INDEX objects_page ON objects(tenant_id, type, name_lc, id)`},
	{"object_keys_owner", `CREATE INDEX object_keys_owner ON object_keys(obj)`},
	{"object_refs_to", `CREATE INDEX object_refs_to ON object_refs(to_obj, name)`},
}

var _ ObjectStore = (*SQLite)(nil)

const objectCols = `o.tenant_id, o.id, o.type, o.name, o.props, o.keys, o.refs, o.version, o.when_created, o.when_changed`

// stmts caches prepared statements by their SQL text: preparing is a good part of a small
// query's cost. Queries whose text depends on a filter share the cache up to its bound.
type stmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

const maxCachedStmts = 256

func (s *SQLite) stmt(ctx context.Context, query string, tx *sql.Tx) (st *sql.Stmt, cached bool, err error) {
	s.stmts.mu.Lock()
	st, full := s.stmts.m[query], len(s.stmts.m) >= maxCachedStmts
	s.stmts.mu.Unlock()
	if st != nil {
		return st, true, nil
	}
	// Never prepare while holding the lock: preparing on the database waits for a connection,
	// and the transaction holding the last one may be waiting for the lock.
	if tx != nil {
		// Preparing on the database would wait for a connection the transaction may hold (an
		// in-memory store has one): prepare on the transaction, once.
		st, err = tx.PrepareContext(ctx, query)
		return st, false, err
	}
	if st, err = s.db.PrepareContext(ctx, query); err != nil || full {
		return st, false, err
	}
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if other := s.stmts.m[query]; other != nil {
		st.Close()
		return other, true, nil
	}
	if s.stmts.m == nil {
		s.stmts.m = map[string]*sql.Stmt{}
	}
	s.stmts.m[query] = st
	return st, true, nil
}

// prepareObjectStmts prepares the object operations' fixed statements, so that those used
// inside transactions are cached too.
func (s *SQLite) prepareObjectStmts(ctx context.Context) error {
	for _, q := range []string{insertObjectSQL, insertTenantNumSQL, insertSpaceNumsSQL, insertKeySQL, insertRefSQL, keyHolderSQL, getObjectSQL,
		updateObjectSQL, deleteKeySQL, deleteRefSQL, doomedSQL, referrersSQL, deleteObjectsSQL} {
		if _, _, err := s.stmt(ctx, q, nil); err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
	}
	return nil
}

func (s *SQLite) closeStmts() {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	for _, st := range s.stmts.m {
		st.Close()
	}
	s.stmts.m = nil
}

// objects runs the Objects operations on the database, or inside one transaction.
type objects struct {
	s  *SQLite
	tx *sql.Tx // nil: each operation on its own
}

// run runs one statement-level function with a prepared statement for query, bound to the
// transaction when there is one.
func (q objects) with(ctx context.Context, query string, fn func(*sql.Stmt) error) error {
	st, cached, err := q.s.stmt(ctx, query, q.tx)
	if err != nil {
		return err
	}
	if !cached {
		defer st.Close()
	} else if q.tx != nil {
		st = q.tx.StmtContext(ctx, st)
		defer st.Close()
	}
	return fn(st)
}

// strings runs a query of one text column.
func (q objects) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	var out []string
	err := q.with(ctx, query, func(st *sql.Stmt) error {
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}

func (q objects) exec(ctx context.Context, query string, args ...any) (n int64, err error) {
	err = q.with(ctx, query, func(st *sql.Stmt) error {
		res, err := st.ExecContext(ctx, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// write runs fn in q's transaction, or in a new one when q has none.
func (q objects) write(ctx context.Context, fn func(objects) error) error {
	if q.tx != nil {
		return fn(q)
	}
	return q.s.inTx(ctx, func(tx *sql.Tx) error { return fn(objects{s: q.s, tx: tx}) })
}

// Tx runs fn in one transaction; see ObjectStore.
func (s *SQLite) Tx(ctx context.Context, fn func(tx Objects) error) error {
	var fnErr error
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		fnErr = fn(objects{s: s, tx: tx})
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return dbError("transaction", err)
	}
	return nil
}

func (s *SQLite) Create(ctx context.Context, o Object) (Object, error) {
	return objects{s: s}.Create(ctx, o)
}

func (s *SQLite) Get(ctx context.Context, tenantID, id string) (Object, error) {
	return objects{s: s}.Get(ctx, tenantID, id)
}

func (s *SQLite) Resolve(ctx context.Context, tenantID string, types, spaces []string, value string) ([]Object, error) {
	return objects{s: s}.Resolve(ctx, tenantID, types, spaces, value)
}

func (s *SQLite) List(ctx context.Context, q ListQuery) ([]Object, string, error) {
	return objects{s: s}.List(ctx, q)
}

func (s *SQLite) ListEach(ctx context.Context, q ListQuery, start func(next string) error, fn func(*Object) error) error {
	return objects{s: s}.ListEach(ctx, q, start, fn)
}

func (s *SQLite) Count(ctx context.Context, q ListQuery) (int, error) {
	return objects{s: s}.Count(ctx, q)
}

func (s *SQLite) Update(ctx context.Context, tenantID, id string, fn func(*Object) error) (Object, error) {
	return objects{s: s}.Update(ctx, tenantID, id, fn)
}

func (s *SQLite) Delete(ctx context.Context, tenantID, id string) error {
	return objects{s: s}.Delete(ctx, tenantID, id)
}

// Errors.

// sqliteError is what modernc.org/sqlite's errors give.
type sqliteError interface{ Code() int }

// SQLite extended result codes.
const (
	sqliteConstraintForeignKey = 787
)

func sqliteCode(err error) int {
	var e sqliteError
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// dbFailure marks an error as the database's (ErrDatabase) keeping its text for the log.
type dbFailure struct{ err error }

func (e *dbFailure) Error() string { return e.err.Error() }
func (e *dbFailure) Unwrap() []error {
	return []error{ErrDatabase, e.err}
}

func dbError(op string, err error) error {
	var f *dbFailure
	if errors.As(err, &f) {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	return fmt.Errorf("store: %s: %w", op, &dbFailure{err})
}

// isDBError reports whether err is not one of the contract's own errors.
func isDBError(err error) bool {
	for _, e := range []error{ErrNotFound, ErrAlreadyExists, ErrInvalid, ErrAmbiguous, ErrBadCursor, ErrDatabase, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, e) {
			return false
		}
	}
	return true
}

// Encoding.

// objectRow is an Object encoded as the objects table's columns.
type objectRow struct {
	tenantID, id, typ, name, nameLC string
	props, keys, refs               string
	keyRows                         []keyRow
	refRows                         []Ref
	version                         int64
	created, changed                int64
}

type keyRow struct{ space, valueLC string }

// tenantKey is the tenant id as the tables hold it.
func tenantKey(tenantID string) (string, error) {
	if g := normGUID(tenantID); g != "" {
		return g, nil
	}
	return "", fmt.Errorf("store: tenant id %q is not a GUID: %w", tenantID, ErrInvalid)
}

// encodeObject checks o and encodes it. now fills missing times.
func encodeObject(o *Object, now time.Time) (objectRow, error) {
	var r objectRow
	var err error
	if r.tenantID, err = tenantKey(o.TenantID); err != nil {
		return r, err
	}
	if o.Type == "" {
		return r, fmt.Errorf("store: object %q: empty Type: %w", o.Name, ErrInvalid)
	}
	if o.ID == "" {
		o.ID = uuid.NewString()
	}
	if r.id = normGUID(o.ID); r.id == "" {
		return r, fmt.Errorf("store: %s %q: ID %q is not a GUID: %w", o.Type, o.Name, o.ID, ErrInvalid)
	}
	o.TenantID, o.ID = r.tenantID, r.id
	r.typ, r.name, r.nameLC = o.Type, o.Name, strings.ToLower(o.Name)
	if o.WhenCreated.IsZero() {
		o.WhenCreated = now
	}
	if o.WhenChanged.IsZero() {
		o.WhenChanged = o.WhenCreated
	}
	o.WhenCreated, o.WhenChanged = o.WhenCreated.UTC(), o.WhenChanged.UTC()
	r.created, r.changed, r.version = o.WhenCreated.UnixNano(), o.WhenChanged.UnixNano(), o.Version

	buf := make([]byte, 0, 512)
	if o.Props == nil {
		buf = append(buf, "{}"...)
	} else if buf, err = appendJSON(buf, o.Props); err != nil {
		return r, fmt.Errorf("store: %s %q: properties: %v: %w", o.Type, o.Name, err, ErrInvalid)
	}
	propsEnd := len(buf)

	// Keys: one per (Space, lower-case value), the first spelling kept.
	seen := make(map[keyRow]bool, len(o.Keys))
	keys := o.Keys[:0:0]
	for _, k := range o.Keys {
		if k.Space == "" || k.Space == SpaceID || k.Value == "" {
			return r, fmt.Errorf("store: %s %q: key %q %q: a key needs a Space other than %s and a Value: %w", o.Type, o.Name, k.Space, k.Value, SpaceID, ErrInvalid)
		}
		kr := keyRow{k.Space, keyLC(k.Value)}
		if seen[kr] {
			continue
		}
		seen[kr] = true
		keys = append(keys, k)
		r.keyRows = append(r.keyRows, kr)
	}
	o.Keys = keys
	buf = append(buf, '[')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, k.Space)
		buf = append(buf, ',')
		buf = appendJSONString(buf, k.Value)
	}
	buf = append(buf, ']')
	keysEnd := len(buf)

	refs := o.Refs[:0:0]
	type refKey struct{ name, id string }
	seenRef := make(map[refKey]bool, len(o.Refs))
	for _, ref := range o.Refs {
		id := normGUID(ref.ID)
		if id == "" || ref.Name == "" {
			return r, fmt.Errorf("store: %s %q: reference %q to %q: a reference needs a Name and an object GUID: %w", o.Type, o.Name, ref.Name, ref.ID, ErrInvalid)
		}
		ref.ID = id
		if seenRef[refKey{ref.Name, id}] {
			continue
		}
		seenRef[refKey{ref.Name, id}] = true
		refs = append(refs, ref)
	}
	o.Refs = refs
	r.refRows = refs
	buf = append(buf, '[')
	for i, ref := range refs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, ref.Name)
		buf = append(buf, ',')
		buf = appendJSONString(buf, ref.ID)
		if ref.Cascade {
			buf = append(buf, `,"1"`...)
		} else {
			buf = append(buf, `,"0"`...)
		}
	}
	buf = append(buf, ']')
	all := string(buf)
	r.props, r.keys, r.refs = all[:propsEnd], all[propsEnd:keysEnd], all[keysEnd:]
	return r, nil
}

// objectRawCols are what ListEach reads of an object: no keys or references, the properties as
// they are stored (scanRawObject).
const objectRawCols = `o.id, o.type, o.name, o.props, o.version, o.when_created, o.when_changed`

// scanRawObject reads a row of objectRawCols and the sort key after them.
func scanRawObject(row interface{ Scan(...any) error }, tenantID string, sortKey *any) (Object, error) {
	o := Object{TenantID: tenantID}
	var created, changed int64
	if err := row.Scan(&o.ID, &o.Type, &o.Name, &o.RawProps, &o.Version, &created, &changed, sortKey); err != nil {
		return Object{}, err
	}
	o.WhenCreated, o.WhenChanged = time.Unix(0, created).UTC(), time.Unix(0, changed).UTC()
	return o, nil
}

// scanObject reads a row of objectCols (and, when sortKey is not nil, the sort key after them);
// keepRaw keeps the properties' JSON text too (RawProps).
func scanObject(row interface{ Scan(...any) error }, in interner, sortKey *any, keepRaw bool) (Object, error) {
	var o Object
	var props, keys, refs string
	var created, changed int64
	dest := []any{&o.TenantID, &o.ID, &o.Type, &o.Name, &props, &keys, &refs, &o.Version, &created, &changed}
	if sortKey != nil {
		dest = append(dest, sortKey)
	}
	if err := row.Scan(dest...); err != nil {
		return Object{}, err
	}
	o.WhenCreated, o.WhenChanged = time.Unix(0, created).UTC(), time.Unix(0, changed).UTC()
	var err error
	if o.Props, err = decodeProps(props, in); err != nil {
		return Object{}, fmt.Errorf("properties of %s %s: %w", o.Type, o.ID, err)
	}
	if keepRaw {
		o.RawProps = props
	}
	if keys != "[]" {
		ks, err := decodeStrings(keys, in)
		if err != nil || len(ks)%2 != 0 {
			return Object{}, fmt.Errorf("keys of %s %s: %v", o.Type, o.ID, err)
		}
		o.Keys = make([]Key, 0, len(ks)/2)
		for i := 0; i < len(ks); i += 2 {
			o.Keys = append(o.Keys, Key{Space: ks[i], Value: ks[i+1]})
		}
	}
	if refs != "[]" {
		rs, err := decodeStrings(refs, in)
		if err != nil || len(rs)%3 != 0 {
			return Object{}, fmt.Errorf("references of %s %s: %v", o.Type, o.ID, err)
		}
		o.Refs = make([]Ref, 0, len(rs)/3)
		for i := 0; i < len(rs); i += 3 {
			o.Refs = append(o.Refs, Ref{Name: rs[i], ID: rs[i+1], Cascade: rs[i+2] == "1"})
		}
	}
	return o, nil
}

// Operations.

func (q objects) Create(ctx context.Context, o Object) (Object, error) {
	o.Version = 1
	row, err := encodeObject(&o, time.Now())
	if err != nil {
		return Object{}, err
	}
	err = q.write(ctx, func(q objects) error { return q.insert(ctx, row) })
	if err != nil {
		if isDBError(err) {
			return Object{}, dbError(fmt.Sprintf("create %s %q", o.Type, o.Name), err)
		}
		return Object{}, err
	}
	return o, nil
}

const insertObjectSQL = `INSERT INTO objects (tenant_id, id, type, name, name_lc, props, keys, refs, version, when_created, when_changed)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`

// insert writes a new object's row, keys and references.
func (q objects) insert(ctx context.Context, r objectRow) error {
	n, err := q.exec(ctx, insertObjectSQL, r.tenantID, r.id, r.typ, r.name, r.nameLC, r.props, r.keys, r.refs, r.version, r.created, r.changed)
	if sqliteCode(err) == sqliteConstraintForeignKey {
		return notFound("tenant", r.tenantID)
	}
	if err != nil {
		return err
	}
	if len(r.keyRows) > 0 {
		if err := q.numberKeys(ctx, r); err != nil {
			return err
		}
	}
	if n == 0 {
		holder, err := q.Get(ctx, r.tenantID, r.id)
		if err != nil {
			return err
		}
		return &KeyConflictError{Key: Key{Space: SpaceID, Value: r.id}, ID: holder.ID, Type: holder.Type, Name: holder.Name}
	}
	for _, k := range r.keyRows {
		if err := q.insertKey(ctx, r.tenantID, r.id, k); err != nil {
			return err
		}
	}
	for _, ref := range r.refRows {
		if err := q.insertRef(ctx, r.tenantID, r.id, ref); err != nil {
			return err
		}
	}
	return nil
}

// The numbers of a tenant, a key space and an object, as key and reference rows name them.
const (
	tenantNumSQL = `(SELECT n FROM object_tenants WHERE id = ?)`
	spaceNumSQL  = `(SELECT n FROM object_spaces WHERE name = ?)`
	objectNumSQL = `(SELECT n FROM objects WHERE tenant_id = ? AND id = ?)`
)

const (
	insertTenantNumSQL = `INSERT INTO object_tenants (id) VALUES (?) ON CONFLICT DO NOTHING`
	insertSpaceNumsSQL = `INSERT INTO object_spaces (name) SELECT value FROM json_each(?) WHERE true ON CONFLICT DO NOTHING`
	insertKeySQL       = `INSERT INTO object_keys (tenant, value_lc, space, obj) VALUES (` + tenantNumSQL + `, ?, ` + spaceNumSQL + `, ` + objectNumSQL + `) ON CONFLICT DO NOTHING`
	keyHolderSQL       = `SELECT o.id, o.type, o.name, o.keys FROM object_keys k JOIN objects o ON o.n = k.obj
		WHERE k.tenant = ` + tenantNumSQL + ` AND k.value_lc = ? AND k.space = ` + spaceNumSQL
)

// numberKeys gives r's tenant and key spaces their numbers, if they have none yet.
func (q objects) numberKeys(ctx context.Context, r objectRow) error {
	if _, err := q.exec(ctx, insertTenantNumSQL, r.tenantID); err != nil {
		return err
	}
	spaces := make([]string, 0, len(r.keyRows))
	for _, k := range r.keyRows {
		if !slices.Contains(spaces, k.space) {
			spaces = append(spaces, k.space)
		}
	}
	_, err := q.exec(ctx, insertSpaceNumsSQL, jsonList(spaces))
	return err
}

// insertKey adds a key of object id; a key another object holds is a *KeyConflictError.
func (q objects) insertKey(ctx context.Context, tenantID, id string, k keyRow) error {
	n, err := q.exec(ctx, insertKeySQL, tenantID, k.valueLC, k.space, tenantID, id)
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	// The database refused it: say who holds it.
	var holderID, typ, name, keys string
	err = q.with(ctx, keyHolderSQL, func(st *sql.Stmt) error {
		return st.QueryRowContext(ctx, tenantID, k.valueLC, k.space).Scan(&holderID, &typ, &name, &keys)
	})
	if err != nil {
		return err
	}
	value := k.valueLC
	if ks, err := decodeStrings(keys, nil); err == nil {
		for i := 0; i+1 < len(ks); i += 2 {
			if ks[i] == k.space && keyLC(ks[i+1]) == k.valueLC {
				value = ks[i+1]
			}
		}
	}
	return &KeyConflictError{Key: Key{Space: k.space, Value: value}, ID: holderID, Type: typ, Name: name}
}

// insertRefSQL adds a reference between two objects of one tenant: none when the referenced
// object is not the tenant's.
const insertRefSQL = `INSERT INTO object_refs (from_obj, name, to_obj, cascade)
	SELECT f.n, ?3, t.n, ?4 FROM objects f, objects t WHERE f.tenant_id = ?1 AND f.id = ?2 AND t.tenant_id = ?1 AND t.id = ?5
	ON CONFLICT DO NOTHING`

func (q objects) insertRef(ctx context.Context, tenantID, id string, ref Ref) error {
	n, err := q.exec(ctx, insertRefSQL, tenantID, id, ref.Name, boolCol(ref.Cascade), ref.ID)
	if err == nil && n == 0 {
		return fmt.Errorf("store: reference %s to object %s: %w", ref.Name, ref.ID, ErrNotFound)
	}
	return err
}

const getObjectSQL = `SELECT ` + objectCols + ` FROM objects o WHERE o.tenant_id = ? AND o.id = ?`

func (q objects) Get(ctx context.Context, tenantID, id string) (Object, error) {
	tid, gid := normGUID(tenantID), normGUID(id)
	if tid == "" || gid == "" {
		return Object{}, notFound("object", id)
	}
	var o Object
	err := q.with(ctx, getObjectSQL, func(st *sql.Stmt) error {
		var err error
		o, err = scanObject(st.QueryRowContext(ctx, tid, gid), nil, nil, false)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Object{}, notFound("object", id)
	}
	if err != nil {
		return Object{}, dbError("object "+id, err)
	}
	return o, nil
}

// jsonList encodes strings as a JSON array for json_each: one SQL variable for any number.
func jsonList(vs []string) string {
	b, _ := appendJSON(nil, vs)
	return string(b)
}

func (q objects) Resolve(ctx context.Context, tenantID string, types, spaces []string, value string) ([]Object, error) {
	tid := normGUID(tenantID)
	if tid == "" || value == "" {
		return nil, nil
	}
	var sub []string
	args := []any{tid}
	byID := len(spaces) == 0 || slices.Contains(spaces, SpaceID)
	if id := normGUID(value); byID && id != "" {
		sub = append(sub, `SELECT n FROM objects WHERE tenant_id = ?1 AND id = ?`)
		args = append(args, id)
	}
	stored := slices.DeleteFunc(slices.Clone(spaces), func(s string) bool { return s == SpaceID })
	switch {
	case len(spaces) == 0:
		sub = append(sub, `SELECT obj FROM object_keys WHERE tenant = (SELECT n FROM object_tenants WHERE id = ?1) AND value_lc = ?`)
		args = append(args, keyLC(value))
	case len(stored) > 0:
		sub = append(sub, `SELECT obj FROM object_keys WHERE tenant = (SELECT n FROM object_tenants WHERE id = ?1) AND value_lc = ?
			AND space IN (SELECT n FROM object_spaces WHERE name IN (SELECT value FROM json_each(?)))`)
		args = append(args, keyLC(value), jsonList(stored))
	}
	if len(sub) == 0 {
		return nil, nil
	}
	query := `SELECT ` + objectCols + ` FROM objects o WHERE o.tenant_id = ?1 AND o.n IN (` + strings.Join(sub, ` UNION `) + `)`
	if len(types) > 0 {
		query += ` AND o.type IN (SELECT value FROM json_each(?))`
		args = append(args, jsonList(types))
	}
	query += ` ORDER BY o.name_lc, o.id`
	var found []Object
	err := q.with(ctx, query, func(st *sql.Stmt) error {
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			o, err := scanObject(rows, nil, nil, false)
			if err != nil {
				return err
			}
			found = append(found, o)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, dbError(fmt.Sprintf("resolve %q", value), err)
	}
	return found, nil
}

// column is how Filter.SQL and OrderBy address an object's fields and properties.
func column(prop string) (string, bool) {
	switch prop {
	case FieldName:
		return "o.name", true
	case FieldID:
		return "o.id", true
	case FieldType:
		return "o.type", true
	case FieldWhenCreated:
		return timeText("o.when_created"), true
	case FieldWhenChanged:
		return timeText("o.when_changed"), true
	case "":
		return "", false
	}
	if !propName(prop) {
		return "", false
	}
	return `json_extract(o.props, ` + sqlString(`$."`+prop+`"`) + `)`, true
}

// propName reports whether a property can be addressed in SQL: a JSON path label holds no
// double quote, and an SQL literal no control bytes. PowerShell property names are words.
func propName(prop string) bool {
	return prop != "" && !strings.ContainsFunc(prop, func(r rune) bool { return r == '"' || r < 0x20 || r == 0x7f })
}

// timeText renders a column of Unix nanoseconds as fixed-width UTC text to the millisecond,
// the form opath compares dates in.
func timeText(col string) string {
	return `(strftime('%Y-%m-%dT%H:%M:%S', ` + col + ` / 1000000000, 'unixepoch') || printf('.%03dZ', (` + col + ` / 1000000) % 1000))`
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sortKey is the SQL expression List orders by.
func sortKey(orderBy string) (string, error) {
	switch orderBy {
	case "", FieldName:
		return "o.name_lc", nil
	case FieldID:
		return "o.id", nil
	case FieldType:
		return "o.type", nil
	case FieldWhenCreated:
		return "o.when_created", nil
	case FieldWhenChanged:
		return "o.when_changed", nil
	}
	if strings.HasPrefix(orderBy, "@") {
		return "", fmt.Errorf("store: cannot order by %q: %w", orderBy, ErrInvalid)
	}
	c, ok := column(orderBy)
	if !ok {
		return "", fmt.Errorf("store: cannot order by %q: %w", orderBy, ErrInvalid)
	}
	return c + ` COLLATE NOCASE`, nil
}

// listSQL is the query of q without cursor, order and limit: its WHERE clause and arguments,
// and whether Filter was pushed down.
func listWhere(q ListQuery) (where string, args []any, pushed bool, err error) {
	tid, err := tenantKey(q.TenantID)
	if err != nil {
		return "", nil, false, err
	}
	var b strings.Builder
	b.WriteString(`o.tenant_id = ?`)
	args = []any{tid}
	switch len(q.Types) {
	case 0:
	case 1:
		b.WriteString(` AND o.type = ?`)
		args = append(args, q.Types[0])
	default:
		b.WriteString(` AND o.type IN (SELECT value FROM json_each(?))`)
		args = append(args, jsonList(q.Types))
	}
	for _, in := range q.In {
		c, ok := column(in.Prop)
		if !ok || strings.HasPrefix(in.Prop, "@") {
			return "", nil, false, fmt.Errorf("store: In: property %q: %w", in.Prop, ErrInvalid)
		}
		b.WriteString(` AND ` + c + ` COLLATE NOCASE IN (SELECT value FROM json_each(?))`)
		args = append(args, jsonList(in.Values))
	}
	if r := q.RefersTo; r != nil {
		id := normGUID(r.ID)
		if id == "" {
			b.WriteString(` AND 0`)
		} else if r.Name == "" {
			b.WriteString(` AND o.n IN (SELECT from_obj FROM object_refs WHERE to_obj = ` + objectNumSQL + `)`)
			args = append(args, tid, id)
		} else {
			b.WriteString(` AND o.n IN (SELECT from_obj FROM object_refs WHERE to_obj = ` + objectNumSQL + ` AND name = ?)`)
			args = append(args, tid, id, r.Name)
		}
	}
	if f := q.Filter; f != nil && f.SQL != nil {
		if w, a, ok := f.SQL(column); ok && w != "" {
			b.WriteString(` AND (` + w + `)`)
			args = append(args, a...)
			pushed = true
		}
	}
	if f := q.Filter; f != nil && f.Match == nil && !pushed {
		return "", nil, false, fmt.Errorf("store: a filter without Match that cannot be pushed down: %w", ErrInvalid)
	}
	return b.String(), args, pushed || q.Filter == nil, nil
}

// cursor is a page's last sort key and ID.
type cursor struct {
	Key any    `json:"k"`
	ID  string `json:"i"`
}

func encodeObjectCursor(key any, id string) string {
	b, _ := json.Marshal(cursor{key, id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeObjectCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, ErrBadCursor
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var c cursor
	if err := dec.Decode(&c); err != nil || normGUID(c.ID) == "" {
		return cursor{}, ErrBadCursor
	}
	switch k := c.Key.(type) {
	case json.Number:
		c.Key = intsFromNumbers(k)
	case nil, string:
	default:
		return cursor{}, ErrBadCursor
	}
	return c, nil
}

func (q objects) List(ctx context.Context, lq ListQuery) ([]Object, string, error) {
	return q.list(ctx, lq, false, nil)
}

// eachBatch is how many objects ListEach reads at a time: few enough that many pages in
// flight hold little memory, enough that a page of 1000 takes only twenty queries.
const eachBatch = 50

// ListEach finds where the page ends with a query of sort keys alone (the index answers it
// for most orders), then reads the page batch by batch up to that end, the next batch while
// fn takes the objects of the last (one at a time inside a transaction, which has one
// connection). A page whose filter the database cannot run is read whole first, as List
// reads it.
func (q objects) ListEach(ctx context.Context, lq ListQuery, start func(next string) error, fn func(*Object) error) error {
	var until *cursor
	next := ""
	if lq.Limit > 0 {
		end, n, pushed, err := q.pageEnd(ctx, lq)
		if err != nil {
			return err
		}
		if !pushed {
			page, next, err := q.list(ctx, lq, true, nil)
			if err != nil {
				return err
			}
			if err := start(next); err != nil {
				return err
			}
			for i := range page {
				if err := fn(&page[i]); err != nil {
					return err
				}
			}
			return nil
		}
		until, next = end, n // no end: the page is not full, and what the batches find is all
	}
	type batch struct {
		objs []Object
		next string
		err  error
	}
	// A page that is not full ends after lq.Limit objects all the same, when objects are
	// created meanwhile.
	capped, left := lq.Limit > 0 && until == nil, lq.Limit
	size := func() int {
		if capped {
			return min(eachBatch, left)
		}
		return eachBatch
	}
	read := func(after string, limit int) batch {
		bq := lq
		bq.After, bq.Limit = after, limit
		if q.tx == nil {
			if err := q.s.lists.enter(ctx); err != nil {
				return batch{err: err}
			}
			defer q.s.lists.leave()
		}
		objs, next, err := q.list(ctx, bq, true, until)
		return batch{objs, next, err}
	}
	cur := read(lq.After, size())
	if cur.err != nil {
		return cur.err
	}
	if err := start(next); err != nil {
		return err
	}
	for {
		if cur.err != nil {
			return cur.err
		}
		left -= len(cur.objs)
		more := cur.next != "" && (!capped || left > 0)
		var ahead chan batch
		if more && q.tx == nil {
			ahead = make(chan batch, 1)
			go func(after string, limit int) { ahead <- read(after, limit) }(cur.next, size())
		}
		for i := range cur.objs {
			if err := fn(&cur.objs[i]); err != nil {
				if ahead != nil {
					<-ahead // nothing of the listing outlives it
				}
				return err
			}
		}
		switch {
		case !more:
			return nil
		case ahead != nil:
			cur = <-ahead
		default:
			cur = read(cur.next, size())
		}
	}
}

// pageEnd finds the last object of a full page lq selects and the cursor of the next page,
// reading the sort keys of that object and the one after it alone (the database skips the
// rest). end nil: the page holds fewer than lq.Limit objects, and none follow. pushed false
// means the filter cannot run in the database: nothing was read.
func (q objects) pageEnd(ctx context.Context, lq ListQuery) (end *cursor, next string, pushed bool, err error) {
	query, args, pushed, err := listSQL(lq, `o.id`, nil)
	if err != nil || !pushed {
		return nil, "", pushed, err
	}
	// listSQL ends with LIMIT ? (lq.Limit+1): the last two of those rows instead.
	query += ` OFFSET ?`
	args[len(args)-1] = 2
	args = append(args, lq.Limit-1)
	n := 0
	err = q.with(ctx, query, func(st *sql.Stmt) error {
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var k any
			if err := rows.Scan(&id, &k); err != nil {
				return err
			}
			if n++; n == 2 {
				next = encodeObjectCursor(end.Key, end.ID)
				break
			}
			if b, ok := k.([]byte); ok {
				k = string(b)
			}
			end = &cursor{Key: k, ID: id}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", true, dbError("list objects of tenant "+lq.TenantID, err)
	}
	return end, next, true, nil
}

// listReaders is how many ListEach batches are read from the database at once. Each
// connection keeps its own cache of the pages it read, so pages read by every connection in
// turn are cached eight times over (measured: 64 clients fetching the same 1000-mailbox page
// took the emulator to 127 MiB, two readers at a time to 91-101 MiB, as many pages per
// second). A batch takes a millisecond or two and holds its place only while it is read,
// never while a client is being written to.
const listReaders = 2

// listGate lets listReaders batch reads run at once; its zero value is ready.
type listGate struct {
	once sync.Once
	ch   chan struct{}
}

func (g *listGate) enter(ctx context.Context) error {
	g.once.Do(func() { g.ch = make(chan struct{}, listReaders) })
	select {
	case g.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *listGate) leave() { <-g.ch }

// listSQL is the query of a page of lq: cols and the sort key of each object, in order, from
// lq.After up to until (included) when it is not nil, with one more than lq.Limit when the
// filter is pushed down (pushed).
func listSQL(lq ListQuery, cols string, until *cursor) (query string, args []any, pushed bool, err error) {
	where, args, pushed, err := listWhere(lq)
	if err != nil {
		return "", nil, false, err
	}
	key, err := sortKey(lq.OrderBy)
	if err != nil {
		return "", nil, false, err
	}
	nullable := key != "o.name_lc" && key != "o.id" && key != "o.type" && !strings.HasPrefix(key, "o.when_")
	if lq.After != "" {
		c, err := decodeObjectCursor(lq.After)
		if err != nil {
			return "", nil, false, fmt.Errorf("store: list after %q: %w", lq.After, err)
		}
		cmp := ">"
		if lq.Desc {
			cmp = "<"
		}
		var cond string
		switch {
		case c.Key == nil && !lq.Desc: // NULLs come first: then the rest of the NULLs, then every value
			cond = `(` + key + ` IS NULL AND o.id > ?) OR ` + key + ` IS NOT NULL`
			args = append(args, c.ID)
		case c.Key == nil: // and last when descending
			cond = key + ` IS NULL AND o.id < ?`
			args = append(args, c.ID)
		default:
			// A row value, so that the index on (name_lc, id) gives the range.
			cond = `(` + key + `, o.id) ` + cmp + ` (?, ?)`
			args = append(args, c.Key, c.ID)
			if lq.Desc && nullable {
				cond += ` OR ` + key + ` IS NULL`
			}
		}
		where += ` AND (` + cond + `)`
	}
	if until != nil {
		// The mirror of the cursor's condition: up to the object until names, included.
		var cond string
		switch {
		case until.Key == nil && !lq.Desc:
			cond = key + ` IS NULL AND o.id <= ?`
			args = append(args, until.ID)
		case until.Key == nil:
			cond = key + ` IS NOT NULL OR o.id >= ?`
			args = append(args, until.ID)
		case !lq.Desc:
			cond = `(` + key + `, o.id) <= (?, ?)`
			args = append(args, until.Key, until.ID)
			if nullable {
				cond += ` OR ` + key + ` IS NULL`
			}
		default:
			cond = `(` + key + `, o.id) >= (?, ?)`
			args = append(args, until.Key, until.ID)
		}
		where += ` AND (` + cond + `)`
	}
	dir := ""
	if lq.Desc {
		dir = " DESC"
	}
	query = `SELECT ` + cols + `, ` + key + ` FROM objects o WHERE ` + where + ` ORDER BY ` + key + dir + `, o.id` + dir
	if lq.Limit > 0 && pushed {
		query += ` LIMIT ?`
		args = append(args, lq.Limit+1) // one more tells whether a next page exists
	}
	return query, args, pushed, nil
}

// list is List; raw leaves the properties as JSON text (RawProps), as ListEach gives them.
func (q objects) list(ctx context.Context, lq ListQuery, raw bool, until *cursor) ([]Object, string, error) {
	// A listing for ListEach whose filter the database runs reads only what printing needs.
	cols := objectCols
	if raw && (lq.Filter == nil || lq.Filter.SQL != nil) {
		cols = objectRawCols
	}
	query, args, pushed, err := listSQL(lq, cols, until)
	if err != nil {
		return nil, "", err
	}
	short := cols == objectRawCols
	if !pushed {
		query, args, _, err = listSQL(lq, objectCols, until)
		if err != nil {
			return nil, "", err
		}
		short = false
	}
	page := make([]Object, 0, min(max(lq.Limit, 16), 1024))
	var lastKey any
	more := false
	err = q.with(ctx, query, func(st *sql.Stmt) error {
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		in := interner{}
		tid := args[0].(string)
		for rows.Next() {
			var k any
			var o Object
			var err error
			if short {
				o, err = scanRawObject(rows, tid, &k)
			} else {
				o, err = scanObject(rows, in, &k, raw)
			}
			if err != nil {
				return err
			}
			if !pushed {
				ok, err := lq.Filter.Match(&o)
				if err != nil {
					return &filterError{err}
				}
				if !ok {
					continue
				}
			}
			if raw && !short {
				o.Props, o.Keys, o.Refs = nil, nil, nil // as ListEach hands them out
			}
			if lq.Limit > 0 && len(page) == lq.Limit {
				more = true
				break
			}
			page = append(page, o)
			lastKey = k
		}
		return rows.Err()
	})
	var fe *filterError
	if errors.As(err, &fe) {
		return nil, "", fe.err
	}
	if err != nil {
		return nil, "", dbError("list objects of tenant "+lq.TenantID, err)
	}
	next := ""
	if more {
		if b, ok := lastKey.([]byte); ok {
			lastKey = string(b)
		}
		next = encodeObjectCursor(lastKey, page[len(page)-1].ID)
	}
	return page, next, nil
}

// filterError carries a Filter.Match error out of a query unchanged.
type filterError struct{ err error }

func (e *filterError) Error() string { return e.err.Error() }

func (q objects) Count(ctx context.Context, lq ListQuery) (int, error) {
	lq.After, lq.Limit, lq.OrderBy = "", 0, ""
	where, args, pushed, err := listWhere(lq)
	if err != nil {
		return 0, err
	}
	if !pushed {
		page, _, err := q.List(ctx, lq)
		return len(page), err
	}
	var n int
	err = q.with(ctx, `SELECT count(*) FROM objects o WHERE `+where, func(st *sql.Stmt) error {
		return st.QueryRowContext(ctx, args...).Scan(&n)
	})
	if err != nil {
		return 0, dbError("count objects of tenant "+lq.TenantID, err)
	}
	return n, nil
}

const updateObjectSQL = `UPDATE objects SET name = ?, name_lc = ?, props = ?, keys = ?, refs = ?, version = ?, when_changed = ?
	WHERE tenant_id = ? AND id = ?`

func (q objects) Update(ctx context.Context, tenantID, id string, fn func(*Object) error) (Object, error) {
	var out Object
	err := q.write(ctx, func(q objects) error {
		old, err := q.Get(ctx, tenantID, id)
		if err != nil {
			return err
		}
		o := old
		o.Props = cloneProps(old.Props)
		o.Keys = slices.Clone(old.Keys)
		o.Refs = slices.Clone(old.Refs)
		if err := fn(&o); err != nil {
			return &callerError{err}
		}
		if normGUID(o.TenantID) != old.TenantID || normGUID(o.ID) != old.ID || o.Type != old.Type {
			return fmt.Errorf("store: update %s %s: TenantID, Type and ID cannot change: %w", old.Type, old.ID, ErrInvalid)
		}
		o.Version = old.Version + 1
		o.WhenCreated = old.WhenCreated
		o.WhenChanged = time.Now().UTC()
		if !o.WhenChanged.After(old.WhenChanged) {
			o.WhenChanged = old.WhenChanged.Add(time.Nanosecond)
		}
		row, err := encodeObject(&o, o.WhenChanged)
		if err != nil {
			return err
		}
		if _, err := q.exec(ctx, updateObjectSQL, row.name, row.nameLC, row.props, row.keys, row.refs, row.version, row.changed, row.tenantID, row.id); err != nil {
			return err
		}
		oldRow, err := encodeObject(&old, old.WhenChanged)
		if err != nil {
			return err
		}
		if err := q.replaceKeys(ctx, row, oldRow.keyRows); err != nil {
			return err
		}
		if err := q.replaceRefs(ctx, row.tenantID, row.id, oldRow.refRows, row.refRows); err != nil {
			return err
		}
		out = o
		return nil
	})
	var ce *callerError
	if errors.As(err, &ce) {
		return Object{}, ce.err
	}
	if err != nil {
		if isDBError(err) {
			return Object{}, dbError("update object "+id, err)
		}
		return Object{}, err
	}
	return out, nil
}

// callerError carries an Update function's error out of the transaction unchanged.
type callerError struct{ err error }

func (e *callerError) Error() string { return e.err.Error() }

const (
	deleteKeySQL = `DELETE FROM object_keys WHERE tenant = ` + tenantNumSQL + ` AND value_lc = ? AND space = ` + spaceNumSQL + ` AND obj = ` + objectNumSQL
	deleteRefSQL = `DELETE FROM object_refs WHERE from_obj = ` + objectNumSQL + ` AND name = ? AND to_obj = ` + objectNumSQL
)

// replaceKeys makes an object's key rows new instead of old: removed first, so that an object
// may hand a key from one Space to... itself under another spelling.
func (q objects) replaceKeys(ctx context.Context, row objectRow, old []keyRow) error {
	tenantID, id, numbered := row.tenantID, row.id, false
	for _, k := range old {
		if !slices.Contains(row.keyRows, k) {
			if _, err := q.exec(ctx, deleteKeySQL, tenantID, k.valueLC, k.space, tenantID, id); err != nil {
				return err
			}
		}
	}
	for _, k := range row.keyRows {
		if !slices.Contains(old, k) {
			if !numbered {
				if err := q.numberKeys(ctx, row); err != nil {
					return err
				}
				numbered = true
			}
			if err := q.insertKey(ctx, tenantID, id, k); err != nil {
				return err
			}
		}
	}
	return nil
}

func (q objects) replaceRefs(ctx context.Context, tenantID, id string, old, new []Ref) error {
	same := func(a, b Ref) bool { return a.Name == b.Name && a.ID == b.ID }
	for _, r := range old {
		if i := slices.IndexFunc(new, func(n Ref) bool { return same(r, n) }); i < 0 || new[i].Cascade != r.Cascade {
			if _, err := q.exec(ctx, deleteRefSQL, tenantID, id, r.Name, tenantID, r.ID); err != nil {
				return err
			}
		}
	}
	for _, r := range new {
		if i := slices.IndexFunc(old, func(o Ref) bool { return same(r, o) }); i < 0 || old[i].Cascade != r.Cascade {
			if err := q.insertRef(ctx, tenantID, id, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// cloneProps copies Props deeply enough that an Update function's changes to nested lists
// and maps do not reach the object it was given.
func cloneProps(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = cloneValue(v)
	}
	return c
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case []any:
		c := make([]any, len(x))
		for i := range x {
			c[i] = cloneValue(x[i])
		}
		return c
	case map[string]any:
		return cloneProps(x)
	}
	return v
}

const (
	// doomedSQL: the object and, recursively, the objects whose Refs to a doomed one cascade.
	doomedSQL = `WITH RECURSIVE doomed(n) AS (
			SELECT n FROM objects WHERE tenant_id = ?1 AND id = ?2
			UNION SELECT r.from_obj FROM object_refs r JOIN doomed d ON r.to_obj = d.n WHERE r.cascade)
		SELECT o.id FROM doomed d JOIN objects o ON o.n = d.n`
	// referrersSQL: the objects outside the doomed set that refer to one in it.
	referrersSQL = `SELECT DISTINCT f.id FROM object_refs r JOIN objects f ON f.n = r.from_obj
		WHERE r.to_obj IN (SELECT n FROM objects WHERE tenant_id = ?1 AND id IN (SELECT value FROM json_each(?2)))
		AND f.id NOT IN (SELECT value FROM json_each(?2))`
	deleteObjectsSQL = `DELETE FROM objects WHERE tenant_id = ? AND id IN (SELECT value FROM json_each(?))`
)

func (q objects) Delete(ctx context.Context, tenantID, id string) error {
	tid, gid := normGUID(tenantID), normGUID(id)
	if tid == "" || gid == "" {
		return notFound("object", id)
	}
	err := q.write(ctx, func(q objects) error {
		doomed, err := q.strings(ctx, doomedSQL, tid, gid)
		if err != nil {
			return err
		}
		if len(doomed) == 0 {
			return notFound("object", id)
		}
		list := jsonList(doomed)
		// The objects that keep a reference to a doomed one lose it.
		referrers, err := q.strings(ctx, referrersSQL, tid, list)
		if err != nil {
			return err
		}
		if _, err := q.exec(ctx, deleteObjectsSQL, tid, list); err != nil {
			return err
		}
		for _, r := range referrers {
			// The database removed the reference rows with the objects; Update makes the
			// object's own list agree.
			_, err := q.Update(ctx, tid, r, func(o *Object) error {
				o.Refs = slices.DeleteFunc(o.Refs, func(ref Ref) bool { return slices.Contains(doomed, ref.ID) })
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && isDBError(err) {
		return dbError("delete object "+id, err)
	}
	return err
}
