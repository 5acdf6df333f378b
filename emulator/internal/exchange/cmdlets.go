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
	for name, c := range relationCmdlets {
		r.Handle(name, Handler{Run: c.run, Emulated: c.params})
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
			r.Handle(name, Handler{Run: run, Values: cmdletValues[name], Emulated: emulated(r, name, s, h)})
		}
	}
}

// emulated lists the parameters a schema cmdlet implements: -Identity, -Filter of a Get-, the
// stored properties a Set- or New- assigns, and its hooks' own; the binder answers 501 for the
// others rather than ignore them.
func emulated(r *Registry, name string, s *Schema, h hooks) []string {
	cmd := r.Lookup(name).Command()
	names := append([]string{"Identity"}, h.params...)
	switch s.Cmdlets[name] {
	case "get":
		names = append(names, "Filter")
	case "set", "new":
		names = append(names, "Name")
		for i := range s.Props {
			if s.Props[i].Stored() {
				names = append(names, s.Props[i].Name)
			}
		}
	}
	out := []string{}
	for _, n := range names {
		if cmd.Param(n) != nil && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// relationCmdlets are the cmdlets of relations between recipients (relations.go) and of what
// mailboxes hold (stats.go), with the parameters each implements.
var relationCmdlets = map[string]struct {
	run    func(context.Context, *Invocation) (*Result, error)
	params []string
}{
	"Add-DistributionGroupMember":    {addGroupMember, []string{"Identity", "Member", "BypassSecurityGroupManagerCheck"}},
	"Remove-DistributionGroupMember": {removeGroupMember, []string{"Identity", "Member", "BypassSecurityGroupManagerCheck"}},
	"Get-DistributionGroupMember":    {getGroupMembers, []string{"Identity"}},
	"Get-MailboxPermission":          {getMailboxPermission, []string{"Identity", "User", "Owner"}},
	"Add-MailboxPermission":          {addMailboxPermission, []string{"Identity", "User", "AccessRights", "InheritanceType", "AutoMapping"}},
	"Remove-MailboxPermission":       {removeMailboxPermission, []string{"Identity", "User", "AccessRights", "InheritanceType"}},
	"Get-RecipientPermission":        {getRecipientPermission, []string{"Identity", "Trustee"}},
	"Add-RecipientPermission":        {changeRecipientPermission(true), []string{"Identity", "Trustee", "AccessRights"}},
	"Remove-RecipientPermission":     {changeRecipientPermission(false), []string{"Identity", "Trustee", "AccessRights"}},
	"Get-MailboxFolderStatistics":    {getFolderStatistics, []string{"Identity", "FolderScope"}},
	"Get-MailboxFolderPermission":    {getFolderPermission, []string{"Identity"}},
	"Add-MailboxFolderPermission":    {addFolderPermission, []string{"Identity", "User", "AccessRights"}},
	"Get-InboxRule":                  {getMailboxItems("InboxRule", func() *Schema { return schema("InboxRule") }), []string{"Identity", "Mailbox"}},
	"Get-MobileDevice":               {getMailboxItems("MobileDevice", func() *Schema { return schema("MobileDevice") }), []string{"Identity", "Mailbox"}},
	// No mail flows through the emulator: any of these filters finds nothing, as the service
	// finds nothing where no mail went.
	"Get-MessageTraceV2": {getMessageTrace, []string{"StartDate", "EndDate", "SenderAddress", "RecipientAddress", "Status", "MessageId", "Subject", "SubjectFilterType", "FromIP", "ToIP"}},
}

// cmdletHooks are the cmdlets that do more than their verb's generic behaviour.
var cmdletHooks = map[string]hooks{
	"Get-Mailbox":    {query: recipientTypeQuery(defaultMailboxTypes), params: []string{"RecipientTypeDetails"}},
	"Get-Recipient":  {query: recipientTypeQuery(nil), params: []string{"RecipientTypeDetails"}},
	"Set-Mailbox":    mailboxHooks,
	"New-Mailbox":    newMailboxHooks,
	"Remove-Mailbox": removeMailboxHooks,
	"Get-User": {query: recipientTypeQuery([]string{"UserMailbox", "SharedMailbox", "RoomMailbox", "EquipmentMailbox", "MailUser", "GuestMailUser", "User", "DisabledUser"}),
		params: []string{"RecipientTypeDetails"}},

	"New-DistributionGroup": newDistributionGroupHooks,
	"New-MailContact":       newMailContactHooks,
	"New-MailUser":          newMailUserHooks,

	// Display switches change what the service computes for each object, not which objects
	// are listed.
	"Get-Label":               {params: []string{"IncludeDetailedLabelActions", "SkipValidations"}},
	"Get-LabelPolicy":         {params: []string{"ForceValidate"}},
	"Get-DlpCompliancePolicy": {params: []string{"DistributionDetail", "ForceValidate", "IncludeExtendedProperties", "IncludeRulesMetadata"}},
	"Get-RetentionCompliancePolicy": {query: teamsPolicyQuery, params: []string{"TeamsPolicyOnly", "ExcludeTeamsPolicy",
		"DistributionDetail", "ErrorPolicyOnly", "IncludeTestModeResults", "PriorityCleanup", "RetentionRuleTypes"}},
	"Get-ComplianceSearch": {query: searchCaseQuery, params: []string{"Case"}},
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
			q.Types = nil
			for _, t := range types {
				if st := recipientStoreType(t); !slices.Contains(q.Types, st) {
					q.Types = append(q.Types, st)
				}
			}
			// Get-Mailbox's own listing is every mailbox of the mailbox store type: no
			// per-object condition needed.
			if def != nil && slices.Equal(types, def) {
				q.In = slices.DeleteFunc(q.In, func(p store.PropIn) bool { return p.Prop == "RecipientTypeDetails" })
			}
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
