package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
)

// objectBatch is how many objects one INSERT of a bulk load writes (11 variables each, under
// SQLite's 32,766).
const objectBatch = 256

// CreateMany creates objs in one transaction, all or none. Into empty object tables it loads
// the rows without their secondary indexes and builds those at the end (seeding 100,000
// mailboxes); otherwise it is Create, object by object, in one transaction.
func (s *SQLite) CreateMany(ctx context.Context, objs iter.Seq[Object]) error {
	n := 0
	err := func() error {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		restore, err := bulkConn(ctx, conn)
		if err != nil {
			return err
		}
		defer restore()
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		var busy bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM objects)`).Scan(&busy); err != nil {
			return err
		}
		q := objects{s: s, tx: tx}
		if busy {
			now := time.Now()
			for o := range objs {
				o.Version = 1
				row, err := encodeObject(&o, now)
				if err != nil {
					return err
				}
				if err := q.insert(ctx, row); err != nil {
					return err
				}
				n++
			}
		} else if err := bulkLoadObjects(ctx, tx, objs, &n); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			if sqliteCode(err) == sqliteConstraintForeignKey {
				return fmt.Errorf("a tenant or a referenced object does not exist: %w", ErrNotFound)
			}
			return err
		}
		return nil
	}()
	if err != nil {
		op := fmt.Sprintf("create objects (%d read before the failure, none kept)", n)
		if isDBError(err) {
			return dbError(op, err)
		}
		return fmt.Errorf("store: %s: %w", op, err)
	}
	return nil
}

// bulkKey is one row of object_keys in a bulk load.
type bulkKey struct {
	tenant  int64
	valueLC string
	space   int64
	obj     int64
}

// bulkNumbers numbers the tenants and key spaces of a bulk load inside its transaction.
type bulkNumbers struct {
	tx             *sql.Tx
	tenants, space map[string]int64
}

func (b *bulkNumbers) number(ctx context.Context, m map[string]int64, insert, lookup, v string) (int64, error) {
	if n, ok := m[v]; ok {
		return n, nil
	}
	if _, err := b.tx.ExecContext(ctx, insert, v); err != nil {
		return 0, err
	}
	var n int64
	if err := b.tx.QueryRowContext(ctx, lookup, v).Scan(&n); err != nil {
		return 0, err
	}
	m[v] = n
	return n, nil
}

// bulkLoadObjects fills empty object tables from objs.
func bulkLoadObjects(ctx context.Context, tx *sql.Tx, objs iter.Seq[Object], n *int) error {
	// Checked at commit rather than per statement, so that multi-row INSERTs need no statement
	// journal (a failure rolls the whole transaction back anyway).
	if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
		return err
	}
	for _, ix := range objectIndexes {
		if _, err := tx.ExecContext(ctx, `DROP INDEX `+ix.name); err != nil {
			return err
		}
	}
	full, err := tx.PrepareContext(ctx, insertObjectsSQL(objectBatch))
	if err != nil {
		return err
	}
	defer full.Close()
	nums := &bulkNumbers{tx: tx, tenants: map[string]int64{}, space: map[string]int64{}}
	type loaded struct {
		n    int64
		name string
	}
	var keys []bulkKey
	type bulkRef struct {
		from     int64
		tenantID string
		ref      Ref
	}
	var refs []bulkRef
	seen := map[string]loaded{} // tenant/id
	var loadedIDs []string      // by n-1: tenant/id
	args := make([]any, 0, objectBatch*12)
	rows := 0
	flush := func() error {
		if rows == 0 {
			return nil
		}
		var err error
		if rows == objectBatch {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertObjectsSQL(rows), args...)
		}
		args, rows = args[:0], 0
		return err
	}
	next := int64(0)
	for b := range encodeObjectsInBackground(ctx, objs) {
		if b.err != nil {
			return b.err
		}
		for _, r := range b.rows {
			if other, dup := seen[r.tenantID+"/"+r.id]; dup {
				return &KeyConflictError{Key: Key{Space: SpaceID, Value: r.id}, ID: r.id, Type: r.typ, Name: other.name}
			}
			next++
			seen[r.tenantID+"/"+r.id] = loaded{next, r.name}
			loadedIDs = append(loadedIDs, r.tenantID+"/"+r.id)
			args = append(args, next, r.tenantID, r.id, r.typ, r.name, r.nameLC, r.props, r.keys, r.refs, r.version, r.created, r.changed)
			if len(r.keyRows) > 0 {
				tn, err := nums.number(ctx, nums.tenants, insertTenantNumSQL, `SELECT n FROM object_tenants WHERE id = ?`, r.tenantID)
				if err != nil {
					return err
				}
				for _, k := range r.keyRows {
					sn, err := nums.number(ctx, nums.space, `INSERT INTO object_spaces (name) VALUES (?) ON CONFLICT DO NOTHING`, `SELECT n FROM object_spaces WHERE name = ?`, k.space)
					if err != nil {
						return err
					}
					keys = append(keys, bulkKey{tn, k.valueLC, sn, next})
				}
			}
			for _, ref := range r.refRows {
				refs = append(refs, bulkRef{next, r.tenantID, ref})
			}
			*n++
			if rows++; rows == objectBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	// In key order, each row lands at the end of the table's B-tree.
	slices.SortFunc(keys, func(a, b bulkKey) int {
		return cmp.Or(cmp.Compare(a.tenant, b.tenant), strings.Compare(a.valueLC, b.valueLC), cmp.Compare(a.space, b.space))
	})
	for i := 1; i < len(keys); i++ {
		if a, b := keys[i-1], keys[i]; a.tenant == b.tenant && a.valueLC == b.valueLC && a.space == b.space {
			space := ""
			for name, n := range nums.space {
				if n == a.space {
					space = name
				}
			}
			holder := loadedIDs[a.obj-1]
			return &KeyConflictError{Key: Key{Space: space, Value: a.valueLC}, ID: holder[strings.IndexByte(holder, '/')+1:], Name: seen[holder].name}
		}
	}
	if err := insertRows(ctx, tx, `INSERT INTO object_keys (tenant, value_lc, space, obj) VALUES `, 4, len(keys),
		func(i int, args []any) []any {
			return append(args, keys[i].tenant, keys[i].valueLC, keys[i].space, keys[i].obj)
		}); err != nil {
		return err
	}
	for _, r := range refs {
		if _, ok := seen[r.tenantID+"/"+r.ref.ID]; !ok {
			return fmt.Errorf("reference %s to object %s: %w", r.ref.Name, r.ref.ID, ErrNotFound)
		}
	}
	if err := insertRows(ctx, tx, `INSERT OR IGNORE INTO object_refs (from_obj, name, to_obj, cascade) VALUES `, 4, len(refs),
		func(i int, args []any) []any {
			r := refs[i]
			return append(args, r.from, r.ref.Name, seen[r.tenantID+"/"+r.ref.ID].n, boolCol(r.ref.Cascade))
		}); err != nil {
		return err
	}
	for _, ix := range objectIndexes {
		if _, err := tx.ExecContext(ctx, ix.sql); err != nil {
			return err
		}
	}
	return nil
}

// insertRows inserts n rows of cols columns, many per statement: the statement for a full
// batch is prepared once (parsing thousands of tuples is not free), the last one as it comes.
func insertRows(ctx context.Context, tx *sql.Tx, insert string, cols, n int, row func(i int, args []any) []any) error {
	const perInsert = 1000
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + "),"
	var full *sql.Stmt
	args := make([]any, 0, cols*perInsert)
	for start := 0; start < n; start += perInsert {
		k := min(n-start, perInsert)
		args = args[:0]
		for i := start; i < start+k; i++ {
			args = row(i, args)
		}
		var err error
		if k == perInsert {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, insert+strings.TrimSuffix(strings.Repeat(tuple, k), ",")); err != nil {
					return err
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insert+strings.TrimSuffix(strings.Repeat(tuple, k), ","), args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func insertObjectsSQL(rows int) string {
	return `INSERT INTO objects (n, tenant_id, id, type, name, name_lc, props, keys, refs, version, when_created, when_changed) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?,?),", rows), ",")
}

// objectBatchRows is up to objectBatch encoded objects, or the error that ended the stream.
type objectBatchRows struct {
	rows []objectRow
	err  error
}

// encodeObjectsInBackground runs objs and encodes them on another goroutine, so that making
// the rows and writing them use two cores. Stopping the returned sequence early stops objs.
func encodeObjectsInBackground(ctx context.Context, objs iter.Seq[Object]) iter.Seq[objectBatchRows] {
	return inBackground(ctx, func(yield func(objectBatchRows) bool) {
		now := time.Now()
		rows := make([]objectRow, 0, objectBatch)
		for o := range objs {
			o.Version = 1
			r, err := encodeObject(&o, now)
			if err != nil {
				yield(objectBatchRows{err: err})
				return
			}
			if rows = append(rows, r); len(rows) == objectBatch {
				if !yield(objectBatchRows{rows: rows}) {
					return
				}
				rows = make([]objectRow, 0, objectBatch)
			}
		}
		if len(rows) > 0 {
			yield(objectBatchRows{rows: rows})
		}
	}, func(err error) objectBatchRows { return objectBatchRows{err: err} })
}

// inBackground runs produce on another goroutine and yields what it yields; stopping the
// returned sequence early stops produce, and a cancelled ctx ends it with canceled(ctx.Err()).
func inBackground[T any](ctx context.Context, produce func(yield func(T) bool), canceled func(error) T) iter.Seq[T] {
	return func(yield func(T) bool) {
		ch := make(chan T, 4)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer close(ch)
			produce(func(v T) bool {
				select {
				case ch <- v:
					return true
				case <-stop:
					return false
				}
			})
		}()
		defer func() {
			close(stop)
			<-done
		}()
		for {
			select {
			case v, ok := <-ch:
				if !ok || !yield(v) {
					return
				}
			case <-ctx.Done():
				yield(canceled(ctx.Err()))
				return
			}
		}
	}
}

// bulkConn readies a connection for a bulk load until restore is called: room for
// the whole load in its page cache (so that building each index reads the table from
// memory), and no fsync for the load and the checkpoint that follows its commit — a seed cut
// short by a power loss is started afresh anyway (the emulator records a finished seed only
// afterwards), and the next checkpoint syncs the files.
func bulkConn(ctx context.Context, conn *sql.Conn) (restore func(), err error) {
	reset := func() {
		ctx := context.WithoutCancel(ctx)
		conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = %d`, cacheSizeKiB))
		conn.ExecContext(ctx, `PRAGMA synchronous = `+synchronous)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -262144`); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = OFF`); err != nil {
		reset()
		return nil, err
	}
	return reset, nil
}
