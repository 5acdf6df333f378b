package store

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// SeedMSP names the seed for scale work: the demo seed plus MSPCustomers more customer tenants
// of the partner, each with a GDAP relationship, domains and a few mailboxes.
const SeedMSP = "msp"

// The partner tenant of every seed, from fixtures/partners.json.
const (
	PartnerTenantName = "northwindpartners.onmicrosoft.com"
)

// Tenant kinds of SeedTenant.
const (
	TenantPartner  = "partner"
	TenantCustomer = "customer"
)

//go:embed fixtures/partners.json
var partnersFixtureJSON []byte

// partnersFixture is fixtures/partners.json: the partner, its customers and guests.
type partnersFixture struct {
	Partner   fixtureTenant   `json:"partner"`
	Customers []fixtureTenant `json:"customers"`
	Guests    []struct {
		Home   string   `json:"home"`
		Tenant string   `json:"tenant"`
		Roles  []string `json:"roles"`
	} `json:"guests"`
	MSP struct {
		Customers int             `json:"customers"`
		Mailboxes []string        `json:"mailboxes"`
		Access    []fixtureAccess `json:"access"`
	} `json:"msp"`
}

type fixtureTenant struct {
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	DisplayName string        `json:"display_name"`
	Domains     []string      `json:"domains"`
	App         *fixtureApp   `json:"app"`
	Users       []fixtureUser `json:"users"`
	Groups      []struct {
		Name    string   `json:"name"`
		Members []string `json:"members"`
	} `json:"groups"`
	Mailboxes     []string              `json:"mailboxes"`
	Shared        []string              `json:"shared"`
	DistGroups    []string              `json:"-"`
	Relationships []fixtureRelationship `json:"relationships"`
}

// UnmarshalJSON reads a customer's "groups" (names of distribution groups) and the partner's
// (security groups with members) from the same key.
func (t *fixtureTenant) UnmarshalJSON(b []byte) error {
	type plain fixtureTenant
	var raw struct {
		plain
		Groups json.RawMessage `json:"groups"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*t = fixtureTenant(raw.plain)
	if len(raw.Groups) == 0 {
		return nil
	}
	var names []string
	if err := json.Unmarshal(raw.Groups, &names); err == nil {
		t.DistGroups = names
		return nil
	}
	return json.Unmarshal(raw.Groups, &t.Groups)
}

type fixtureApp struct {
	AppID       string `json:"app_id"`
	DisplayName string `json:"display_name"`
}

type fixtureUser struct {
	UPN         string   `json:"upn"`
	First       string   `json:"first"`
	Last        string   `json:"last"`
	Password    string   `json:"password"`
	Roles       []string `json:"roles"`
	Description string   `json:"description"`
}

type fixtureRelationship struct {
	Kind      string          `json:"kind"`
	Name      string          `json:"name"`
	Status    string          `json:"status"`
	StartDays int             `json:"start_days"`
	EndDays   int             `json:"end_days"`
	Access    []fixtureAccess `json:"access"`
}

type fixtureAccess struct {
	Group string   `json:"group"`
	Roles []string `json:"roles"`
}

var loadPartnersFixture = sync.OnceValues(func() (*partnersFixture, error) {
	var f partnersFixture
	if err := json.Unmarshal(partnersFixtureJSON, &f); err != nil {
		return nil, fmt.Errorf("store: fixtures/partners.json: %w", err)
	}
	return &f, nil
})

// SeedTenant is a seeded tenant besides the demo one: the partner or a customer.
type SeedTenant struct {
	ID, Name, DisplayName string
	Kind                  string // TenantPartner or TenantCustomer
	Domains               []string
	// AppID is the partner's multi-tenant app, registered in this tenant too (app-only sign-in
	// with the partner's certificate).
	AppID         string
	Users         []SeedUser
	Groups        []SeedGroup
	Relationships []SeedRelationship
	Guests        []SeedGuest
}

// SeedGroup is a partner security group and its members' UPNs.
type SeedGroup struct {
	Name    string
	Members []string
}

// SeedRelationship is a customer's relationship with the partner.
type SeedRelationship struct {
	Kind, Name, Partner, Status string
	Start, End                  time.Time
	Access                      []SeedAccess
}

// SeedAccess is a group and the roles (display names) a relationship grants it.
type SeedAccess struct {
	Group string
	Roles []string
}

// SeedGuest is a guest (B2B) user of a resource tenant.
type SeedGuest struct {
	UPN     string // the guest object's UPN in the resource tenant (...#EXT#@...)
	HomeUPN string
	Roles   []string
}

// roleIDs maps the role names fixtures use to template ids.
func roleIDs(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		switch strings.ToLower(n) {
		case "exchange administrator":
			out = append(out, RoleExchangeAdministrator)
		case "global administrator":
			out = append(out, RoleGlobalAdministrator)
		case "global reader":
			out = append(out, RoleGlobalReader)
		default:
			return nil, fmt.Errorf("store: fixtures: unknown role %q", n)
		}
	}
	return out, nil
}

// tenantID is a seeded tenant's id: the fixture's, else derived from its name.
func (t fixtureTenant) tenantID() string {
	if t.ID != "" {
		return t.ID
	}
	return uuid.NewSHA1(uuid.MustParse(DemoTenantID), []byte("tenant/"+strings.ToLower(t.Name))).String()
}

func objectID(tenantID, kind, name string) string {
	return uuid.NewSHA1(uuid.MustParse(tenantID), []byte(kind+"/"+strings.ToLower(name))).String()
}

// GuestUPN is the UPN Entra gives a guest invited into a tenant: the home address with @
// replaced by _, then #EXT#@ and the resource tenant's initial domain.
func GuestUPN(homeUPN, resourceTenantName string) string {
	return strings.ReplaceAll(homeUPN, "@", "_") + "#EXT#@" + resourceTenantName
}

// mspCustomer is generated customer number i (1-based) of the msp seed.
func mspCustomer(f *partnersFixture, i int) fixtureTenant {
	name := fmt.Sprintf("customer%03d", i)
	return fixtureTenant{
		Name: name + ".onmicrosoft.com", DisplayName: fmt.Sprintf("Customer %03d", i),
		Domains: []string{name + ".example"}, Mailboxes: f.MSP.Mailboxes,
		Relationships: []fixtureRelationship{{Kind: RelationshipGDAP, Name: "Northwind managed Exchange", Status: RelationshipActive,
			StartDays: -90, EndDays: 640, Access: f.MSP.Access}},
	}
}

// customers lists the seed's customer tenants.
func (f *partnersFixture) customers(seed string) []fixtureTenant {
	cs := append([]fixtureTenant(nil), f.Customers...)
	if seed == SeedMSP {
		for i := 1; i <= f.MSP.Customers; i++ {
			cs = append(cs, mspCustomer(f, i))
		}
	}
	return cs
}

// partnerSeedInfo describes the partner, its customers and the guests, relative to now.
func partnerSeedInfo(seed string, now time.Time) ([]SeedTenant, []SeedGuest, error) {
	f, err := loadPartnersFixture()
	if err != nil {
		return nil, nil, err
	}
	p := f.Partner
	pt := SeedTenant{ID: p.tenantID(), Name: p.Name, DisplayName: p.DisplayName, Kind: TenantPartner,
		Domains: append([]string{p.Name}, p.Domains...), AppID: p.App.AppID}
	for _, u := range p.Users {
		pt.Users = append(pt.Users, SeedUser{UPN: u.UPN, Password: u.Password, Roles: u.Roles, Description: u.Description})
	}
	for _, g := range p.Groups {
		pt.Groups = append(pt.Groups, SeedGroup{Name: g.Name, Members: g.Members})
	}
	out := []SeedTenant{pt}
	for _, c := range f.customers(seed) {
		st := SeedTenant{ID: c.tenantID(), Name: c.Name, DisplayName: c.DisplayName, Kind: TenantCustomer,
			Domains: append([]string{c.Name}, c.Domains...), AppID: p.App.AppID}
		for _, u := range c.Users {
			st.Users = append(st.Users, SeedUser{UPN: u.UPN, Password: u.Password, Roles: u.Roles, Description: u.Description})
		}
		for _, r := range c.Relationships {
			sr := SeedRelationship{Kind: r.Kind, Name: r.Name, Partner: p.Name, Status: r.Status}
			if r.Kind == RelationshipDAP {
				// DAP: the AdminAgents group as Global Administrator, for as long as it exists.
				sr.Status = RelationshipActive
				sr.Access = []SeedAccess{{Group: "AdminAgents", Roles: []string{"Global Administrator"}}}
			} else {
				day := now.Truncate(24 * time.Hour)
				sr.Start, sr.End = day.AddDate(0, 0, r.StartDays), day.AddDate(0, 0, r.EndDays)
				for _, a := range r.Access {
					sr.Access = append(sr.Access, SeedAccess{Group: a.Group, Roles: a.Roles})
				}
			}
			st.Relationships = append(st.Relationships, sr)
		}
		out = append(out, st)
	}
	var demoGuests []SeedGuest
	for _, g := range f.Guests {
		sg := SeedGuest{HomeUPN: g.Home, Roles: g.Roles, UPN: GuestUPN(g.Home, g.Tenant)}
		if strings.EqualFold(g.Tenant, DemoTenantName) {
			demoGuests = append(demoGuests, sg)
			continue
		}
		for i := range out {
			if strings.EqualFold(out[i].Name, g.Tenant) {
				out[i].Guests = append(out[i].Guests, sg)
			}
		}
	}
	return out, demoGuests, nil
}

// seedPartners writes the partner, its customers (directory and Exchange objects) and guests.
func seedPartners(ctx context.Context, s Store, res *SeedResult, certDER []byte, created time.Time) error {
	ps, ok := s.(Partners)
	if !ok {
		return nil // a store without the partner directory: the demo tenant only
	}
	f, err := loadPartnersFixture()
	if err != nil {
		return err
	}
	byName := map[string]SeedTenant{}
	for _, t := range res.Tenants {
		byName[strings.ToLower(t.Name)] = t
	}
	var partner SeedTenant
	for _, t := range res.Tenants {
		if t.Kind == TenantPartner {
			partner = t
		}
	}
	hashes, err := partnerPasswordHashes()
	if err != nil {
		return err
	}
	userIDs := map[string]string{} // lower UPN -> object id, across tenants
	fixtureUsers := map[string]fixtureUser{}
	for _, u := range append(append([]fixtureUser(nil), f.Partner.Users...), customerUsers(f)...) {
		fixtureUsers[strings.ToLower(u.UPN)] = u
	}
	for _, t := range res.Tenants {
		if err := s.PutTenant(ctx, Tenant{ID: t.ID, Name: t.Name, DisplayName: t.DisplayName, CreatedAt: created}); err != nil {
			return err
		}
		for i, d := range t.Domains {
			if err := s.PutAcceptedDomain(ctx, AcceptedDomain{
				TenantID: t.ID, GUID: objectID(t.ID, "domain", d), Name: d, DomainName: d, DomainType: "Authoritative",
				Initial: i == 0, Default: i == len(t.Domains)-1, WhenCreated: created, WhenChanged: created,
			}); err != nil {
				return err
			}
		}
		if err := s.PutApp(ctx, App{TenantID: t.ID, AppID: ModulePublicAppID, ObjectID: objectID(t.ID, "app", ModulePublicAppID),
			DisplayName: modulePublicAppName, Public: true, RedirectURIs: []string{"http://localhost"}}); err != nil {
			return err
		}
		// The partner's multi-tenant app: its home registration, and a service principal with
		// Exchange.ManageAsApp and Exchange Administrator in each customer that consented.
		if err := s.PutApp(ctx, App{TenantID: t.ID, AppID: t.AppID, ObjectID: objectID(t.ID, "app", t.AppID),
			DisplayName: f.Partner.App.DisplayName, AppRoles: []string{AppRoleManageAsApp},
			DirectoryRoles: []string{RoleExchangeAdministrator}}); err != nil {
			return err
		}
		var recipients []Recipient
		for _, u := range t.Users {
			fu := fixtureUsers[strings.ToLower(u.UPN)]
			roles, err := roleIDs(u.Roles)
			if err != nil {
				return err
			}
			oid := objectID(t.ID, "user", u.UPN)
			userIDs[strings.ToLower(u.UPN)] = oid
			if err := s.PutUser(ctx, User{TenantID: t.ID, ObjectID: oid, UPN: u.UPN, DisplayName: fu.First + " " + fu.Last,
				Enabled: true, PowerShellEnabled: true, DirectoryRoles: roles, PasswordHash: hashes[strings.ToLower(u.UPN)]}, ""); err != nil {
				return err
			}
			r := tenantMailbox(t, fu.First+" "+fu.Last, "UserMailbox", created)
			r.ExternalDirectoryObjectID, r.UserPrincipalName = oid, u.UPN
			recipients = append(recipients, r)
		}
		for _, g := range t.Groups {
			members := make([]string, 0, len(g.Members))
			for _, m := range g.Members {
				members = append(members, objectID(t.ID, "user", m))
			}
			if err := ps.PutGroup(ctx, Group{TenantID: t.ID, ObjectID: objectID(t.ID, "group", g.Name), DisplayName: g.Name, Members: members}); err != nil {
				return err
			}
		}
		ft := fixtureTenantNamed(f, t.Name)
		for _, n := range ft.Mailboxes {
			recipients = append(recipients, tenantMailbox(t, n, "UserMailbox", created))
		}
		for _, n := range ft.Shared {
			recipients = append(recipients, tenantMailbox(t, n, "SharedMailbox", created))
		}
		for _, n := range ft.DistGroups {
			recipients = append(recipients, tenantGroup(t, n, created))
		}
		if err := s.PutRecipients(ctx, recipients); err != nil {
			return err
		}
		for i, r := range t.Relationships {
			rel := Relationship{ID: objectID(t.ID, "relationship", fmt.Sprint(i)), Kind: r.Kind, DisplayName: r.Name,
				PartnerTenantID: partner.ID, CustomerTenantID: t.ID, Status: r.Status, Start: r.Start, End: r.End}
			for _, a := range r.Access {
				roles, err := roleIDs(a.Roles)
				if err != nil {
					return err
				}
				rel.Access = append(rel.Access, AccessAssignment{GroupID: objectID(partner.ID, "group", a.Group), Roles: roles})
			}
			if err := ps.PutRelationship(ctx, rel); err != nil {
				return err
			}
		}
	}
	if len(certDER) > 0 {
		c, err := CertificateFromDER(f.Partner.App.AppID, certDER)
		if err != nil {
			return err
		}
		if err := s.PutCertificate(ctx, c); err != nil {
			return err
		}
	}
	// Guests: a user object of the resource tenant linked to the home user.
	put := func(tenantID string, g SeedGuest) error {
		homeOID, ok := userIDs[strings.ToLower(g.HomeUPN)]
		if !ok {
			return fmt.Errorf("store: fixtures: guest %s has no home user", g.HomeUPN)
		}
		roles, err := roleIDs(g.Roles)
		if err != nil {
			return err
		}
		oid := objectID(tenantID, "guest", g.HomeUPN)
		fu := fixtureUsers[strings.ToLower(g.HomeUPN)]
		if err := s.PutUser(ctx, User{TenantID: tenantID, ObjectID: oid, UPN: g.UPN, DisplayName: fu.First + " " + fu.Last,
			Enabled: true, PowerShellEnabled: true, DirectoryRoles: roles}, ""); err != nil {
			return err
		}
		return ps.PutGuest(ctx, Guest{TenantID: tenantID, ObjectID: oid, HomeTenantID: partner.ID, HomeObjectID: homeOID})
	}
	for _, g := range res.Guests {
		if err := put(DemoTenantID, g); err != nil {
			return err
		}
	}
	for _, t := range res.Tenants {
		for _, g := range t.Guests {
			if err := put(t.ID, g); err != nil {
				return err
			}
		}
	}
	return nil
}

func customerUsers(f *partnersFixture) []fixtureUser {
	var us []fixtureUser
	for _, c := range f.Customers {
		us = append(us, c.Users...)
	}
	return us
}

// fixtureTenantNamed finds a fixture or generated tenant by name.
func fixtureTenantNamed(f *partnersFixture, name string) fixtureTenant {
	for _, c := range append([]fixtureTenant{f.Partner}, f.Customers...) {
		if strings.EqualFold(c.Name, name) {
			return c
		}
	}
	var i int
	if _, err := fmt.Sscanf(name, "customer%03d.onmicrosoft.com", &i); err == nil {
		return mspCustomer(f, i)
	}
	return fixtureTenant{Name: name}
}

// partnerPasswordHashes are the fixture users' password hashes by lower-case UPN, made once
// per process side by side.
var partnerPasswordHashes = sync.OnceValues(func() (map[string]string, error) {
	f, err := loadPartnersFixture()
	if err != nil {
		return nil, err
	}
	users := append(append([]fixtureUser(nil), f.Partner.Users...), customerUsers(f)...)
	hashes := make([]string, len(users))
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() { hashes[i], errs[i] = seededHash(u.Password) })
	}
	wg.Wait()
	m := make(map[string]string, len(users))
	for i, u := range users {
		m[strings.ToLower(u.UPN)] = hashes[i]
	}
	return m, errors.Join(errs...)
})

// tenantMailbox is a mailbox of a seeded partner or customer tenant.
func tenantMailbox(t SeedTenant, name, kind string, created time.Time) Recipient {
	first, last, _ := strings.Cut(name, " ")
	alias := strings.ToLower(aliasText(strings.ReplaceAll(name, " ", ".")))
	domain := t.Domains[len(t.Domains)-1]
	primary := alias + "@" + domain
	r := Recipient{
		TenantID: t.ID, GUID: objectID(t.ID, "recipient", alias), ExternalDirectoryObjectID: objectID(t.ID, "user", primary),
		Name: name, Alias: alias, DisplayName: name, UserPrincipalName: primary, PrimarySMTPAddress: primary,
		EmailAddresses: []string{"SMTP:" + primary, "smtp:" + alias + "@" + t.Name},
		RecipientType:  "UserMailbox", RecipientTypeDetails: kind, Database: "EURPR02DG150-db042",
		ProhibitSendQuotaBytes: DefaultProhibitSendQuota, ProhibitSendReceiveBytes: DefaultProhibitSendReceive,
		IssueWarningQuotaBytes: DefaultIssueWarningQuota, WhenCreated: created, WhenChanged: created,
		Extra: map[string]any{
			"DistinguishedName":  tenantDN(name, t.Name),
			"OrganizationalUnit": t.Name,
			"ArchiveStatus":      "None",
		},
	}
	if kind == "UserMailbox" {
		r.FirstName, r.LastName = first, last
	}
	return r
}

// tenantGroup is a distribution group of a seeded tenant.
func tenantGroup(t SeedTenant, name string, created time.Time) Recipient {
	alias := strings.ToLower(aliasText(strings.ReplaceAll(name, " ", "")))
	primary := alias + "@" + t.Domains[len(t.Domains)-1]
	return Recipient{
		TenantID: t.ID, GUID: objectID(t.ID, "recipient", alias), ExternalDirectoryObjectID: objectID(t.ID, "group", name),
		Name: name, Alias: alias, DisplayName: name, PrimarySMTPAddress: primary,
		EmailAddresses: []string{"SMTP:" + primary, "smtp:" + alias + "@" + t.Name},
		RecipientType:  "MailUniversalDistributionGroup", RecipientTypeDetails: "MailUniversalDistributionGroup",
		WhenCreated: created, WhenChanged: created,
		Extra: map[string]any{"DistinguishedName": tenantDN(name, t.Name), "OrganizationalUnit": t.Name},
	}
}

func tenantDN(name, tenantName string) string {
	return "CN=" + strings.ReplaceAll(name, ",", `\,`) + ",OU=" + tenantName +
		",OU=Microsoft Exchange Hosted Organizations,DC=EURPR02A002,DC=prod,DC=outlook,DC=com"
}
