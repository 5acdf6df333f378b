package exchange

import (
	"strings"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// render is one object being printed through its schema.
type render struct {
	s   *Schema
	o   *store.Object
	org *org
	// raw, when set, holds the object's properties as their stored JSON (a streamed page):
	// o.Props is then unused.
	raw *rawProps
}

// stored returns a property the object stores.
func (r *render) stored(name string) (any, bool) {
	if r.raw != nil {
		return r.raw.value(r.s, name)
	}
	v, ok := r.o.Props[name]
	return v, ok
}

// get returns a stored property, or its default when the object does not have it.
func (r *render) get(name string) any {
	if v, ok := r.stored(name); ok {
		return v
	}
	if i, ok := r.s.stored[name]; ok {
		return r.s.Props[i].def
	}
	if p, ok := r.s.Prop(name); ok {
		return p.def
	}
	return nil
}

func (r *render) str(name string) string {
	if r.raw != nil {
		if s, ok := r.raw.plainString(r.s, name); ok {
			return s
		}
	}
	s, _ := r.get(name).(string)
	return s
}

// Object prints o through the schema into dst (which it may reuse): the defaults, then the
// stored values in their places, then the computed properties.
func (s *Schema) Object(dst Object, o *store.Object, g *org) Object {
	r := render{s: s, o: o, org: g}
	base := len(dst)
	dst = append(dst, s.defaults...)
	for k, v := range o.Props {
		if i, ok := s.stored[k]; ok {
			dst[base+i] = s.Props[i].property(v)
		}
	}
	for _, i := range s.computed {
		p := &s.Props[i]
		if p.compute != nil {
			dst[base+i] = p.compute(&r, p)
		} else {
			dst[base+i] = r.copied(p)
		}
	}
	return dst
}

// copied prints a property that shows another (stored) one: with that one's type when the
// schema has it.
func (r *render) copied(p *prop) Property {
	q, ok := r.s.Prop(p.copyOf)
	if !ok {
		v, _ := r.stored(p.copyOf)
		return Any(p.Name, v)
	}
	out := q.property(r.get(q.Name))
	out.Name = p.Name
	return out
}

// value is a property's value as filters and Set see it: stored, default or computed.
func (s *Schema) value(o *store.Object, g *org, name string) (any, bool) {
	p, ok := s.Prop(name)
	if !ok {
		return nil, false
	}
	switch {
	case p.Stored():
		if v, ok := o.Props[p.Name]; ok {
			return v, true
		}
		return p.def, true
	case p.copyOf != "":
		if _, ok := s.Prop(p.copyOf); !ok {
			return o.Props[p.copyOf], true
		}
		return s.value(o, g, p.copyOf)
	}
	r := render{s: s, o: o, org: g}
	return p.compute(&r, p).Value(), true
}

// computes are the computed properties schemas name with "=name".
var computes = map[string]computeFunc{
	"name":     func(r *render, p *prop) Property { return Str(p.Name, r.o.Name) },
	"identity": func(r *render, p *prop) Property { return Str(p.Name, r.identity()) },
	"guid":     func(r *render, p *prop) Property { return GUID(p.Name, r.o.ID) },
	"dn":       func(r *render, p *prop) Property { return Str(p.Name, r.dn()) },
	"objectCategory": func(r *render, p *prop) Property {
		if r.s.ObjectCategory == "" { // a recipient: by its type
			return Str(p.Name, recipientCategory(r.str("RecipientType"), r.org))
		}
		return Str(p.Name, r.org.schemaRoot+r.s.ObjectCategory)
	},
	"objectClass": func(r *render, p *prop) Property {
		if r.s.ObjectClass == nil {
			return Strings(p.Name, recipientObjectClass(r.str("RecipientType")))
		}
		return Strings(p.Name, r.s.ObjectClass)
	},
	"whenChanged":        func(r *render, p *prop) Property { return Date(p.Name, r.o.WhenChanged) },
	"whenCreated":        func(r *render, p *prop) Property { return Date(p.Name, r.o.WhenCreated) },
	"whenChangedUTC":     func(r *render, p *prop) Property { return DateUTC(p.Name, r.o.WhenChanged) },
	"whenCreatedUTC":     func(r *render, p *prop) Property { return DateUTC(p.Name, r.o.WhenCreated) },
	"ouRoot":             func(r *render, p *prop) Property { return Str(p.Name, r.org.root) },
	"organizationId":     func(r *render, p *prop) Property { return Str(p.Name, r.org.orgID) },
	"organizationalUnit": func(r *render, p *prop) Property { return Str(p.Name, r.org.ou) },
	"originatingServer":  func(r *render, p *prop) Property { return Str(p.Name, r.org.dc) },
	"complianceId":       func(r *render, p *prop) Property { return Str(p.Name, r.org.ou+"/Configuration/"+r.o.Name) },
	"tenantName":         func(r *render, p *prop) Property { return Str(p.Name, r.org.tenant.Name) },
	"tenantDisplayName": func(r *render, p *prop) Property {
		if r.org.tenant.DisplayName != "" {
			return Str(p.Name, r.org.tenant.DisplayName)
		}
		return Str(p.Name, r.org.tenant.Name)
	},
	// Recipients.
	"isShared": func(r *render, p *prop) Property {
		return Bool(p.Name, r.str("RecipientTypeDetails") == "SharedMailbox")
	},
	"isResource": func(r *render, p *prop) Property {
		return Bool(p.Name, resourceType(r.str("RecipientTypeDetails")) != "")
	},
	"resourceType": func(r *render, p *prop) Property {
		if t := r.str("ResourceType"); t != "" {
			return Str(p.Name, t)
		}
		return OptStr(p.Name, resourceType(r.str("RecipientTypeDetails")))
	},
	"accountDisabled": func(r *render, p *prop) Property {
		return Bool(p.Name, r.str("RecipientTypeDetails") != "UserMailbox")
	},
	"legacyDN":       func(r *render, p *prop) Property { return Str(p.Name, legacyExchangeDN(r.o.ID, r.str("Alias"))) },
	"samAccountName": func(r *render, p *prop) Property { return Str(p.Name, samAccountName(r.o.ID)) },
	"exchangeGuid": func(r *render, p *prop) Property {
		if g := r.str("ExchangeGuid"); g != "" {
			return GUID(p.Name, g)
		}
		return GUID(p.Name, derivedGUID("ExchangeGuid", r.o.ID))
	},
	// DatabaseGuid, NetID and SKUAssigned of a mailbox, stable for the same object.
	"databaseGuid": func(r *render, p *prop) Property {
		if db := r.str("Database"); db != "" {
			return GUID(p.Name, derivedGUID("DatabaseGuid", db))
		}
		return Null(p.Name)
	},
	"netID": func(r *render, p *prop) Property {
		return Str(p.Name, "1003"+strings.ToUpper(strings.ReplaceAll(derivedGUID("NetID", r.o.ID), "-", "")[:12]))
	},
	"skuAssigned": func(r *render, p *prop) Property {
		return Bool(p.Name, r.str("RecipientTypeDetails") == "UserMailbox")
	},
	// Get-Recipient shows mailbox properties only for mailboxes.
	"mailboxDatabase": func(r *render, p *prop) Property {
		if !isMailboxType(r.str("RecipientTypeDetails")) {
			return Null(p.Name)
		}
		return OptStr(p.Name, r.str("Database"))
	},
	"mailboxArchiveGuid": func(r *render, p *prop) Property {
		if !isMailboxType(r.str("RecipientTypeDetails")) {
			return Null(p.Name)
		}
		return GUID(p.Name, zeroGUID)
	},
	"whenMailboxCreated": func(r *render, p *prop) Property {
		if !isMailboxType(r.str("RecipientTypeDetails")) {
			return Null(p.Name)
		}
		return Date(p.Name, r.o.WhenCreated)
	},
	"externalEmailAddress": func(r *render, p *prop) Property {
		t := strings.ToLower(r.str("RecipientType"))
		if !strings.Contains(t, "mailuser") && !strings.Contains(t, "contact") {
			return Null(p.Name)
		}
		if e := r.str("ExternalEmailAddress"); e != "" {
			return Str(p.Name, e)
		}
		return OptStr(p.Name, prefixed("SMTP:", r.str("PrimarySmtpAddress")))
	},
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// identity is what Identity and Id show: the property the schema names.
func (r *render) identity() string {
	switch r.s.Identity {
	case "Name":
		return r.o.Name
	case "Guid":
		return r.o.ID
	case "DistinguishedName":
		return r.dn()
	}
	return r.str(r.s.Identity)
}

// dn is the object's DistinguishedName: stored, or made from its name and the schema's
// container (directory objects live in the tenant's OU).
func (r *render) dn() string {
	if dn := r.str("DistinguishedName"); dn != "" {
		return dn
	}
	if r.s.Container == "" {
		return "CN=" + escapeRDN(r.o.Name) + r.org.dnSuffix
	}
	switch r.s.Container {
	case ".":
		return r.org.configDN
	case "compliance": // policies of Security & Compliance live in the tenant's configuration unit
		return "CN=" + escapeRDN(r.o.Name) + ",CN=Configuration,CN=" + r.org.root +
			strings.TrimPrefix(r.org.dnSuffix, ",OU="+r.org.root)
	}
	return "CN=" + escapeRDN(r.o.Name) + "," + r.s.Container + "," + r.org.configDN
}

func resourceType(details string) string {
	switch details {
	case "RoomMailbox":
		return "Room"
	case "EquipmentMailbox":
		return "Equipment"
	}
	return ""
}

func legacyExchangeDN(guid, alias string) string {
	hex := strings.ReplaceAll(strings.ToLower(guid), "-", "")
	if len(alias) > 8 {
		alias = alias[:8]
	}
	return "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=" + hex + "-" + alias
}

// The objectClass lists of recipients, shared by every object printed (never changed).
var (
	objectClassContact      = []string{"top", "person", "organizationalPerson", "contact"}
	objectClassGroup        = []string{"top", "group"}
	objectClassPublicFolder = []string{"top", "publicFolder"}
	objectClassUser         = []string{"top", "person", "organizationalPerson", "user"}
)

func recipientObjectClass(recipientType string) []string {
	t := strings.ToLower(recipientType)
	switch {
	case strings.Contains(t, "contact"):
		return objectClassContact
	case strings.Contains(t, "group"):
		return objectClassGroup
	case strings.Contains(t, "publicfolder"):
		return objectClassPublicFolder
	}
	return objectClassUser
}

func recipientCategory(recipientType string, o *org) string {
	t := strings.ToLower(recipientType)
	switch {
	case strings.Contains(t, "contact"):
		return o.schemaRoot + "Person"
	case strings.Contains(t, "dynamic"):
		return o.schemaRoot + "ms-Exch-Dynamic-Distribution-List"
	case strings.Contains(t, "group"):
		return o.schemaRoot + "Group"
	}
	return o.person
}
