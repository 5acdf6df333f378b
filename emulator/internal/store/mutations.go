package store

import (
	"context"
	"fmt"
)

// DeleteRecipient removes the recipient guid of a tenant, with its address index; a recipient
// that does not exist wraps ErrNotFound.
func (s *SQLite) DeleteRecipient(ctx context.Context, tenantID, guid string) error {
	g := normGUID(guid)
	if g == "" {
		return notFound("recipient", guid)
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM recipients WHERE tenant_id = ? AND guid = ?`, idOrNew(tenantID), g)
	if err != nil {
		return fmt.Errorf("store: delete recipient %s: %w", guid, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return notFound("recipient", guid)
	}
	return nil
}
