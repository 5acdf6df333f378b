package exchange

import (
	"strings"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// class is what a storage class needs beyond its schemas: the unique keys its objects hold and
// the key spaces an -Identity is looked up in.
type class struct {
	identity []string
	keys     func(o *store.Object) []store.Key
}

// Key spaces of recipients. Names, aliases, UPNs and proxy addresses are unique among all the
// tenant's recipients (the service refuses a second one with its already-exists errors).
const (
	spaceRecipientName  = "Recipient.Name"
	spaceRecipientAlias = "Recipient.Alias"
	spaceUPN            = "Recipient.UserPrincipalName"
	spaceExternalID     = "Recipient.ExternalDirectoryObjectId"
)

var recipientClass = class{
	identity: []string{store.SpaceID, spaceRecipientName, spaceRecipientAlias, store.SpaceProxy, spaceUPN, spaceExternalID},
	keys: func(o *store.Object) []store.Key {
		// Proxy addresses first: a new recipient whose alias or address is taken is told
		// about the address, as the service does.
		var keys []store.Key
		seen := map[string]bool{}
		for _, a := range asStrings(o.Props["EmailAddresses"]) {
			k := store.ProxyKey(a)
			if !seen[strings.ToLower(k.Value)] {
				seen[strings.ToLower(k.Value)] = true
				keys = append(keys, k)
			}
		}
		keys = append(keys, store.Key{Space: spaceRecipientName, Value: o.Name})
		add := func(space, prop string) {
			if v, _ := o.Props[prop].(string); v != "" {
				keys = append(keys, store.Key{Space: space, Value: v})
			}
		}
		add(spaceRecipientAlias, "Alias")
		// A UPN that is one of the addresses resolves through the address already.
		if upn, _ := o.Props["UserPrincipalName"].(string); upn != "" && !seen[strings.ToLower(store.ProxyKey(upn).Value)] {
			keys = append(keys, store.Key{Space: spaceUPN, Value: upn})
		}
		add(spaceExternalID, "ExternalDirectoryObjectId")
		return keys
	},
}

// relationKey makes the one key of a relation object (a permission, a membership): the
// relation and the two objects it joins, so that a second identical grant is refused.
func relationKey(space string, ids ...string) []store.Key {
	return []store.Key{{Space: space, Value: strings.Join(ids, "|")}}
}

// Store types of recipients by kind (all of class Recipient): mailboxes, mail users, contacts
// and groups (Microsoft 365 groups included).
const (
	typeMailbox  = "Recipient"
	typeMailUser = "Recipient:MailUser"
	typeContact  = "Recipient:MailContact"
	typeGroup    = "Recipient:Group"
)

var recipientTypes = []string{typeMailbox, typeMailUser, typeContact, typeGroup}

// recipientStoreType is the store type of a recipient of a RecipientTypeDetails.
func recipientStoreType(details string) string {
	switch details {
	case "MailUser", "GuestMailUser":
		return typeMailUser
	case "MailContact", "MailForestContact":
		return typeContact
	case "MailUniversalDistributionGroup", "MailUniversalSecurityGroup", "MailNonUniversalGroup", "RoomList",
		"DynamicDistributionGroup", "GroupMailbox":
		return typeGroup
	}
	return typeMailbox
}

// classOf returns the storage class of a store type; a class without entry has unique names.
func classOf(name string) class {
	if strings.HasPrefix(name, "Recipient:") {
		name = "Recipient"
	}
	switch name {
	case "Recipient":
		return recipientClass
	case classPermission, classMembership:
		return class{identity: []string{store.SpaceID}, keys: func(o *store.Object) []store.Key { return o.Keys }}
	}
	space := name + ".Name"
	return class{
		identity: []string{store.SpaceID, space},
		keys:     func(o *store.Object) []store.Key { return []store.Key{{Space: space, Value: o.Name}} },
	}
}

// Storage classes of relations.
const (
	classPermission = "Permission"
	classMembership = "GroupMember"
)
