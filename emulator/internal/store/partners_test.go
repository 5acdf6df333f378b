package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// The partner directory round-trips, replaces on put, and cascades with its tenants.
func TestPartnersDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, MemoryPath)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const partner, customer, other = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "33333333-3333-3333-3333-333333333333"
	for _, tn := range []Tenant{{ID: partner, Name: "p.onmicrosoft.com"}, {ID: customer, Name: "c.onmicrosoft.com"}, {ID: other, Name: "o.onmicrosoft.com"}} {
		if err := s.PutTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
	}
	const agent, group = "aaaaaaaa-0000-0000-0000-000000000001", "bbbbbbbb-0000-0000-0000-000000000001"
	if err := s.PutGroup(ctx, Group{TenantID: partner, ObjectID: group, DisplayName: "AdminAgents", Members: []string{agent}}); err != nil {
		t.Fatal(err)
	}
	if gs, err := s.GroupsOf(ctx, partner, agent); err != nil || !slices.Equal(gs, []string{group}) {
		t.Fatalf("GroupsOf = %v, %v", gs, err)
	}
	end := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	rel := Relationship{ID: "cccccccc-0000-0000-0000-000000000001", Kind: RelationshipGDAP, DisplayName: "ops",
		PartnerTenantID: partner, CustomerTenantID: customer, Status: RelationshipActive, End: end,
		Access: []AccessAssignment{{GroupID: group, Roles: []string{RoleExchangeAdministrator, RoleGlobalReader}}}}
	if err := s.PutRelationship(ctx, rel); err != nil {
		t.Fatal(err)
	}
	rs, err := s.Relationships(ctx, partner, customer)
	if err != nil || len(rs) != 1 || !rs[0].End.Equal(end) || len(rs[0].Access) != 1 || len(rs[0].Access[0].Roles) != 2 {
		t.Fatalf("Relationships = %+v, %v", rs, err)
	}
	if got := rs[0].EffectiveStatus(end); got != RelationshipExpired {
		t.Errorf("at its end the relationship is %s, want expired", got)
	}
	rel.Access = nil
	rel.Status = RelationshipTerminated
	if err := s.PutRelationship(ctx, rel); err != nil {
		t.Fatal(err)
	}
	if rs, _ := s.Relationships(ctx, "", customer); len(rs) != 1 || rs[0].Status != RelationshipTerminated || len(rs[0].Access) != 0 {
		t.Errorf("after replace: %+v", rs)
	}
	if err := s.PutRelationship(ctx, Relationship{Kind: "CSP", PartnerTenantID: partner, CustomerTenantID: customer}); err == nil {
		t.Error("an unknown kind is accepted")
	}

	const guest = "dddddddd-0000-0000-0000-000000000001"
	if err := s.PutUser(ctx, User{TenantID: other, ObjectID: guest, UPN: GuestUPN("a@p.com", "o.onmicrosoft.com"), Enabled: true}, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.PutGuest(ctx, Guest{TenantID: other, ObjectID: guest, HomeTenantID: partner, HomeObjectID: agent}); err != nil {
		t.Fatal(err)
	}
	if g, err := s.GuestOf(ctx, other, partner, agent); err != nil || g.ObjectID != guest {
		t.Fatalf("GuestOf = %+v, %v", g, err)
	}
	if _, err := s.GuestOf(ctx, customer, partner, agent); !errors.Is(err, ErrNotFound) {
		t.Errorf("no guest in the customer: %v", err)
	}
	if gs, err := s.Guests(ctx, partner); err != nil || len(gs) != 1 {
		t.Errorf("Guests = %v, %v", gs, err)
	}
}

// The msp seed gives the partner 200 more customers, each with an active GDAP relationship,
// its domains and mailboxes.
func TestSeedMSP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, MemoryPath)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := Seed(ctx, s, SeedOptions{Seed: SeedMSP})
	if err != nil {
		t.Fatal(err)
	}
	var partnerID string
	customers := 0
	for _, tn := range res.Tenants {
		switch tn.Kind {
		case TenantPartner:
			partnerID = tn.ID
		case TenantCustomer:
			customers++
		}
	}
	if customers != 204 {
		t.Errorf("%d customers, want the fixture's 4 and 200 generated", customers)
	}
	rs, err := s.Relationships(ctx, partnerID, "")
	if err != nil || len(rs) != 205 { // wingtiptoys has DAP and GDAP
		t.Fatalf("%d relationships (%v)", len(rs), err)
	}
	c, err := s.Tenant(ctx, "customer200.onmicrosoft.com")
	if err != nil {
		t.Fatal(err)
	}
	if ds, err := s.AcceptedDomains(ctx, c.ID); err != nil || len(ds) != 2 {
		t.Errorf("customer200's domains: %v (%v)", ds, err)
	}
	if n, err := s.CountRecipients(ctx, c.ID); err != nil || n != 3 {
		t.Errorf("customer200 has %d recipients (%v)", n, err)
	}
}
