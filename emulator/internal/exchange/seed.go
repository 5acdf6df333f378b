package exchange

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// The demo tenant's Exchange recipients come from fixtures/demo.json: the sign-in users'
// mailboxes, then people, shared, room and equipment mailboxes, mail users, contacts and
// groups (with members) drawn from its pools by a fixed random source, so every seed of a
// size holds the same names.

// demoFixture is fixtures/demo.json.
type demoFixture struct {
	Users []struct {
		UserPrincipalName, FirstName, LastName string
	} `json:"users"`
	FirstNames      []string `json:"firstNames"`
	LastNames       []string `json:"lastNames"`
	Departments     []string `json:"departments"`
	Titles          []string `json:"titles"`
	Offices         []struct{ City, CountryOrRegion, UsageLocation string }
	SharedMailboxes []string `json:"sharedMailboxes"`
	Equipment       []string `json:"equipment"`
	ExternalDomains []string `json:"externalDomains"`
	Groups          []string `json:"groups"`
	Mix             struct {
		DemoMailboxes, MailUsers, Contacts int
	} `json:"mix"`
}

// Mailbox counts of the seeds.
const largeMailboxes = 100_000

// Seed writes the recipients of a seed (store.SeedDemo or store.SeedLarge) into the demo
// tenant, which store.Seed has made.
func Seed(ctx context.Context, s store.Store, seed string) error {
	raw, err := fixtureFiles.ReadFile("fixtures/demo.json")
	if err != nil {
		return err
	}
	var f demoFixture
	if err := json.Unmarshal(raw, &f); err != nil {
		return fmt.Errorf("fixtures/demo.json: %w", err)
	}
	t, err := s.Tenant(ctx, store.DemoTenantID)
	if err != nil {
		return fmt.Errorf("seed %s: %w", seed, err)
	}
	mailboxes := f.Mix.DemoMailboxes
	if seed == store.SeedLarge {
		mailboxes = largeMailboxes
	}
	g := newSeedGenerator(&f, t, time.Now().UTC().Truncate(time.Second))
	objs := func(yield func(store.Object) bool) {
		// The marker: the recipients of this tenant are objects already (see ensureDefaults).
		if !yield(store.Object{TenantID: t.ID, Type: defaultsMarker, Name: "Recipient", Keys: []store.Key{{Space: defaultsMarker, Value: "Recipient"}}}) {
			return
		}
		for o := range g.objects(mailboxes) {
			if !yield(o) {
				return
			}
		}
	}
	if err := s.CreateMany(ctx, objs); err != nil {
		return fmt.Errorf("seed %s: recipients: %w", seed, err)
	}
	return nil
}

// seedGenerator makes the seeded objects: deterministic names and properties from a fixed
// random source, dates relative to now.
type seedGenerator struct {
	f         *demoFixture
	t         store.Tenant
	rng       *rand.Rand
	now       time.Time
	names     map[string]bool // lower-case Names taken
	aliases   map[string]bool // lower-case aliases taken
	databases []string
	people    []string // IDs of user mailboxes, for group members
}

func newSeedGenerator(f *demoFixture, t store.Tenant, now time.Time) *seedGenerator {
	g := &seedGenerator{
		f: f, t: t, now: now,
		rng:     rand.New(rand.NewPCG(0x636f6e746f736f, 0x65786f63746c)), // "contoso", "exoctl"
		names:   map[string]bool{},
		aliases: map[string]bool{},
	}
	for range 16 {
		g.databases = append(g.databases, fmt.Sprintf("EURPR01DG%03d-db%03d", 100+g.rng.IntN(200), g.rng.IntN(200)))
		g.rng.IntN(5) // the draws of an earlier server list, so the seed's names stay as they were
		g.rng.IntN(10000)
	}
	return g
}

func (g *seedGenerator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

// objects yields the seed's objects: the sign-in users' mailboxes, generated mailboxes up to
// mailboxes in total, mail users, contacts, groups and their memberships.
func (g *seedGenerator) objects(mailboxes int) iter.Seq[store.Object] {
	return func(yield func(store.Object) bool) {
		for _, u := range g.f.Users {
			alias := g.alias(strings.SplitN(u.UserPrincipalName, "@", 2)[0])
			o := g.mailbox("UserMailbox", g.name(u.FirstName+" "+u.LastName), u.FirstName, u.LastName, alias)
			o.Props["ExternalDirectoryObjectId"] = uuid.NewSHA1(uuid.MustParse(store.DemoTenantID), []byte("user/"+u.UserPrincipalName)).String()
			o.Props["UserPrincipalName"] = u.UserPrincipalName
			g.people = append(g.people, o.ID)
			if !yield(g.keyed(o)) {
				return
			}
		}
		for i := len(g.f.Users); i < mailboxes; i++ {
			if !yield(g.keyed(g.generatedMailbox(i))) {
				return
			}
		}
		for _, o := range g.others() {
			if !yield(g.keyed(o)) {
				return
			}
		}
	}
}

func (g *seedGenerator) keyed(o store.Object) store.Object {
	if details, ok := o.Props["RecipientTypeDetails"].(string); ok && o.Type == typeMailbox {
		o.Type = recipientStoreType(details)
	}
	if o.Keys == nil {
		o.Keys = classOf(o.Type).keys(&o)
	}
	return o
}

// generatedMailbox makes mailbox number i: in the demo's range a fixed mix (12 shared,
// 4 equipment, 9 rooms), beyond it about 4% shared, 1.5% rooms and 0.5% equipment.
func (g *seedGenerator) generatedMailbox(i int) store.Object {
	kind := "UserMailbox"
	if i < g.f.Mix.DemoMailboxes {
		switch {
		case i%20 == 3:
			kind = "SharedMailbox"
		case i%30 == 7:
			kind = "RoomMailbox"
		case i%60 == 11:
			kind = "EquipmentMailbox"
		}
	} else {
		switch p := g.rng.IntN(1000); {
		case p < 40:
			kind = "SharedMailbox"
		case p < 55:
			kind = "RoomMailbox"
		case p < 60:
			kind = "EquipmentMailbox"
		}
	}
	office := g.f.Offices[g.rng.IntN(len(g.f.Offices))]
	switch kind {
	case "SharedMailbox":
		base := g.pick(g.f.SharedMailboxes)
		if g.names[strings.ToLower(base)] {
			base += " " + office.City
		}
		name := g.name(base)
		return g.mailbox(kind, name, "", "", g.alias(name))
	case "RoomMailbox":
		name := g.name(fmt.Sprintf("Conf Room %s %d%c", office.City, 1+g.rng.IntN(12), 'A'+rune(g.rng.IntN(6))))
		o := g.mailbox(kind, name, "", "", g.alias(name))
		o.Props["ResourceCapacity"] = int64(4 + 2*g.rng.IntN(9))
		o.Props["City"] = office.City
		return o
	case "EquipmentMailbox":
		name := g.name(fmt.Sprintf("%s %02d", g.pick(g.f.Equipment), 1+g.rng.IntN(30)))
		return g.mailbox(kind, name, "", "", g.alias(name))
	}
	first, last := g.pick(g.f.FirstNames), g.pick(g.f.LastNames)
	o := g.mailbox(kind, g.name(first+" "+last), first, last, g.alias(first+"."+last))
	o.Props["Department"] = g.pick(g.f.Departments)
	o.Props["Title"] = g.pick(g.f.Titles)
	o.Props["City"] = office.City
	o.Props["CountryOrRegion"] = office.CountryOrRegion
	o.Props["UsageLocation"] = office.CountryOrRegion
	o.Props["Office"] = office.City
	if len(g.people) < 400 {
		g.people = append(g.people, o.ID)
	}
	return o
}

// mailbox fills the properties every mailbox has; the others keep their schema defaults.
func (g *seedGenerator) mailbox(kind, name, first, last, alias string) store.Object {
	created := g.when()
	primary := alias + "@" + store.DemoDefaultDomain
	o := g.recipient(name, created)
	for k, v := range map[string]any{
		"Alias": alias, "DisplayName": name, "FirstName": first, "LastName": last,
		"UserPrincipalName": primary, "PrimarySmtpAddress": primary,
		"EmailAddresses": []string{"SMTP:" + primary, "smtp:" + alias + "@" + g.t.Name},
		"RecipientType":  "UserMailbox", "RecipientTypeDetails": kind,
		"Database": g.pick(g.databases), "ExternalDirectoryObjectId": uuid.NewString(),
	} {
		if v != "" {
			o.Props[k] = v
		}
	}
	setTypeQuotas(o.Props, kind)
	return o
}

func (g *seedGenerator) recipient(name string, created time.Time) store.Object {
	return store.Object{TenantID: g.t.ID, Type: "Recipient", ID: uuid.NewString(), Name: name,
		Props: map[string]any{}, WhenCreated: created, WhenChanged: g.changed(created)}
}

// others makes the recipients that are not mailboxes (mail users, contacts, groups) and the
// groups' memberships.
func (g *seedGenerator) others() []store.Object {
	var out []store.Object
	person := func() (first, last, name string) {
		first, last = g.pick(g.f.FirstNames), g.pick(g.f.LastNames)
		return first, last, g.name(first + " " + last)
	}
	for range g.f.Mix.MailUsers {
		first, last, name := person()
		alias := g.alias(first + "." + last)
		external := strings.ToLower(aliasFrom(first+"."+last)) + "@" + g.pick(g.f.ExternalDomains)
		primary := alias + "@" + store.DemoDefaultDomain
		o := g.recipient(name, g.when())
		for k, v := range map[string]any{
			"Alias": alias, "DisplayName": name + " (External)", "FirstName": first, "LastName": last,
			"UserPrincipalName": primary, "PrimarySmtpAddress": primary,
			"EmailAddresses": []string{"SMTP:" + primary, "smtp:" + alias + "@" + g.t.Name},
			"RecipientType":  "MailUser", "RecipientTypeDetails": "MailUser",
			"ExternalEmailAddress": "SMTP:" + external, "ExternalDirectoryObjectId": uuid.NewString(),
		} {
			o.Props[k] = v
		}
		out = append(out, o)
	}
	for range g.f.Mix.Contacts {
		first, last, name := person()
		alias := g.alias(first + last)
		external := strings.ToLower(aliasFrom(first+"."+last)) + "@" + g.pick(g.f.ExternalDomains)
		o := g.recipient(name, g.when())
		for k, v := range map[string]any{
			"Alias": alias, "DisplayName": name, "FirstName": first, "LastName": last,
			"PrimarySmtpAddress": external, "EmailAddresses": []string{"SMTP:" + external},
			"RecipientType": "MailContact", "RecipientTypeDetails": "MailContact",
			"ExternalEmailAddress": "SMTP:" + external, "ExternalDirectoryObjectId": uuid.NewString(),
		} {
			o.Props[k] = v
		}
		out = append(out, o)
	}
	admin := ""
	if len(g.people) > 0 {
		admin = g.people[0]
	}
	for i, base := range g.f.Groups {
		details, typ := "MailUniversalDistributionGroup", "MailUniversalDistributionGroup"
		switch {
		case i%4 == 3:
			details, typ = "MailUniversalSecurityGroup", "MailUniversalSecurityGroup"
		case i%5 == 4:
			details = "GroupMailbox"
		}
		name := g.name(base)
		alias := g.alias(strings.ReplaceAll(base, " ", ""))
		primary := alias + "@" + store.DemoDefaultDomain
		o := g.recipient(name, g.when())
		for k, v := range map[string]any{
			"Alias": alias, "DisplayName": name, "PrimarySmtpAddress": primary,
			"EmailAddresses": []string{"SMTP:" + primary, "smtp:" + alias + "@" + g.t.Name},
			"RecipientType":  typ, "RecipientTypeDetails": details, "ExternalDirectoryObjectId": uuid.NewString(),
		} {
			o.Props[k] = v
		}
		if details == "GroupMailbox" {
			o.Props["Database"] = g.pick(g.databases)
		}
		if admin != "" {
			o.Props["ManagedBy"] = []string{admin}
		}
		out = append(out, o)
		for _, m := range g.members() {
			out = append(out, membership(g.t.ID, o.ID, m))
		}
	}
	return out
}

// members picks a group's members among the seeded people.
func (g *seedGenerator) members() []string {
	if len(g.people) == 0 {
		return nil
	}
	n := 3 + g.rng.IntN(6)
	seen := map[string]bool{}
	var out []string
	for range n {
		id := g.people[g.rng.IntN(len(g.people))]
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// when picks a creation time in the last six years.
func (g *seedGenerator) when() time.Time {
	span := int64(6 * 365 * 24 * time.Hour / time.Second)
	return g.now.Add(-time.Duration(1+g.rng.Int64N(span)) * time.Second)
}

// changed picks a change time between created and now.
func (g *seedGenerator) changed(created time.Time) time.Time {
	span := int64(g.now.Sub(created) / time.Second)
	return created.Add(time.Duration(g.rng.Int64N(span+1)) * time.Second)
}

// name returns base, or base with the first free number appended, as Exchange does.
func (g *seedGenerator) name(base string) string {
	n := base
	for i := 2; g.names[strings.ToLower(n)]; i++ {
		n = fmt.Sprintf("%s %d", base, i)
	}
	g.names[strings.ToLower(n)] = true
	return n
}

// alias returns base as an alias (lower case, no spaces), numbered when taken.
func (g *seedGenerator) alias(base string) string {
	base = strings.ToLower(aliasFrom(base))
	a := base
	for i := 2; g.aliases[a]; i++ {
		a = fmt.Sprintf("%s%d", base, i)
	}
	g.aliases[a] = true
	return a
}
