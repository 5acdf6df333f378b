package exchange

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// Relations join two recipients: a group and its member, a mailbox and the user given rights
// on it. Each is a store object whose references name both ends (so it goes when either is
// removed) and whose one key is the pair (so a second identical grant is a conflict, checked by
// the database). Adding an entry that exists changes its rights in the same transaction.

// membership is a group member relation.
func membership(tenantID, groupID, memberID string) store.Object {
	return store.Object{TenantID: tenantID, Type: classMembership, Name: memberID,
		Props: map[string]any{"Group": groupID, "Member": memberID},
		Keys:  relationKey(classMembership, groupID, memberID),
		Refs:  []store.Ref{{Name: "Group", ID: groupID, Cascade: true}, {Name: "Member", ID: memberID, Cascade: true}}}
}

// Kinds of permission entries.
const (
	permMailbox   = "MailboxPermission"
	permRecipient = "RecipientPermission"
	permFolder    = "MailboxFolderPermission"
)

// permission is an access entry of kind on an object (a mailbox, or a folder of one) for a
// trustee.
func permission(tenantID, kind, onID, folder, trusteeID string, rights []string) store.Object {
	o := store.Object{TenantID: tenantID, Type: classPermission, Name: trusteeID,
		Props: map[string]any{"Kind": kind, "On": onID, "Trustee": trusteeID, "AccessRights": rights},
		Keys:  relationKey(classPermission, kind, onID, strings.ToLower(folder), trusteeID),
		Refs:  []store.Ref{{Name: "On", ID: onID, Cascade: true}, {Name: "Trustee", ID: trusteeID, Cascade: true}}}
	if folder != "" {
		o.Props["Folder"] = folder
	}
	return o
}

// recipientSchemas are where relation cmdlets resolve their identities.
func (c *task) recipient(ctx context.Context, id string, types ...string) (store.Object, error) {
	var where []store.PropIn
	if len(types) > 0 {
		where = []store.PropIn{{Prop: "RecipientTypeDetails", Values: types}}
	}
	rc := *c
	rc.s = schema("Recipient")
	return rc.resolve(ctx, id, where)
}

var groupTypes = []string{"MailUniversalDistributionGroup", "MailUniversalSecurityGroup", "MailNonUniversalGroup", "RoomList"}

func errMemberExists(member, group string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest", ErrorID: "Ex5F7B2D", Class: "Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException",
		Text: fmt.Sprintf("The recipient \"%s\" is already a member of the group \"%s\".", member, group)}
}

func errNotMember(member, group string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest", ErrorID: "Ex8C3E1A", Class: "Microsoft.Exchange.Configuration.Tasks.MemberNotFoundException",
		Text: fmt.Sprintf("Couldn't find object \"%s\". Please make sure that it was spelled correctly or specify a different object. The recipient %s isn't a member of the group %s.", member, member, group)}
}

// addGroupMember is Add-DistributionGroupMember: the member must exist.
func addGroupMember(ctx context.Context, inv *Invocation) (*Result, error) {
	c := inv.task(schema("Recipient"))
	group, err := c.recipient(ctx, inv.Params.String("Identity"), groupTypes...)
	if err != nil {
		return nil, err
	}
	memberID := inv.Params.String("Member")
	member, err := c.recipient(ctx, memberID)
	if err != nil {
		return nil, err
	}
	if !inv.ShouldProcess(fmt.Sprintf("Adding recipient \"%s\" to distribution group \"%s\".", member.Name, group.Name)) {
		return nil, nil
	}
	if _, err := inv.Store.Create(ctx, membership(inv.Tenant.ID, group.ID, member.ID)); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return nil, errMemberExists(member.Name, group.Name)
		}
		if errors.Is(err, store.ErrNotFound) { // removed meanwhile
			return nil, inv.NotFound(memberID)
		}
		return nil, err
	}
	return nil, nil
}

// removeGroupMember is Remove-DistributionGroupMember.
func removeGroupMember(ctx context.Context, inv *Invocation) (*Result, error) {
	c := inv.task(schema("Recipient"))
	group, err := c.recipient(ctx, inv.Params.String("Identity"), groupTypes...)
	if err != nil {
		return nil, err
	}
	member, err := c.recipient(ctx, inv.Params.String("Member"))
	if err != nil {
		return nil, err
	}
	found, err := inv.Store.Resolve(ctx, inv.Tenant.ID, []string{classMembership}, []string{classMembership}, group.ID+"|"+member.ID)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, errNotMember(member.Name, group.Name)
	}
	if !inv.ShouldProcess(fmt.Sprintf("Removing recipient \"%s\" from distribution group \"%s\".", member.Name, group.Name)) {
		return nil, nil
	}
	if err := inv.Store.Delete(ctx, inv.Tenant.ID, found[0].ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return nil, nil
}

// getGroupMembers is Get-DistributionGroupMember: the members as Get-Recipient shows them.
func getGroupMembers(ctx context.Context, inv *Invocation) (*Result, error) {
	c := inv.task(schema("Recipient"))
	group, err := c.recipient(ctx, inv.Params.String("Identity"), groupTypes...)
	if err != nil {
		return nil, err
	}
	rels, next, err := inv.Store.List(ctx, store.ListQuery{TenantID: inv.Tenant.ID, Types: []string{classMembership},
		RefersTo: &store.RefQuery{Name: "Group", ID: group.ID}, After: inv.After, Limit: inv.Limit})
	if err != nil {
		return nil, err
	}
	members := make([]store.Object, 0, len(rels))
	for _, r := range rels {
		id, _ := r.Props["Member"].(string)
		m, err := inv.Store.Get(ctx, inv.Tenant.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		members = append(members, m)
	}
	return c.page(members, next), nil
}

// The entries every mailbox has before anyone is granted anything (Get-MailboxPermission shows
// them first): the owner's own rights.
var selfMailboxRights = []string{"FullAccess", "ReadPermission"}

const selfTrustee = `NT AUTHORITY\SELF`

// grant adds (or widens) a permission entry of kind on a mailbox.
func (c *task) grant(ctx context.Context, kind, folder string, on, trustee store.Object, rights []string, replace bool) error {
	entry := permission(c.Tenant.ID, kind, on.ID, folder, trustee.ID, rights)
	return c.Store.Tx(ctx, func(tx store.Objects) error {
		found, err := tx.Resolve(ctx, c.Tenant.ID, []string{classPermission}, []string{classPermission}, entry.Keys[0].Value)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			_, err := tx.Create(ctx, entry)
			return err
		}
		_, err = tx.Update(ctx, c.Tenant.ID, found[0].ID, func(o *store.Object) error {
			list := asStrings(o.Props["AccessRights"])
			if replace {
				list = nil
			}
			for _, r := range rights {
				if !slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, r) }) {
					list = append(list, r)
				}
			}
			o.Props["AccessRights"] = list
			return nil
		})
		return err
	})
}

// revoke removes rights from an entry, and the entry when none are left; false when there was
// nothing to remove.
func (c *task) revoke(ctx context.Context, kind, folder string, on, trustee store.Object, rights []string) (bool, error) {
	key := relationKey(classPermission, kind, on.ID, strings.ToLower(folder), trustee.ID)[0].Value
	removed := false
	err := c.Store.Tx(ctx, func(tx store.Objects) error {
		found, err := tx.Resolve(ctx, c.Tenant.ID, []string{classPermission}, []string{classPermission}, key)
		if err != nil || len(found) == 0 {
			return err
		}
		list := asStrings(found[0].Props["AccessRights"])
		left := slices.DeleteFunc(slices.Clone(list), func(s string) bool {
			return len(rights) == 0 || slices.ContainsFunc(rights, func(r string) bool { return strings.EqualFold(r, s) })
		})
		removed = len(left) < len(list)
		if len(left) == 0 {
			return tx.Delete(ctx, c.Tenant.ID, found[0].ID)
		}
		_, err = tx.Update(ctx, c.Tenant.ID, found[0].ID, func(o *store.Object) error {
			o.Props["AccessRights"] = left
			return nil
		})
		return err
	})
	return removed, err
}

// entries lists the permission entries of kind on an object.
func (c *task) entries(ctx context.Context, kind string, on store.Object) ([]store.Object, error) {
	var out []store.Object
	after := ""
	for {
		page, next, err := c.Store.List(ctx, store.ListQuery{TenantID: c.Tenant.ID, Types: []string{classPermission},
			RefersTo: &store.RefQuery{Name: "On", ID: on.ID}, After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, p := range page {
			if p.Props["Kind"] == kind {
				out = append(out, p)
			}
		}
		if next == "" {
			return out, nil
		}
		after = next
	}
}

// trusteeName is how a permission entry names its trustee: the user's UPN for a mailbox with
// one, else the recipient's name.
func (c *task) trusteeName(ctx context.Context, id string) string {
	o, err := c.Store.Get(ctx, c.Tenant.ID, id)
	if err != nil {
		return id
	}
	if upn, _ := o.Props["UserPrincipalName"].(string); upn != "" {
		return upn
	}
	return o.Name
}

// aceObject is a MailboxAcePresentationObject (Get-MailboxPermission).
func aceObject(identity, user string, rights []string, inherited bool) Object {
	return Object{
		Strings("AccessRights", rights),
		Bool("Deny", false),
		Str("InheritanceType", "All"),
		Str("User", user),
		Str("UserSid", userSid(user)),
		Str("Identity", identity),
		Bool("IsInherited", inherited),
		Bool("IsValid", true),
		Str("ObjectState", "Unchanged"),
	}
}

// userSid is a stable security identifier for a trustee (SELF is the well-known S-1-5-10).
func userSid(user string) string {
	if user == selfTrustee {
		return "S-1-5-10"
	}
	g := derivedGUID("sid", strings.ToLower(user))
	var n [4]uint32
	for i := range n {
		fmt.Sscanf(strings.ReplaceAll(g, "-", "")[i*8:i*8+8], "%x", &n[i])
	}
	return fmt.Sprintf("S-1-5-21-%d-%d-%d-%d", n[0]%4e9, n[1]%4e9, n[2]%4e9, 1000+n[3]%100000)
}

// mailboxOf resolves a permission cmdlet's -Identity to a mailbox.
func (c *task) mailboxOf(ctx context.Context, id string) (store.Object, error) {
	return c.recipient(ctx, id, mailboxTypes...)
}

func getMailboxPermission(ctx context.Context, inv *Invocation) (*Result, error) {
	c := inv.task(schema("Recipient"))
	mbx, err := c.mailboxOf(ctx, inv.Params.String("Identity"))
	if err != nil {
		return nil, err
	}
	var trustee *store.Object
	if u := inv.Params.String("User"); u != "" {
		t, err := c.recipient(ctx, u)
		if err != nil {
			return nil, err
		}
		trustee = &t
	}
	entries, err := c.entries(ctx, permMailbox, mbx)
	if err != nil {
		return nil, err
	}
	var list []Object
	if trustee == nil && !inv.Params.Switch("Owner") {
		list = append(list, aceObject(mbx.Name, selfTrustee, selfMailboxRights, false))
	}
	for _, e := range entries {
		id, _ := e.Props["Trustee"].(string)
		if trustee != nil && id != trustee.ID {
			continue
		}
		list = append(list, aceObject(mbx.Name, c.trusteeName(ctx, id), asStrings(e.Props["AccessRights"]), false))
	}
	return objects(list, inv.After, inv.Limit), nil
}

// mailboxRights are the AccessRights of Add-MailboxPermission (MailboxRights).
var mailboxRights = []string{"ChangeOwner", "ChangePermission", "DeleteItem", "ExternalAccount", "FullAccess", "ReadPermission"}

func checkRights(param string, given, allowed []string, enum string) ([]string, *Error) {
	out := make([]string, 0, len(given))
	for _, g := range given {
		for _, part := range strings.Split(g, ",") {
			part = strings.TrimSpace(part)
			i := slices.IndexFunc(allowed, func(a string) bool { return strings.EqualFold(a, part) })
			if i < 0 {
				return nil, errConvert(param, g, enum, fmt.Sprintf("Unable to match the identifier name %s to a valid enumerator name. Specify one of the following enumerator names and try again:\r\n%s", part, strings.Join(allowed, ", ")))
			}
			out = append(out, allowed[i])
		}
	}
	return out, nil
}

// mailboxPermissionArgs resolves what Add- and Remove-MailboxPermission both take: the mailbox
// (-Identity), the trustee (-User) and the checked -AccessRights.
func mailboxPermissionArgs(ctx context.Context, inv *Invocation) (c *task, mbx, user store.Object, rights []string, err error) {
	c = inv.task(schema("Recipient"))
	if mbx, err = c.mailboxOf(ctx, inv.Params.String("Identity")); err != nil {
		return nil, mbx, user, nil, err
	}
	if user, err = c.recipient(ctx, inv.Params.String("User")); err != nil {
		return nil, mbx, user, nil, err
	}
	rights, e := checkRights("AccessRights", asStrings(inv.Params["AccessRights"]), mailboxRights, "Microsoft.Exchange.Management.RecipientTasks.MailboxRights[]")
	if e != nil {
		return nil, mbx, user, nil, e
	}
	return c, mbx, user, rights, nil
}

func addMailboxPermission(ctx context.Context, inv *Invocation) (*Result, error) {
	c, mbx, user, rights, err := mailboxPermissionArgs(ctx, inv)
	if err != nil {
		return nil, err
	}
	if len(rights) == 0 {
		return nil, errMissingMandatory(inv.Cmdlet.Name, "AccessRights")
	}
	if !inv.ShouldProcess(fmt.Sprintf("Adding full access permission to user \"%s\" on mailbox \"%s\".", user.Name, mbx.Name)) {
		return nil, nil
	}
	if err := c.grant(ctx, permMailbox, "", mbx, user, rights, false); err != nil {
		return nil, err
	}
	return objects([]Object{aceObject(mbx.Name, c.trusteeName(ctx, user.ID), rights, false)}, inv.After, inv.Limit), nil
}

func removeMailboxPermission(ctx context.Context, inv *Invocation) (*Result, error) {
	c, mbx, user, rights, err := mailboxPermissionArgs(ctx, inv)
	if err != nil {
		return nil, err
	}
	if !inv.ShouldProcess(fmt.Sprintf("Removing mailbox permission \"%s\" for user \"%s\" with access rights \"%s\".", mbx.Name, user.Name, strings.Join(rights, ", "))) {
		return nil, nil
	}
	removed, err := c.revoke(ctx, permMailbox, "", mbx, user, rights)
	if err != nil {
		return nil, err
	}
	if !removed {
		return &Result{Warnings: []string{fmt.Sprintf("Can't remove the access control entry on the object \"%s\" for account \"%s\" because the ACE doesn't exist on the object.", mbx.Name, c.trusteeName(ctx, user.ID))}}, nil
	}
	return nil, nil
}

// recipientAceObject is a RecipientPermission entry (Get-RecipientPermission).
func recipientAceObject(identity, trustee string, rights []string) Object {
	return Object{
		Str("Identity", identity),
		Str("Trustee", trustee),
		Str("AccessControlType", "Allow"),
		Strings("AccessRights", rights),
		Bool("IsInherited", false),
		Str("InheritanceType", "None"),
	}
}

func getRecipientPermission(ctx context.Context, inv *Invocation) (*Result, error) {
	c := inv.task(schema("Recipient"))
	var targets []store.Object
	if id := inv.Params.String("Identity"); id != "" {
		o, err := c.recipient(ctx, id)
		if err != nil {
			return nil, err
		}
		targets = append(targets, o)
	} else {
		page, _, err := inv.Store.List(ctx, store.ListQuery{TenantID: inv.Tenant.ID, Types: []string{classPermission}})
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, p := range page {
			on, _ := p.Props["On"].(string)
			if p.Props["Kind"] != permRecipient || seen[on] {
				continue
			}
			seen[on] = true
			if o, err := inv.Store.Get(ctx, inv.Tenant.ID, on); err == nil {
				targets = append(targets, o)
			}
		}
	}
	trustee := inv.Params.String("Trustee")
	var list []Object
	for _, t := range targets {
		if trustee == "" && inv.Params.String("Identity") != "" {
			list = append(list, recipientAceObject(t.Name, selfTrustee, []string{"SendAs"}))
		}
		entries, err := c.entries(ctx, permRecipient, t)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			id, _ := e.Props["Trustee"].(string)
			name := c.trusteeName(ctx, id)
			if trustee != "" && !strings.EqualFold(trustee, name) {
				if tr, err := c.recipient(ctx, trustee); err != nil || tr.ID != id {
					continue
				}
			}
			list = append(list, recipientAceObject(t.Name, name, asStrings(e.Props["AccessRights"])))
		}
	}
	return objects(list, inv.After, inv.Limit), nil
}

func changeRecipientPermission(add bool) func(context.Context, *Invocation) (*Result, error) {
	return func(ctx context.Context, inv *Invocation) (*Result, error) {
		c := inv.task(schema("Recipient"))
		target, err := c.recipient(ctx, inv.Params.String("Identity"))
		if err != nil {
			return nil, err
		}
		trustee, err := c.recipient(ctx, inv.Params.String("Trustee"))
		if err != nil {
			return nil, err
		}
		rights, e := checkRights("AccessRights", asStrings(inv.Params["AccessRights"]), []string{"SendAs"}, "Microsoft.Exchange.Management.RecipientTasks.RecipientAccessRight[]")
		if e != nil {
			return nil, e
		}
		verb := "Adding"
		if !add {
			verb = "Removing"
		}
		if !inv.ShouldProcess(fmt.Sprintf("%s recipient permission \"%s\" for trustee \"%s\" on recipient \"%s\".", verb, strings.Join(rights, ", "), trustee.Name, target.Name)) {
			return nil, nil
		}
		name := c.trusteeName(ctx, trustee.ID)
		if add {
			if err := c.grant(ctx, permRecipient, "", target, trustee, rights, false); err != nil {
				return nil, err
			}
			return objects([]Object{recipientAceObject(target.Name, name, rights)}, inv.After, inv.Limit), nil
		}
		removed, err := c.revoke(ctx, permRecipient, "", target, trustee, rights)
		if err != nil {
			return nil, err
		}
		if !removed {
			return &Result{Warnings: []string{fmt.Sprintf("The appropriate access control entry is already absent on the object \"%s\" for account \"%s\".", target.Name, name)}}, nil
		}
		return nil, nil
	}
}
