package exchange

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// What New- of groups, contacts and mail users does beyond storing properties: the alias and
// addresses come from the name (or the external address), the type from -Type, and a new
// group's -Members and -ManagedBy name recipients that exist.

// newRecipient starts a new recipient of a type: name, alias, display name, addresses.
func (c *task) newRecipient(ctx context.Context, o *store.Object, recipientType, details, primary string) error {
	nv, _ := c.take("Name")
	name, _ := nv.(string)
	if name = strings.TrimSpace(name); name == "" {
		return errMissingMandatory(c.Cmdlet.Name, "Name")
	}
	o.Name = name
	av, _ := c.take("Alias")
	alias, _ := av.(string)
	if alias = strings.TrimSpace(alias); alias == "" {
		alias = aliasFrom(name)
	}
	domains, def, initial, err := c.acceptedDomains(ctx)
	if err != nil {
		return err
	}
	if pv, ok := c.take("PrimarySmtpAddress"); ok && pv != nil {
		primary, _ = cutPrefixFold(strings.TrimSpace(pv.(string)), "smtp:")
	}
	addrs := []string{}
	if primary == "" {
		primary = alias + "@" + def
	}
	if !validSMTP(primary) {
		return errValidation(fmt.Sprintf("The email address \"%s\" isn't correct. Please use this format: user name, the @ sign, followed by the domain name. For example, tonysmith@contoso.com or tony.smith@contoso.com.", primary))
	}
	addrs = append(addrs, "SMTP:"+primary)
	if recipientType != "MailContact" {
		if e := checkDomain(proxy{"SMTP", primary}, domains); e != nil {
			return e
		}
		if moera := alias + "@" + initial; !strings.EqualFold(moera, primary) {
			addrs = append(addrs, "smtp:"+moera)
		}
	}
	display := name
	if dv, ok := c.take("DisplayName"); ok && dv != nil {
		display = dv.(string)
	}
	o.ID = uuid.NewString()
	for k, v := range map[string]any{"Alias": alias, "DisplayName": display, "PrimarySmtpAddress": primary, "EmailAddresses": addrs,
		"RecipientType": recipientType, "RecipientTypeDetails": details, "ExternalDirectoryObjectId": uuid.NewString()} {
		o.Props[k] = v
	}
	return nil
}

// external reads -ExternalEmailAddress: the address a contact or mail user forwards to.
func (c *task) external() (string, error) {
	v, _ := c.take("ExternalEmailAddress")
	s, _ := v.(string)
	addr, _ := cutPrefixFold(strings.TrimSpace(s), "smtp:")
	if addr == "" {
		return "", errMissingMandatory(c.Cmdlet.Name, "ExternalEmailAddress")
	}
	if !validSMTP(addr) {
		return "", errValidation(fmt.Sprintf("The email address \"%s\" isn't correct. Please use this format: user name, the @ sign, followed by the domain name. For example, tonysmith@contoso.com or tony.smith@contoso.com.", addr))
	}
	return addr, nil
}

var newDistributionGroupHooks = hooks{
	params: []string{"Type", "RoomList", "Members", "ManagedBy"},
	apply: func(ctx context.Context, c *task, o *store.Object) error {
		typ, details := "MailUniversalDistributionGroup", "MailUniversalDistributionGroup"
		if v, _ := c.take("Type"); strings.EqualFold(fmt.Sprint(v), "Security") {
			typ, details = "MailUniversalSecurityGroup", "MailUniversalSecurityGroup"
		}
		if v, _ := c.take("RoomList"); v == true {
			details = "RoomList"
		}
		c.take("Members")
		c.take("ManagedBy")
		return c.newRecipient(ctx, o, typ, details, "")
	},
	// -Members and -ManagedBy must name recipients that exist; members are added in the
	// transaction that creates the group.
	done: func(ctx context.Context, c *task, o *store.Object) error {
		var managers []string
		for _, id := range asStrings(c.Params["ManagedBy"]) {
			m, err := c.recipient(ctx, id)
			if err != nil {
				return err
			}
			managers = append(managers, m.Name)
		}
		if len(managers) > 0 {
			if _, err := c.tx.Update(ctx, c.Tenant.ID, o.ID, func(g *store.Object) error {
				g.Props["ManagedBy"] = managers
				return nil
			}); err != nil {
				return err
			}
			o.Props["ManagedBy"] = managers
		}
		for _, id := range asStrings(c.Params["Members"]) {
			m, err := c.recipient(ctx, id)
			if err != nil {
				return err
			}
			if _, err := c.tx.Create(ctx, membership(c.Tenant.ID, o.ID, m.ID)); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
				return err
			}
		}
		return nil
	},
}

var newMailContactHooks = hooks{params: []string{"ExternalEmailAddress"}, apply: func(ctx context.Context, c *task, o *store.Object) error {
	addr, err := c.external()
	if err != nil {
		return err
	}
	if err := c.newRecipient(ctx, o, "MailContact", "MailContact", addr); err != nil {
		return err
	}
	o.Props["ExternalEmailAddress"] = "SMTP:" + addr
	return nil
}}

var newMailUserHooks = hooks{params: []string{"ExternalEmailAddress", "MicrosoftOnlineServicesID", "Password"}, apply: func(ctx context.Context, c *task, o *store.Object) error {
	addr, err := c.external()
	if err != nil {
		return err
	}
	upn, _ := c.take("MicrosoftOnlineServicesID")
	c.take("Password")
	primary, _ := upn.(string)
	if err := c.newRecipient(ctx, o, "MailUser", "MailUser", primary); err != nil {
		return err
	}
	o.Props["ExternalEmailAddress"] = "SMTP:" + addr
	o.Props["UserPrincipalName"] = o.Props["PrimarySmtpAddress"]
	return nil
}}
