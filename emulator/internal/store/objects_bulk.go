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
type bulkKey struct{ tenantID, valueLC, space, id string }

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
	var keys []bulkKey
	var refs []any
	seen := map[string]string{} // tenant/id -> name
	args := make([]any, 0, objectBatch*11)
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
	now := time.Now()
	for o := range objs {
		o.Version = 1
		r, err := encodeObject(&o, now)
		if err != nil {
			return err
		}
		if other, dup := seen[r.tenantID+"/"+r.id]; dup {
			return &KeyConflictError{Key: Key{Space: SpaceID, Value: r.id}, ID: r.id, Type: r.typ, Name: other}
		}
		seen[r.tenantID+"/"+r.id] = r.name
		args = append(args, r.tenantID, r.id, r.typ, r.name, r.nameLC, r.props, r.keys, r.refs, r.version, r.created, r.changed)
		for _, k := range r.keyRows {
			keys = append(keys, bulkKey{r.tenantID, k.valueLC, k.space, r.id})
		}
		for _, ref := range r.refRows {
			refs = append(refs, r.tenantID, r.id, ref.Name, ref.ID, boolCol(ref.Cascade))
		}
		*n++
		if rows++; rows == objectBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	// In key order, each row lands at the end of the table's B-tree.
	slices.SortFunc(keys, func(a, b bulkKey) int {
		return cmp.Or(strings.Compare(a.tenantID, b.tenantID), strings.Compare(a.valueLC, b.valueLC), strings.Compare(a.space, b.space))
	})
	for i := 1; i < len(keys); i++ {
		if a, b := keys[i-1], keys[i]; a.tenantID == b.tenantID && a.valueLC == b.valueLC && a.space == b.space {
			if a.id == b.id {
				continue // encodeObject made each object's keys distinct
			}
			return &KeyConflictError{Key: Key{Space: a.space, Value: a.valueLC}, ID: a.id, Name: seen[a.tenantID+"/"+a.id]}
		}
	}
	const keysPerInsert = 8000 // × 4 variables
	kargs := make([]any, 0, 4*keysPerInsert)
	for len(keys) > 0 {
		k := min(len(keys), keysPerInsert)
		kargs = kargs[:0]
		for _, key := range keys[:k] {
			kargs = append(kargs, key.tenantID, key.valueLC, key.space, key.id)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO object_keys (tenant_id, value_lc, space, id) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?,?,?,?),", k), ","), kargs...); err != nil {
			return err
		}
		keys = keys[k:]
	}
	const refsPerInsert = 6000 // × 5 variables
	for len(refs) > 0 {
		k := min(len(refs), 5*refsPerInsert)
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO object_refs (tenant_id, from_id, name, to_id, cascade) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?,?,?,?,?),", k/5), ","), refs[:k]...); err != nil {
			return err
		}
		refs = refs[k:]
	}
	for _, ix := range objectIndexes {
		if _, err := tx.ExecContext(ctx, ix.sql); err != nil {
			return err
		}
	}
	return nil
}

func insertObjectsSQL(rows int) string {
	return `INSERT INTO objects (tenant_id, id, type, name, name_lc, props, keys, refs, version, when_created, when_changed) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?),", rows), ",")
}
