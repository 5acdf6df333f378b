package exchange

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// A new tenant has objects before anyone creates one: the "Default" policies, the built-in
// role groups, the default sharing and OWA policies, one DKIM configuration for its initial
// domain, its organization configuration. fixtures/tenant.json lists them per object type,
// each with the properties where it differs from its schema's defaults. They are written into
// a tenant the first time a cmdlet of their class runs there (once: a marker object records
// it, so a default someone removed stays removed), inside one transaction.
//
// Strings may name the tenant: {tenant} (the initial domain, contoso.onmicrosoft.com),
// {tenantDash} (contoso-onmicrosoft-com), {tenantLabel} (contoso) and {displayName}.

//go:embed fixtures/*.json
var fixtureFiles embed.FS

// tenantDefault is one object of fixtures/tenant.json.
type tenantDefault struct {
	schema *Schema
	props  map[string]any
}

// tenantDefaults are fixtures/tenant.json by storage class, read once.
var tenantDefaults = sync.OnceValues(func() (map[string][]tenantDefault, error) {
	raw, err := fixtureFiles.ReadFile("fixtures/tenant.json")
	if err != nil {
		return nil, err
	}
	var byType map[string][]map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&byType); err != nil {
		return nil, fmt.Errorf("fixtures/tenant.json: %w", err)
	}
	ss := mustSchemas()
	out := map[string][]tenantDefault{}
	for typ, objs := range byType {
		s := ss.Lookup(typ)
		if s == nil {
			return nil, fmt.Errorf("fixtures/tenant.json: %s has no schema", typ)
		}
		for _, props := range objs {
			if name, _ := props["Name"].(string); name == "" {
				return nil, fmt.Errorf("fixtures/tenant.json: a %s without Name", typ)
			}
			for k := range props {
				if _, ok := s.Prop(k); !ok {
					return nil, fmt.Errorf("fixtures/tenant.json: %s %v: %s is not a property", typ, props["Name"], k)
				}
			}
			out[s.Class] = append(out[s.Class], tenantDefault{schema: s, props: props})
		}
	}
	return out, nil
})

// defaultsMarker is the storage class of the objects that record a class's defaults written.
const defaultsMarker = "TenantDefaults"

// ensureDefaults writes a class's tenant defaults into the tenant unless done before.
func (s *Server) ensureDefaults(ctx context.Context, t store.Tenant, cls string) error {
	key := strings.ToLower(t.ID) + "|" + cls
	if _, done := s.defaults.Load(key); done {
		return nil
	}
	// One writer at a time, and none once a read shows the marker: the first cmdlets of a
	// tenant arrive together.
	s.defaultsMu.Lock()
	defer s.defaultsMu.Unlock()
	if _, done := s.defaults.Load(key); done {
		return nil
	}
	if found, err := s.cfg.Store.Resolve(ctx, t.ID, []string{defaultsMarker}, []string{defaultsMarker}, cls); err != nil {
		return err
	} else if len(found) > 0 {
		s.defaults.Store(key, true)
		return nil
	}
	all, err := tenantDefaults()
	if err != nil {
		return err
	}
	defs := all[cls]
	imported, err := s.directoryObjects(ctx, t, cls)
	if err != nil {
		return err
	}
	if len(defs) == 0 && len(imported) == 0 {
		s.defaults.Store(key, true)
		return nil
	}
	g := s.org(t)
	err = s.cfg.Store.Tx(ctx, func(tx store.Objects) error {
		marker := store.Key{Space: defaultsMarker, Value: cls}
		found, err := tx.Resolve(ctx, t.ID, []string{defaultsMarker}, []string{defaultsMarker}, cls)
		if err != nil || len(found) > 0 {
			return err
		}
		objs := imported
		for i, d := range defs {
			o, err := d.object(t, g)
			if err != nil {
				return err
			}
			// Created in the fixture's order, a second apart, as the service made them.
			o.WhenCreated = o.WhenCreated.Add(time.Duration(i) * time.Second)
			o.WhenChanged = o.WhenCreated
			objs = append(objs, o)
		}
		for _, o := range objs {
			if _, err := tx.Create(ctx, o); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
				return fmt.Errorf("tenant default %s %q: %w", o.Type, o.Name, err)
			}
		}
		_, err = tx.Create(ctx, store.Object{TenantID: t.ID, Type: defaultsMarker, Name: cls, Keys: []store.Key{marker}})
		return err
	})
	if err != nil {
		return err
	}
	s.defaults.Store(key, true)
	return nil
}

// object makes the stored object of a tenant default.
func (d tenantDefault) object(t store.Tenant, g *org) (store.Object, error) {
	label, _, _ := strings.Cut(t.Name, ".")
	display := t.DisplayName
	if display == "" {
		display = t.Name
	}
	names := strings.NewReplacer("{tenant}", t.Name, "{tenantDash}", strings.ReplaceAll(t.Name, ".", "-"),
		"{tenantLabel}", label, "{displayName}", display)
	expand := func(s string) string {
		s = defaultRef().ReplaceAllStringFunc(s, func(m string) string {
			return derivedGUID(strings.TrimSuffix(strings.TrimPrefix(m, "{id:"), "}"), t.ID)
		})
		return names.Replace(s)
	}
	o := store.Object{TenantID: t.ID, Type: d.schema.Class, Props: map[string]any{}, WhenCreated: t.CreatedAt}
	if o.WhenCreated.IsZero() {
		o.WhenCreated = time.Now().UTC().Truncate(time.Second)
	}
	o.WhenChanged = o.WhenCreated
	for k, v := range d.props {
		p, _ := d.schema.Prop(k)
		switch x := v.(type) {
		case string:
			v = expand(x)
		case []any:
			list := make([]any, len(x))
			for i, it := range x {
				if s, ok := it.(string); ok {
					it = expand(s)
				}
				list[i] = it
			}
			v = list
		}
		if k == "Name" {
			o.Name = v.(string)
			continue
		}
		sv, err := p.storedValue(v)
		if err != nil {
			return o, fmt.Errorf("tenant default %s %s: %w", d.schema.Name, k, err)
		}
		o.Props[p.Name] = sv
	}
	// The derived GUID keeps a default's identity stable across tenants' re-creation.
	o.ID = derivedGUID(d.schema.Class+"/"+o.Name, t.ID)
	o.Keys = classOf(d.schema.Class).keys(&o)
	return o, nil
}

// defaultRef is a reference to another default in a fixture's string: {id:Class/Name} is the
// GUID of that default in the tenant.
var defaultRef = lazyRegexp(`\{id:[^}]+\}`)

// singleton returns the tenant's one object of a singleton schema.
func (s *Server) singleton(ctx context.Context, t store.Tenant, sc *Schema) (store.Object, error) {
	if err := s.ensureDefaults(ctx, t, sc.Class); err != nil {
		return store.Object{}, err
	}
	page, _, err := s.cfg.Store.List(ctx, store.ListQuery{TenantID: t.ID, Types: []string{sc.Class}, Limit: 1})
	if err != nil {
		return store.Object{}, err
	}
	if len(page) == 0 {
		return store.Object{}, errNotFound(sc.Name, s.dc)
	}
	return page[0], nil
}

// directoryObjects are the objects of a class that the directory already holds: the accepted
// domains of the tenant (the ones Entra ID verified), and recipients written by the store's
// recipient API (tenants seeded with it, data folders of earlier versions).
func (s *Server) directoryObjects(ctx context.Context, t store.Tenant, cls string) ([]store.Object, error) {
	switch cls {
	case "Recipient":
		return s.legacyRecipients(ctx, t)
	case "AcceptedDomain":
	default:
		return nil, nil
	}
	domains, err := s.cfg.Store.AcceptedDomains(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	out := make([]store.Object, 0, len(domains))
	for _, d := range domains {
		o := store.Object{TenantID: t.ID, Type: cls, ID: d.GUID, Name: d.Name, WhenCreated: d.WhenCreated, WhenChanged: d.WhenChanged,
			Props: map[string]any{"DomainName": d.DomainName, "DomainType": d.DomainType}}
		if d.Default {
			o.Props["Default"] = true
		}
		if d.Initial {
			o.Props["InitialDomain"] = true
		}
		o.Keys = classOf(cls).keys(&o)
		out = append(out, o)
	}
	return out, nil
}

// legacyRecipients converts the tenant's recipients of the store's recipient table into
// objects.
func (s *Server) legacyRecipients(ctx context.Context, t store.Tenant) ([]store.Object, error) {
	var out []store.Object
	after := ""
	for {
		page, next, err := s.cfg.Store.Recipients(ctx, store.RecipientQuery{TenantID: t.ID, After: after, Limit: 5000})
		if err != nil {
			return nil, err
		}
		for i := range page {
			out = append(out, RecipientObject(&page[i]))
		}
		if next == "" {
			return out, nil
		}
		after = next
	}
}

// RecipientObject is a recipient of the store's recipient API as an Exchange object.
func RecipientObject(r *store.Recipient) store.Object {
	o := store.Object{TenantID: r.TenantID, Type: recipientStoreType(r.RecipientTypeDetails), ID: r.GUID, Name: r.Name,
		WhenCreated: r.WhenCreated, WhenChanged: r.WhenChanged, Props: make(map[string]any, 16+len(r.Extra))}
	for k, v := range r.Extra {
		if k != "OrganizationalUnit" {
			o.Props[k] = v
		}
	}
	for k, v := range map[string]string{"Alias": r.Alias, "DisplayName": r.DisplayName, "FirstName": r.FirstName, "LastName": r.LastName,
		"UserPrincipalName": r.UserPrincipalName, "PrimarySmtpAddress": r.PrimarySMTPAddress, "RecipientType": r.RecipientType,
		"RecipientTypeDetails": r.RecipientTypeDetails, "Database": r.Database, "ExternalDirectoryObjectId": r.ExternalDirectoryObjectID} {
		if v != "" {
			o.Props[k] = v
		}
	}
	if len(r.EmailAddresses) > 0 {
		o.Props["EmailAddresses"] = r.EmailAddresses
	}
	if isMailboxType(r.RecipientTypeDetails) {
		o.Props["ProhibitSendQuota"] = r.ProhibitSendQuotaBytes
		o.Props["ProhibitSendReceiveQuota"] = r.ProhibitSendReceiveBytes
		o.Props["IssueWarningQuota"] = r.IssueWarningQuotaBytes
	}
	if r.HiddenFromAddressLists {
		o.Props["HiddenFromAddressListsEnabled"] = true
	}
	o.Keys = recipientClass.keys(&o)
	return o
}

// lazyRegexp compiles a pattern on first use, so package initialisation does no work.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
