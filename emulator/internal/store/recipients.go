package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrBadCursor is returned (wrapped) when RecipientQuery.After is not a cursor this store made.
var ErrBadCursor = errors.New("invalid paging cursor")

const recipientCols = `tenant_id, guid, external_id, name, alias, display_name, first_name, last_name, upn,
	primary_smtp, email_addresses, type, type_details, database_name, prohibit_send_quota,
	prohibit_send_receive, issue_warning_quota, hidden_from_addr_lists, when_created, when_changed, extra`

// scanRecipient reads a row of recipientCols; in (which may be nil) shares repeated strings
// between the recipients of one page.
func scanRecipient(row interface{ Scan(...any) error }, in interner) (Recipient, error) {
	var r Recipient
	var addrs, extra string
	var wc, wch sql.NullInt64
	if err := row.Scan(&r.TenantID, &r.GUID, &r.ExternalDirectoryObjectID, &r.Name, &r.Alias, &r.DisplayName,
		&r.FirstName, &r.LastName, &r.UserPrincipalName, &r.PrimarySMTPAddress, &addrs, &r.RecipientType,
		&r.RecipientTypeDetails, &r.Database, &r.ProhibitSendQuotaBytes, &r.ProhibitSendReceiveBytes,
		&r.IssueWarningQuotaBytes, &r.HiddenFromAddressLists, &wc, &wch, &extra); err != nil {
		return Recipient{}, err
	}
	r.WhenCreated, r.WhenChanged = colTime(wc), colTime(wch)
	var err error
	if r.EmailAddresses, err = decodeStrings(addrs, in); err != nil {
		return Recipient{}, fmt.Errorf("email addresses of %s: %w", r.Name, err)
	}
	if len(r.EmailAddresses) == 0 {
		r.EmailAddresses = nil
	}
	if extra != "{}" {
		if r.Extra, err = decodeExtra(extra, in); err != nil {
			return Recipient{}, fmt.Errorf("extra properties of %s: %w", r.Name, err)
		}
	}
	return r, nil
}

// Recipients returns one page of q in (Name, GUID) order, and the cursor of the page's last
// recipient when more follow.
func (s *SQLite) Recipients(ctx context.Context, q RecipientQuery) ([]Recipient, string, error) {
	var where strings.Builder
	args := []any{idOrNew(q.TenantID)}
	where.WriteString(`tenant_id = ?`)
	if len(q.Types) > 0 {
		// One variable for any number of types: SQLite allows 32,766.
		where.WriteString(` AND type_details_lc IN (SELECT value FROM json_each(?))`)
		types := make([]string, len(q.Types))
		for i, t := range q.Types {
			types[i] = lc(t)
		}
		args = append(args, jsonList(types))
	}
	if q.After != "" {
		name, guid, err := decodeCursor(q.After)
		if err != nil {
			return nil, "", fmt.Errorf("store: recipients of tenant %s after %q: %w", q.TenantID, q.After, err)
		}
		where.WriteString(` AND (name_lc, guid) > (?, ?)`)
		args = append(args, name, guid)
	}
	query := `SELECT ` + recipientCols + ` FROM recipients WHERE ` + where.String() + ` ORDER BY name_lc, guid`
	if q.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, q.Limit+1) // one more tells whether a next page exists
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: recipients of tenant %s: %w", q.TenantID, err)
	}
	defer rows.Close()
	page := make([]Recipient, 0, min(max(q.Limit, 16), 1024))
	more := false
	in := interner{}
	for rows.Next() {
		if q.Limit > 0 && len(page) == q.Limit {
			more = true
			break
		}
		r, err := scanRecipient(rows, in)
		if err != nil {
			return nil, "", fmt.Errorf("store: recipients of tenant %s: %w", q.TenantID, err)
		}
		page = append(page, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: recipients of tenant %s: %w", q.TenantID, err)
	}
	next := ""
	if more {
		last := page[len(page)-1]
		next = encodeCursor(lc(last.Name), last.GUID)
	}
	return page, next, nil
}

// CountRecipients counts a tenant's recipients of every type.
func (s *SQLite) CountRecipients(ctx context.Context, tenantID string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM recipients WHERE tenant_id = ?`, idOrNew(tenantID)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count recipients of tenant %s: %w", tenantID, err)
	}
	return n, nil
}

// PutRecipients creates or updates many recipients in one transaction: all or none.
func (s *SQLite) PutRecipients(ctx context.Context, rs []Recipient) error {
	if len(rs) == 0 {
		return nil
	}
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error { return putRecipientsTx(ctx, tx, slices.Values(rs), &n) })
	if err != nil {
		return fmt.Errorf("store: put recipients (%d read before the failure, none kept): %w", n, err)
	}
	return nil
}

// putRecipientsTx upserts rs in tx, counting in *n the recipients read.
func putRecipientsTx(ctx context.Context, tx *sql.Tx, rs iter.Seq[Recipient], n *int) error {
	now := time.Now()
	full, err := tx.PrepareContext(ctx, upsertRecipientsSQL(recipientBatch))
	if err != nil {
		return err
	}
	defer full.Close()
	b := &recipientWriter{ctx: ctx, tx: tx, full: full, seen: map[string]bool{}}
	for r := range rs {
		row, err := newRecipientRow(r, now)
		if err != nil {
			return err
		}
		if b.seen[row.guid] || len(b.rows) == recipientBatch {
			if err := b.flush(); err != nil {
				return err
			}
		}
		b.seen[row.guid] = true
		b.rows = append(b.rows, row)
		*n++
	}
	return b.flush()
}

// recipientBatch is how many recipients one INSERT writes: bulk writes are bound by statement
// executions, not rows.
const recipientBatch = 64

const recipientInsertCols = `guid, tenant_id, external_id, name, name_lc, alias, alias_lc, display_name,
	first_name, last_name, upn, upn_lc, primary_smtp, email_addresses, dn_lc, type, type_details,
	type_details_lc, database_name, prohibit_send_quota, prohibit_send_receive, issue_warning_quota,
	hidden_from_addr_lists, when_created, when_changed, extra`

const recipientInsertColCount = 26

func upsertRecipientsSQL(rows int) string {
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", recipientInsertColCount), ", ") + ")"
	var b strings.Builder
	b.WriteString(`INSERT INTO recipients (` + recipientInsertCols + `) VALUES `)
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	b.WriteString(` ON CONFLICT (guid) DO UPDATE SET tenant_id = excluded.tenant_id, external_id = excluded.external_id,
		name = excluded.name, name_lc = excluded.name_lc, alias = excluded.alias, alias_lc = excluded.alias_lc,
		display_name = excluded.display_name, first_name = excluded.first_name, last_name = excluded.last_name,
		upn = excluded.upn, upn_lc = excluded.upn_lc, primary_smtp = excluded.primary_smtp,
		email_addresses = excluded.email_addresses, dn_lc = excluded.dn_lc, type = excluded.type,
		type_details = excluded.type_details, type_details_lc = excluded.type_details_lc,
		database_name = excluded.database_name, prohibit_send_quota = excluded.prohibit_send_quota,
		prohibit_send_receive = excluded.prohibit_send_receive, issue_warning_quota = excluded.issue_warning_quota,
		hidden_from_addr_lists = excluded.hidden_from_addr_lists, when_created = excluded.when_created,
		when_changed = excluded.when_changed, extra = excluded.extra`)
	return b.String()
}

// recipientWriter writes recipients in batches within one transaction.
type recipientWriter struct {
	ctx  context.Context
	tx   *sql.Tx
	full *sql.Stmt // upsert of a whole batch
	rows []recipientRow
	seen map[string]bool // GUIDs in rows: a GUID twice in a batch would mix its addresses
}

func (w *recipientWriter) flush() error {
	if len(w.rows) == 0 {
		return nil
	}
	args := make([]any, 0, len(w.rows)*recipientInsertColCount)
	var existing []any
	var addrArgs []any
	for _, r := range w.rows {
		args = append(args, r.args...)
		if r.maybeExisting {
			existing = append(existing, r.guid)
		}
		for _, a := range r.addrs {
			addrArgs = append(addrArgs, r.tenantID, a, r.guid)
		}
	}
	var err error
	if len(w.rows) == recipientBatch {
		_, err = w.full.ExecContext(w.ctx, args...)
	} else {
		_, err = w.tx.ExecContext(w.ctx, upsertRecipientsSQL(len(w.rows)), args...)
	}
	if err != nil {
		return fmt.Errorf("recipients %s..%s: %w", w.rows[0].name, w.rows[len(w.rows)-1].name, err)
	}
	if len(existing) > 0 { // a new GUID has no addresses to replace
		q := `DELETE FROM recipient_addresses WHERE guid IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(existing)), ", ") + `)`
		if _, err := w.tx.ExecContext(w.ctx, q, existing...); err != nil {
			return fmt.Errorf("addresses of recipients %s..%s: %w", w.rows[0].name, w.rows[len(w.rows)-1].name, err)
		}
	}
	// At most 3 × 64 × (addresses per recipient) parameters; SQLite allows 32766.
	for len(addrArgs) > 0 {
		k := min(len(addrArgs), 3*3000)
		q := `INSERT OR IGNORE INTO recipient_addresses (tenant_id, address_lc, guid) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", k/3), ", ")
		if _, err := w.tx.ExecContext(w.ctx, q, addrArgs[:k]...); err != nil {
			return fmt.Errorf("addresses of recipients %s..%s: %w", w.rows[0].name, w.rows[len(w.rows)-1].name, err)
		}
		addrArgs = addrArgs[k:]
	}
	w.rows = w.rows[:0]
	clear(w.seen)
	return nil
}

// recipientRow is a Recipient encoded as the recipients table's columns.
type recipientRow struct {
	guid, tenantID, name string
	maybeExisting        bool // the caller chose the GUID, so the row may already exist
	args                 []any
	addrs                []string
}

func newRecipientRow(r Recipient, now time.Time) (recipientRow, error) {
	if r.TenantID == "" || strings.TrimSpace(r.Name) == "" {
		return recipientRow{}, fmt.Errorf("store: put recipient %q in tenant %q: TenantID and Name are required", r.Name, r.TenantID)
	}
	row := recipientRow{
		guid:          idOrNew(r.GUID),
		tenantID:      idOrNew(r.TenantID),
		name:          r.Name,
		maybeExisting: r.GUID != "",
	}
	ext := ""
	if r.ExternalDirectoryObjectID != "" {
		ext = idOrNew(r.ExternalDirectoryObjectID)
	}
	primary := r.PrimarySMTPAddress
	seen := map[string]bool{}
	for _, a := range r.EmailAddresses {
		if primary == "" && strings.HasPrefix(a, "SMTP:") {
			primary = a[len("SMTP:"):]
		}
		if k := addressKey(a); k != "" && !seen[k] {
			seen[k] = true
			row.addrs = append(row.addrs, k)
		}
	}
	if k := addressKey(primary); k != "" && !seen[k] {
		row.addrs = append(row.addrs, k)
	}
	// The usual primary address, the UPN, is found through the UPN's index (FindRecipient):
	// no row of its own. Only when SQLite's lower() gives the same key (ASCII, no prefix).
	if k := strings.ToLower(primary); k != "" && k == lc(r.UserPrincipalName) && isASCII(primary) {
		row.addrs = slices.DeleteFunc(row.addrs, func(a string) bool { return a == k })
	}
	buf := make([]byte, 0, 1024)
	if r.EmailAddresses == nil {
		buf = append(buf, "[]"...)
	} else {
		buf, _ = appendJSON(buf, r.EmailAddresses) // []string always encodes
	}
	addrsEnd := len(buf)
	var err error
	if r.Extra == nil {
		buf = append(buf, "{}"...)
	} else if buf, err = appendJSON(buf, r.Extra); err != nil {
		return recipientRow{}, fmt.Errorf("store: put recipient %s: extra properties: %w", r.Name, err)
	}
	// One allocation for both columns.
	both := string(buf)
	addrs, extra := both[:addrsEnd], both[addrsEnd:]
	dn, _ := r.Extra["DistinguishedName"].(string)
	if r.WhenCreated.IsZero() {
		r.WhenCreated = now
	}
	if r.WhenChanged.IsZero() {
		r.WhenChanged = r.WhenCreated
	}
	row.args = []any{row.guid, row.tenantID, ext, strings.TrimSpace(r.Name), lc(r.Name),
		r.Alias, lc(r.Alias), r.DisplayName, r.FirstName, r.LastName, r.UserPrincipalName, lc(r.UserPrincipalName),
		primary, addrs, lc(dn), r.RecipientType, r.RecipientTypeDetails, lc(r.RecipientTypeDetails), r.Database,
		r.ProhibitSendQuotaBytes, r.ProhibitSendReceiveBytes, r.IssueWarningQuotaBytes,
		boolCol(r.HiddenFromAddressLists), timeCol(r.WhenCreated), timeCol(r.WhenChanged), extra}
	return row, nil
}

// addressKey is how an address (or an identity naming one) is looked up: SMTP addresses lower
// case without their "smtp:" prefix, other proxy addresses (x500:, sip:, ...) lower case whole.
func addressKey(a string) string {
	a = strings.TrimSpace(a)
	if len(a) > 5 && strings.EqualFold(a[:5], "smtp:") {
		a = a[5:]
	}
	return strings.ToLower(a)
}

func encodeCursor(nameLC, guid string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(nameLC + "\x00" + guid))
}

func decodeCursor(c string) (nameLC, guid string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", "", ErrBadCursor
	}
	i := strings.LastIndexByte(string(b), 0)
	if i < 0 || i == len(b)-1 {
		return "", "", ErrBadCursor
	}
	return string(b[:i]), string(b[i+1:]), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
