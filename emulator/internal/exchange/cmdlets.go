package exchange

import (
	"context"
	"slices"
	"strings"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// Cmdlets returns a registry of every Exchange Online cmdlet the emulator implements: the
// cmdlets the schemas name (a generic handler per verb, with the hooks of cmdletHooks) and the
// relation cmdlets (relations.go).
func Cmdlets() *Registry {
	r := NewRegistry()
	HandleSchemas(r)
	for name, run := range relationCmdlets {
		r.Handle(name, Handler{Run: run})
	}
	return r
}

// HandleSchemas attaches the generic handlers of every schema cmdlet of r's product (a
// schema's cmdlets of another product are left to that product's registry).
func HandleSchemas(r *Registry) {
	ss := mustSchemas()
	for _, s := range ss.All() {
		names := make([]string, 0, len(s.Cmdlets))
		for n := range s.Cmdlets {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, name := range names {
			if r.Lookup(name) == nil {
				continue // not a cmdlet of this product
			}
			h := cmdletHooks[name]
			var run func(context.Context, *Invocation) (*Result, error)
			switch s.Cmdlets[name] {
			case "get":
				run = genericGet(s, h)
			case "set":
				run = genericSet(s, h)
			case "new":
				run = genericNew(s, h)
			case "remove":
				run = genericRemove(s, h)
			case "enable":
				run = genericState(s, h, true)
			case "disable":
				run = genericState(s, h, false)
			default:
				panic("exchange: schema " + s.Name + ": unknown role of " + name)
			}
			r.Handle(name, Handler{Run: run, Values: cmdletValues[name]})
		}
	}
}

// relationCmdlets are the cmdlets of relations between recipients (relations.go).
var relationCmdlets = map[string]func(context.Context, *Invocation) (*Result, error){
	"Add-DistributionGroupMember":    addGroupMember,
	"Remove-DistributionGroupMember": removeGroupMember,
	"Get-DistributionGroupMember":    getGroupMembers,
	"Get-MailboxPermission":          getMailboxPermission,
	"Add-MailboxPermission":          addMailboxPermission,
	"Remove-MailboxPermission":       removeMailboxPermission,
	"Get-RecipientPermission":        getRecipientPermission,
	"Add-RecipientPermission":        changeRecipientPermission(true),
	"Remove-RecipientPermission":     changeRecipientPermission(false),
	"Get-MailboxFolderStatistics":    getFolderStatistics,
	"Get-MailboxFolderPermission":    getFolderPermission,
	"Add-MailboxFolderPermission":    addFolderPermission,
	"Get-InboxRule":                  getMailboxItems("InboxRule", func() *Schema { return schema("InboxRule") }),
	"Get-MobileDevice":               getMailboxItems("MobileDevice", func() *Schema { return schema("MobileDevice") }),
	"Get-MessageTraceV2":             getMessageTrace,
}

// cmdletHooks are the cmdlets that do more than their verb's generic behaviour.
var cmdletHooks = map[string]hooks{
	"Get-Mailbox":    {query: recipientTypeQuery(defaultMailboxTypes)},
	"Get-Recipient":  {query: recipientTypeQuery(nil)},
	"Set-Mailbox":    mailboxHooks,
	"New-Mailbox":    newMailboxHooks,
	"Remove-Mailbox": removeMailboxHooks,
	"Get-User":       {query: recipientTypeQuery([]string{"UserMailbox", "SharedMailbox", "RoomMailbox", "EquipmentMailbox", "MailUser", "GuestMailUser", "User", "DisabledUser"})},
	"Set-User":       {},
	"Set-CASMailbox": {},

	"New-DistributionGroup": newDistributionGroupHooks,
	"New-MailContact":       newMailContactHooks,
	"New-MailUser":          newMailUserHooks,

	"Get-RetentionCompliancePolicy": {query: teamsPolicyQuery},
	"Get-ComplianceSearch":          {query: searchCaseQuery},
}

// teamsPolicyQuery is Get-RetentionCompliancePolicy's -TeamsPolicyOnly and -ExcludeTeamsPolicy.
func teamsPolicyQuery(_ context.Context, c *task, q *store.ListQuery) error {
	only, _ := c.take("TeamsPolicyOnly")
	exclude, _ := c.take("ExcludeTeamsPolicy")
	if only != true && exclude != true {
		return nil
	}
	q.Filter = &store.Filter{Match: func(o *store.Object) (bool, error) {
		teams, _ := o.Props["TeamsPolicy"].(bool)
		return teams == (only == true), nil
	}}
	return nil
}

// searchCaseQuery: without -Case a listing leaves out the searches of eDiscovery cases, as the
// service does; -Case lists that case's.
func searchCaseQuery(_ context.Context, c *task, q *store.ListQuery) error {
	v, _ := c.take("Case")
	want, _ := v.(string)
	if c.Params.Has("Identity") {
		return nil // -Identity finds a search of any case
	}
	q.Filter = &store.Filter{Match: func(o *store.Object) (bool, error) {
		got, _ := o.Props["Case"].(string)
		return strings.EqualFold(got, want), nil
	}}
	return nil
}

// recipientTypeQuery narrows a recipient listing to -RecipientTypeDetails (or, without it, to
// the types the cmdlet lists by default).
func recipientTypeQuery(def []string) func(context.Context, *task, *store.ListQuery) error {
	return func(_ context.Context, c *task, q *store.ListQuery) error {
		types := def
		if v, ok := c.take("RecipientTypeDetails"); ok {
			types = asStrings(v)
		}
		if len(types) > 0 {
			q.In = slices.DeleteFunc(q.In, func(p store.PropIn) bool { return p.Prop == "RecipientTypeDetails" })
			q.In = append(q.In, store.PropIn{Prop: "RecipientTypeDetails", Values: types})
		}
		return nil
	}
}

// mailboxTypes are the RecipientTypeDetails values of mailboxes; defaultMailboxTypes are what
// Get-Mailbox lists without -RecipientTypeDetails (group mailboxes need their own switch).
var (
	mailboxTypes = []string{
		"DiscoveryMailbox", "EquipmentMailbox", "GroupMailbox", "LegacyMailbox", "LinkedMailbox",
		"LinkedRoomMailbox", "RoomMailbox", "SchedulingMailbox", "SharedMailbox", "TeamMailbox", "UserMailbox",
	}
	defaultMailboxTypes = slices.DeleteFunc(slices.Clone(mailboxTypes), func(s string) bool { return s == "GroupMailbox" })
)

func isMailboxType(t string) bool {
	return slices.ContainsFunc(mailboxTypes, func(m string) bool { return strings.EqualFold(m, t) })
}

// cmdletValues narrow catalogued enum parameters for a cmdlet.
var cmdletValues = map[string]map[string][]string{
	"Get-Mailbox": {"RecipientTypeDetails": mailboxTypes},
}
