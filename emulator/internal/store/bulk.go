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

// recipientIndexes are the secondary indexes of the recipient tables, exactly as the
// migrations create them. A bulk load into empty tables drops them and builds them once the
// rows are in: building an index from sorted rows is several times faster than keeping it up
// to date row by row. TestBulkLoadSchema holds this list to the migrations.
var recipientIndexes = []struct{ name, sql string }{
	{"recipients_page", `CREATE INDEX recipients_page ON recipients(tenant_id, name_lc, guid)`},
	{"recipients_type_page", `CREATE INDEX recipients_type_page ON recipients(tenant_id, type_details_lc, name_lc, guid)`},
	{"recipients_alias", `CREATE INDEX recipients_alias ON recipients(tenant_id, alias_lc)`},
	{"recipients_upn", `CREATE INDEX recipients_upn ON recipients(tenant_id, upn_lc)`},
	{"recipients_external_id", `CREATE INDEX recipients_external_id ON recipients(tenant_id, external_id)`},
	{"recipient_addresses_guid", `CREATE INDEX recipient_addresses_guid ON recipient_addresses(guid)`},
}

// bulkBatch is how many recipients one INSERT of a bulk load writes.
const bulkBatch = 256

// bulkLoadRecipients writes a stream of new recipients (seeding) in one transaction, all or
// none. When the recipient tables are empty it loads them without their secondary indexes and
// builds those at the end; otherwise it is PutRecipientsSeq.
func (s *SQLite) bulkLoadRecipients(ctx context.Context, rs iter.Seq[Recipient]) error {
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
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM recipients) OR EXISTS (SELECT 1 FROM recipient_addresses)`).Scan(&busy); err != nil {
			return err
		}
		if busy {
			err = putRecipientsTx(ctx, tx, rs, &n)
		} else {
			err = bulkLoadTx(ctx, tx, rs, &n)
		}
		if err != nil {
			return err
		}
		return tx.Commit()
	}()
	if err != nil {
		return fmt.Errorf("store: load recipients (%d read before the failure, none kept): %w", n, err)
	}
	return nil
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

// addressRow is one row of recipient_addresses.
type addressRow struct{ tenantID, address, guid string }

func bulkLoadTx(ctx context.Context, tx *sql.Tx, rs iter.Seq[Recipient], n *int) error {
	// Checked at commit rather than per statement, so that multi-row INSERTs need no statement
	// journal (a failure rolls the whole transaction back anyway).
	if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
		return err
	}
	for _, ix := range recipientIndexes {
		if _, err := tx.ExecContext(ctx, `DROP INDEX `+ix.name); err != nil {
			return err
		}
	}
	full, err := tx.PrepareContext(ctx, insertRecipientsSQL(bulkBatch))
	if err != nil {
		return err
	}
	defer full.Close()
	var addrs []addressRow
	seen := map[string]bool{}
	for b := range encodeInBackground(ctx, rs) {
		if b.err != nil {
			return b.err
		}
		args := make([]any, 0, len(b.rows)*recipientInsertColCount)
		for _, row := range b.rows {
			if seen[row.guid] {
				return fmt.Errorf("recipient %s: GUID %s given twice", row.name, row.guid)
			}
			seen[row.guid] = true
			args = append(args, row.args...)
			for _, a := range row.addrs {
				addrs = append(addrs, addressRow{row.tenantID, a, row.guid})
			}
		}
		*n += len(b.rows)
		if len(b.rows) == bulkBatch {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertRecipientsSQL(len(b.rows)), args...)
		}
		if err != nil {
			return fmt.Errorf("recipients %s..%s: %w", b.rows[0].name, b.rows[len(b.rows)-1].name, err)
		}
	}
	args := make([]any, 0, 3*3000)
	// In key order, each row lands at the end of the table's B-tree.
	slices.SortFunc(addrs, func(a, b addressRow) int {
		return cmp.Or(strings.Compare(a.tenantID, b.tenantID), strings.Compare(a.address, b.address), strings.Compare(a.guid, b.guid))
	})
	addrs = slices.Compact(addrs)
	const perStmt = 3000
	var stmt *sql.Stmt
	for len(addrs) > 0 {
		k := min(len(addrs), perStmt)
		args = args[:0]
		for _, a := range addrs[:k] {
			args = append(args, a.tenantID, a.address, a.guid)
		}
		if k == perStmt {
			if stmt == nil {
				if stmt, err = tx.PrepareContext(ctx, insertAddressesSQL(perStmt)); err != nil {
					return err
				}
				defer stmt.Close()
			}
			_, err = stmt.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertAddressesSQL(k), args...)
		}
		if err != nil {
			return fmt.Errorf("recipient addresses: %w", err)
		}
		addrs = addrs[k:]
	}
	for _, ix := range recipientIndexes {
		if _, err := tx.ExecContext(ctx, ix.sql); err != nil {
			return err
		}
	}
	return nil
}

func insertRecipientsSQL(rows int) string {
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", recipientInsertColCount), ",") + ")"
	return `INSERT INTO recipients (` + recipientInsertCols + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat(tuple+",", rows), ",")
}

func insertAddressesSQL(rows int) string {
	return `INSERT INTO recipient_addresses (tenant_id, address_lc, guid) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?,?,?),", rows), ",")
}

// rowBatch is up to bulkBatch encoded recipients, or the error that ended the stream.
type rowBatch struct {
	rows []recipientRow
	err  error
}

// encodeInBackground runs rs and encodes its recipients on another goroutine, so that making
// the rows and writing them use both cores. Stopping the returned sequence early stops rs.
func encodeInBackground(ctx context.Context, rs iter.Seq[Recipient]) iter.Seq[rowBatch] {
	return inBackground(ctx, func(yield func(rowBatch) bool) {
		now := time.Now()
		rows := make([]recipientRow, 0, bulkBatch)
		for r := range rs {
			row, err := newRecipientRow(r, now)
			if err != nil {
				yield(rowBatch{err: err})
				return
			}
			if rows = append(rows, row); len(rows) == bulkBatch {
				if !yield(rowBatch{rows: rows}) {
					return
				}
				rows = make([]recipientRow, 0, bulkBatch)
			}
		}
		if len(rows) > 0 {
			yield(rowBatch{rows: rows})
		}
	}, func(err error) rowBatch { return rowBatch{err: err} })
}
