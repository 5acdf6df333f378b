package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Partner relationships as Microsoft Entra ID models them: a partner tenant's security groups
// are granted directory roles in a customer tenant, through a DAP relationship (the partner's
// AdminAgents group as Global Administrator, no end date) or a GDAP one (chosen roles, chosen
// groups, a start and an end); and guest (B2B) users, a home tenant's user invited into a
// resource tenant as a user object of its own there.

// Kinds of Relationship.
const (
	RelationshipDAP  = "DAP"
	RelationshipGDAP = "GDAP"
)

// Statuses of a Relationship, as the partner center and Graph's
// delegatedAdminRelationship name them (active, expired, terminated).
const (
	RelationshipActive     = "active"
	RelationshipExpired    = "expired"
	RelationshipTerminated = "terminated"
)

// Group is a security group of a tenant, with its members' object ids.
type Group struct {
	TenantID    string
	ObjectID    string
	DisplayName string
	Members     []string
}

// AccessAssignment grants a partner group directory roles (template ids) in the customer.
type AccessAssignment struct {
	GroupID string
	Roles   []string
}

// Relationship is a partner's delegated administration of a customer tenant.
type Relationship struct {
	ID               string
	Kind             string // RelationshipDAP or RelationshipGDAP
	DisplayName      string
	PartnerTenantID  string
	CustomerTenantID string
	Status           string    // RelationshipActive, RelationshipExpired, RelationshipTerminated
	Start            time.Time // zero: always started
	End              time.Time // zero: no end (DAP)
	Access           []AccessAssignment
}

// EffectiveStatus is the relationship's status at now: an active relationship past its end
// has expired.
func (r Relationship) EffectiveStatus(now time.Time) string {
	if r.Status == RelationshipActive && !r.End.IsZero() && !now.Before(r.End) {
		return RelationshipExpired
	}
	if r.Status == RelationshipActive && !r.Start.IsZero() && now.Before(r.Start) {
		return "approvalPending"
	}
	return r.Status
}

// Guest links a guest (B2B) user object of a resource tenant to the home tenant's user it
// stands for. The guest's own user object (Store.PutUser) carries its UPN
// (alias_home.com#EXT#@resource.onmicrosoft.com) and its roles in the resource tenant.
type Guest struct {
	TenantID     string // the resource tenant
	ObjectID     string // the guest user object in the resource tenant
	HomeTenantID string
	HomeObjectID string
}

// Partners is the directory of partner relationships, groups and guests. *SQLite implements
// it; it is separate from Store so that stores without partner support stay valid.
type Partners interface {
	PutGroup(ctx context.Context, g Group) error
	// GroupsOf lists the ids of the tenant's groups that memberID belongs to.
	GroupsOf(ctx context.Context, tenantID, memberID string) ([]string, error)
	PutRelationship(ctx context.Context, r Relationship) error
	// Relationships lists the relationships between a partner and a customer; an empty id
	// matches any tenant on that side.
	Relationships(ctx context.Context, partnerTenantID, customerTenantID string) ([]Relationship, error)
	PutGuest(ctx context.Context, g Guest) error
	// GuestOf finds the guest object in tenantID that stands for the home user; none wraps
	// ErrNotFound.
	GuestOf(ctx context.Context, tenantID, homeTenantID, homeObjectID string) (Guest, error)
	// Guests lists the guest objects that stand for a home tenant's users (any resource tenant).
	Guests(ctx context.Context, homeTenantID string) ([]Guest, error)
}

var _ Partners = (*SQLite)(nil)

// partnersMigration adds the partner directory: groups, relationships and guest links.
const partnersMigration = `
CREATE TABLE directory_groups (
	tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	object_id    TEXT NOT NULL,
	display_name TEXT NOT NULL,
	PRIMARY KEY (tenant_id, object_id)
);

CREATE TABLE group_members (
	tenant_id TEXT NOT NULL,
	group_id  TEXT NOT NULL,
	member_id TEXT NOT NULL,
	PRIMARY KEY (tenant_id, group_id, member_id),
	FOREIGN KEY (tenant_id, group_id) REFERENCES directory_groups(tenant_id, object_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX group_members_member ON group_members(tenant_id, member_id);

CREATE TABLE partner_relationships (
	id                 TEXT PRIMARY KEY,
	kind               TEXT NOT NULL,
	display_name       TEXT NOT NULL,
	partner_tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	customer_tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	status             TEXT NOT NULL,
	start_at           INTEGER,
	end_at             INTEGER
);
CREATE INDEX partner_relationships_customer ON partner_relationships(customer_tenant_id, partner_tenant_id);
CREATE INDEX partner_relationships_partner ON partner_relationships(partner_tenant_id);

CREATE TABLE relationship_access (
	relationship_id TEXT NOT NULL REFERENCES partner_relationships(id) ON DELETE CASCADE,
	group_id        TEXT NOT NULL,
	roles           TEXT NOT NULL, -- JSON array of role template ids
	PRIMARY KEY (relationship_id, group_id)
);

CREATE TABLE guest_links (
	tenant_id      TEXT NOT NULL,
	object_id      TEXT NOT NULL,
	home_tenant_id TEXT NOT NULL,
	home_object_id TEXT NOT NULL,
	PRIMARY KEY (tenant_id, object_id),
	UNIQUE (tenant_id, home_tenant_id, home_object_id),
	FOREIGN KEY (tenant_id, object_id) REFERENCES users(tenant_id, object_id) ON DELETE CASCADE
);
CREATE INDEX guest_links_home ON guest_links(home_tenant_id, home_object_id);
`

// PutGroup creates or replaces a group and its members.
func (s *SQLite) PutGroup(ctx context.Context, g Group) error {
	if g.TenantID == "" || strings.TrimSpace(g.DisplayName) == "" {
		return fmt.Errorf("store: put group %q in tenant %q: TenantID and DisplayName are required", g.DisplayName, g.TenantID)
	}
	tid, gid := idOrNew(g.TenantID), idOrNew(g.ObjectID)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO directory_groups (tenant_id, object_id, display_name) VALUES (?, ?, ?)
			ON CONFLICT (tenant_id, object_id) DO UPDATE SET display_name = excluded.display_name`, tid, gid, g.DisplayName); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE tenant_id = ? AND group_id = ?`, tid, gid); err != nil {
			return err
		}
		for _, m := range g.Members {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO group_members (tenant_id, group_id, member_id) VALUES (?, ?, ?)`,
				tid, gid, idOrNew(m)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: put group %s in tenant %s: %w", g.DisplayName, g.TenantID, err)
	}
	return nil
}

// GroupsOf lists the ids of the groups memberID belongs to in a tenant.
func (s *SQLite) GroupsOf(ctx context.Context, tenantID, memberID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT group_id FROM group_members WHERE tenant_id = ? AND member_id = ? ORDER BY group_id`,
		idOrNew(tenantID), idOrNew(memberID))
	if err != nil {
		return nil, fmt.Errorf("store: groups of %s/%s: %w", tenantID, memberID, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: groups of %s/%s: %w", tenantID, memberID, err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// PutRelationship creates or replaces a relationship and its access assignments.
func (s *SQLite) PutRelationship(ctx context.Context, r Relationship) error {
	if r.PartnerTenantID == "" || r.CustomerTenantID == "" {
		return fmt.Errorf("store: put relationship %q: PartnerTenantID and CustomerTenantID are required", r.DisplayName)
	}
	switch r.Kind {
	case RelationshipDAP, RelationshipGDAP:
	default:
		return fmt.Errorf("store: put relationship %q: kind %q is neither %s nor %s", r.DisplayName, r.Kind, RelationshipDAP, RelationshipGDAP)
	}
	if r.Status == "" {
		r.Status = RelationshipActive
	}
	id := idOrNew(r.ID)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO partner_relationships
				(id, kind, display_name, partner_tenant_id, customer_tenant_id, status, start_at, end_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, display_name = excluded.display_name,
				partner_tenant_id = excluded.partner_tenant_id, customer_tenant_id = excluded.customer_tenant_id,
				status = excluded.status, start_at = excluded.start_at, end_at = excluded.end_at`,
			id, r.Kind, r.DisplayName, idOrNew(r.PartnerTenantID), idOrNew(r.CustomerTenantID), r.Status,
			timeCol(r.Start), timeCol(r.End)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM relationship_access WHERE relationship_id = ?`, id); err != nil {
			return err
		}
		for _, a := range r.Access {
			roles, err := jsonCol(lowerAll(a.Roles))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO relationship_access (relationship_id, group_id, roles) VALUES (?, ?, ?)
				ON CONFLICT (relationship_id, group_id) DO UPDATE SET roles = excluded.roles`, id, idOrNew(a.GroupID), roles); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: put relationship %s: %w", r.DisplayName, err)
	}
	return nil
}

// Relationships lists relationships by partner and customer (empty: any), oldest start first.
func (s *SQLite) Relationships(ctx context.Context, partnerTenantID, customerTenantID string) ([]Relationship, error) {
	var p, c any
	if partnerTenantID != "" {
		p = idOrNew(partnerTenantID)
	}
	if customerTenantID != "" {
		c = idOrNew(customerTenantID)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r.id, r.kind, r.display_name, r.partner_tenant_id, r.customer_tenant_id,
			r.status, r.start_at, r.end_at, a.group_id, a.roles
		FROM partner_relationships r LEFT JOIN relationship_access a ON a.relationship_id = r.id
		WHERE (?1 IS NULL OR r.partner_tenant_id = ?1) AND (?2 IS NULL OR r.customer_tenant_id = ?2)
		ORDER BY r.customer_tenant_id, r.start_at, r.id, a.group_id`, p, c)
	if err != nil {
		return nil, fmt.Errorf("store: relationships: %w", err)
	}
	defer rows.Close()
	var out []Relationship
	for rows.Next() {
		var r Relationship
		var start, end sql.NullInt64
		var group, roles sql.NullString
		if err := rows.Scan(&r.ID, &r.Kind, &r.DisplayName, &r.PartnerTenantID, &r.CustomerTenantID,
			&r.Status, &start, &end, &group, &roles); err != nil {
			return nil, fmt.Errorf("store: relationships: %w", err)
		}
		r.Start, r.End = colTime(start), colTime(end)
		if n := len(out); n == 0 || out[n-1].ID != r.ID {
			out = append(out, r)
		}
		if group.Valid {
			rs, err := colStrings(roles.String)
			if err != nil {
				return nil, fmt.Errorf("store: relationship %s: %w", r.ID, err)
			}
			last := &out[len(out)-1]
			last.Access = append(last.Access, AccessAssignment{GroupID: group.String, Roles: rs})
		}
	}
	return out, rows.Err()
}

// PutGuest links a guest user object (already stored with PutUser) to its home user.
func (s *SQLite) PutGuest(ctx context.Context, g Guest) error {
	if g.TenantID == "" || g.ObjectID == "" || g.HomeTenantID == "" || g.HomeObjectID == "" {
		return errors.New("store: put guest: TenantID, ObjectID, HomeTenantID and HomeObjectID are required")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO guest_links (tenant_id, object_id, home_tenant_id, home_object_id) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant_id, object_id) DO UPDATE SET home_tenant_id = excluded.home_tenant_id, home_object_id = excluded.home_object_id`,
		idOrNew(g.TenantID), idOrNew(g.ObjectID), idOrNew(g.HomeTenantID), idOrNew(g.HomeObjectID))
	if err != nil {
		return fmt.Errorf("store: put guest %s in tenant %s: %w", g.ObjectID, g.TenantID, err)
	}
	return nil
}

// GuestOf finds the guest object of a home user in a resource tenant.
func (s *SQLite) GuestOf(ctx context.Context, tenantID, homeTenantID, homeObjectID string) (Guest, error) {
	g := Guest{}
	err := s.db.QueryRowContext(ctx, `SELECT tenant_id, object_id, home_tenant_id, home_object_id FROM guest_links
		WHERE tenant_id = ? AND home_tenant_id = ? AND home_object_id = ?`,
		idOrNew(tenantID), idOrNew(homeTenantID), idOrNew(homeObjectID)).Scan(&g.TenantID, &g.ObjectID, &g.HomeTenantID, &g.HomeObjectID)
	if errors.Is(err, sql.ErrNoRows) {
		return Guest{}, notFound("guest", tenantID, homeTenantID, homeObjectID)
	}
	if err != nil {
		return Guest{}, fmt.Errorf("store: guest of %s/%s in %s: %w", homeTenantID, homeObjectID, tenantID, err)
	}
	return g, nil
}

// Guests lists the guest objects standing for a home tenant's users.
func (s *SQLite) Guests(ctx context.Context, homeTenantID string) ([]Guest, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant_id, object_id, home_tenant_id, home_object_id FROM guest_links
		WHERE home_tenant_id = ? ORDER BY tenant_id, object_id`, idOrNew(homeTenantID))
	if err != nil {
		return nil, fmt.Errorf("store: guests of tenant %s: %w", homeTenantID, err)
	}
	defer rows.Close()
	var out []Guest
	for rows.Next() {
		var g Guest
		if err := rows.Scan(&g.TenantID, &g.ObjectID, &g.HomeTenantID, &g.HomeObjectID); err != nil {
			return nil, fmt.Errorf("store: guests of tenant %s: %w", homeTenantID, err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}
