package exchange

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// Cmdlets returns a registry of every cmdlet the emulator implements.
func Cmdlets() *Registry {
	r := NewRegistry()
	r.Handle("Get-AcceptedDomain", Handler{Run: getAcceptedDomain, Emulated: []string{"Identity"}})
	r.Handle("Get-OrganizationConfig", Handler{Run: getOrganizationConfig, Emulated: []string{}})
	listing := []string{"Identity", "ResultSize", "RecipientTypeDetails"}
	r.Handle("Get-Mailbox", Handler{Run: getRecipients(true), Emulated: listing,
		Values: map[string][]string{"RecipientTypeDetails": mailboxTypes}})
	r.Handle("Get-Recipient", Handler{Run: getRecipients(false), Emulated: listing})
	r.Handle("New-Mailbox", Handler{Run: newMailbox, Emulated: []string{"Name", "DisplayName", "Alias", "PrimarySmtpAddress",
		"FirstName", "LastName", "Shared", "Room", "Equipment"}})
	r.Handle("Remove-Mailbox", Handler{Run: removeMailbox, Emulated: []string{"Identity", "PermanentlyDelete"}})
	setMailboxParams := []string{"Identity", "DisplayName", "HiddenFromAddressListsEnabled", "ProhibitSendQuota",
		"ProhibitSendReceiveQuota", "IssueWarningQuota", "EmailAddresses", "Type", "ForwardingSmtpAddress", "DeliverToMailboxAndForward"}
	for i := 1; i <= 15; i++ {
		setMailboxParams = append(setMailboxParams, "CustomAttribute"+strconv.Itoa(i))
	}
	r.Handle("Set-Mailbox", Handler{Run: setMailbox, Emulated: setMailboxParams})
	return r
}

// mailboxTypes are the RecipientTypeDetails values of mailboxes; defaultMailboxTypes are what
// Get-Mailbox lists without -RecipientTypeDetails (group mailboxes need their own switch).
var (
	mailboxTypes = []string{
		"DiscoveryMailbox", "EquipmentMailbox", "GroupMailbox", "LegacyMailbox", "LinkedMailbox",
		"LinkedRoomMailbox", "RoomMailbox", "SchedulingMailbox", "SharedMailbox", "TeamMailbox", "UserMailbox",
	}
	defaultMailboxTypes = slices.DeleteFunc(slices.Clone(mailboxTypes), func(s string) bool { return s == "GroupMailbox" })
	recipientTypes      = append(slices.Clone(mailboxTypes),
		"DynamicDistributionGroup", "GuestMailUser", "MailContact", "MailForestContact", "MailNonUniversalGroup",
		"MailUniversalDistributionGroup", "MailUniversalSecurityGroup", "MailUser", "PublicFolder", "RemoteEquipmentMailbox",
		"RemoteRoomMailbox", "RemoteSharedMailbox", "RemoteTeamMailbox", "RemoteUserMailbox", "RoomList", "User",
		"DisabledUser", "LinkedUser", "UserMailbox", "SharedWithMailUser", "MailboxPlan",
	)
)

func init() {
	slices.Sort(recipientTypes)
	recipientTypes = slices.Compact(recipientTypes)
}

func getAcceptedDomain(ctx context.Context, inv *Invocation) (*Result, error) {
	domains, err := inv.Store.AcceptedDomains(ctx, inv.Tenant.ID)
	if err != nil {
		return nil, err
	}
	id := strings.TrimSpace(inv.Params.String("Identity"))
	org := inv.srv.org(inv.Tenant)
	var list []Object
	for i := range domains {
		d := &domains[i]
		if id != "" && !strings.EqualFold(id, d.Name) && !strings.EqualFold(id, d.DomainName) && !strings.EqualFold(id, d.GUID) {
			continue
		}
		list = append(list, acceptedDomainObject(d, org))
	}
	if id != "" && len(list) == 0 {
		return nil, inv.NotFound(id)
	}
	return objects(list, inv.After, inv.Limit), nil
}

func getOrganizationConfig(ctx context.Context, inv *Invocation) (*Result, error) {
	if id := strings.TrimSpace(inv.Params.String("Identity")); id != "" && !inv.matchesTenant(ctx, id) {
		return nil, inv.NotFound(id)
	}
	return objects([]Object{organizationConfigObject(inv.srv.org(inv.Tenant))}, inv.After, inv.Limit), nil
}

// matchesTenant reports whether an organization identity names the caller's tenant.
func (inv *Invocation) matchesTenant(ctx context.Context, id string) bool {
	t, err := inv.Store.Tenant(ctx, id)
	return err == nil && strings.EqualFold(t.ID, inv.Tenant.ID)
}

// getRecipients is Get-Mailbox (mailboxes only) and Get-Recipient (every recipient).
func getRecipients(mailboxesOnly bool) func(context.Context, *Invocation) (*Result, error) {
	return func(ctx context.Context, inv *Invocation) (*Result, error) {
		types := inv.Params.Strings("RecipientTypeDetails")
		if len(types) == 0 && mailboxesOnly {
			types = defaultMailboxTypes
		}
		org := inv.srv.org(inv.Tenant)
		shape := recipientObject
		if mailboxesOnly {
			shape = mailboxObject
		}
		if id := strings.TrimSpace(inv.Params.String("Identity")); id != "" {
			rcp, err := inv.Store.FindRecipient(ctx, inv.Tenant.ID, id)
			switch {
			case errors.Is(err, store.ErrNotFound):
				return nil, inv.NotFound(id)
			case errors.Is(err, store.ErrAmbiguous):
				return nil, errAmbiguous(id)
			case err != nil:
				return nil, err
			}
			if len(types) > 0 && !slices.ContainsFunc(types, func(t string) bool { return strings.EqualFold(t, rcp.RecipientTypeDetails) }) {
				return nil, inv.NotFound(id)
			}
			if inv.After != "" || inv.Limit == 0 {
				return &Result{}, nil
			}
			return &Result{Count: 1, Each: func(yield func(Object) bool) {
				yield(shape(nil, &rcp, org))
			}}, nil
		}
		page, next, err := inv.Store.Recipients(ctx, store.RecipientQuery{
			TenantID: inv.Tenant.ID, Types: types, After: inv.After, Limit: inv.Limit,
		})
		if err != nil {
			return nil, err
		}
		return &Result{Count: len(page), Next: next, Each: func(yield func(Object) bool) {
			var buf Object
			for i := range page {
				buf = shape(buf[:0], &page[i], org)
				if !yield(buf) {
					return
				}
			}
		}}, nil
	}
}
