package exchange

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// Mailbox contents the emulator does not hold (no mail flows through it) are derived from the
// mailbox itself: item counts and sizes follow from its GUID and type, the same on every call,
// plausible for its kind (a user's mailbox holds thousands of items, a room's a few hundred),
// and the folders add up to the mailbox.

// contents is what a mailbox holds.
type contents struct {
	items, deleted int64
	size, delSize  int64
	lastLogon      time.Time
}

func mailboxContents(o *store.Object) contents {
	r := render{o: o}
	return r.contents()
}

// contents is mailboxContents of the object being printed.
func (r *render) contents() contents {
	o := r.o
	h := fnv.New64a()
	h.Write([]byte(o.ID))
	n := h.Sum64()
	v, _ := r.stored("RecipientTypeDetails")
	details, _ := v.(string)
	scale := int64(1)
	if details != "UserMailbox" {
		scale = 10
	}
	c := contents{items: int64(200+n%24000) / scale, deleted: int64(n>>20%900) / scale}
	c.size = c.items * int64(20_000+(n>>32)%60_000)
	c.delSize = c.deleted * int64(15_000+(n>>40)%40_000)
	c.lastLogon = o.WhenChanged
	if c.lastLogon.IsZero() {
		c.lastLogon = o.WhenCreated
	}
	return c
}

// folders are a mailbox's well-known folders with their share of its items.
var folders = []struct {
	name, typ string
	share     int64 // per mille of the items
}{
	{"Top of Information Store", "Root", 0}, {"Inbox", "Inbox", 610}, {"Sent Items", "SentItems", 180},
	{"Deleted Items", "DeletedItems", 0}, {"Drafts", "Drafts", 5}, {"Junk Email", "JunkEmail", 25},
	{"Outbox", "Outbox", 0}, {"Archive", "Archive", 90}, {"Calendar", "Calendar", 60},
	{"Contacts", "Contacts", 20}, {"Conversation History", "ConversationHistory", 5}, {"Notes", "Notes", 2},
	{"Tasks", "Tasks", 3}, {"Recoverable Items", "RecoverableItemsRoot", 0},
}

var statsComputes = map[string]computeFunc{
	"statItems":        func(r *render, p *prop) Property { return Int(p.Name, r.contents().items) },
	"statDeletedItems": func(r *render, p *prop) Property { return Int(p.Name, r.contents().deleted) },
	"statSize":         func(r *render, p *prop) Property { return Str(p.Name, formatSize(r.contents().size)) },
	"statDeletedSize":  func(r *render, p *prop) Property { return Str(p.Name, formatSize(r.contents().delSize)) },
	"statLastLogon":    func(r *render, p *prop) Property { return Date(p.Name, r.contents().lastLogon) },
	"statMailboxType": func(r *render, p *prop) Property {
		return Str(p.Name, strings.TrimSuffix(r.str("RecipientTypeDetails"), "Mailbox")+"Mailbox")
	},
}

func init() {
	for k, v := range statsComputes {
		computes[k] = v
	}
}

// getFolderStatistics is Get-MailboxFolderStatistics: the mailbox's folders.
func getFolderStatistics(ctx context.Context, inv *Invocation) (*Result, error) {
	c := inv.task(schema("Recipient"))
	mbx, err := c.mailboxOf(ctx, inv.Params.String("Identity"))
	if err != nil {
		return nil, err
	}
	scope := strings.ToLower(inv.Params.String("FolderScope"))
	mc := mailboxContents(&mbx)
	owner := mbx.Name
	var list []Object
	for i, f := range folders {
		if scope != "" && scope != "all" && !strings.EqualFold(f.typ, scope) && !(scope == "recoverableitems" && f.typ == "RecoverableItemsRoot") {
			continue
		}
		items, size := mc.items*f.share/1000, mc.size*f.share/1000
		if f.typ == "DeletedItems" || f.typ == "RecoverableItemsRoot" {
			items, size = mc.deleted/2, mc.delSize/2
		}
		path := "/" + f.name
		if f.typ == "Root" {
			path = "/"
		}
		id := derivedGUID(fmt.Sprint("folder", i), mbx.ID)
		list = append(list, Object{
			Date("Date", mbx.WhenCreated),
			Date("CreationTime", mbx.WhenCreated),
			Date("LastModifiedTime", mc.lastLogon),
			Str("Name", f.name),
			Str("FolderPath", path),
			Str("FolderId", "LgAAAAB"+strings.ReplaceAll(id, "-", "")[:24]+"AQ"),
			Str("FolderType", f.typ),
			Int("ItemsInFolder", items),
			Int("DeletedItemsInFolder", 0),
			Str("FolderSize", formatSize(size)),
			Int("ItemsInFolderAndSubfolders", items),
			Int("DeletedItemsInFolderAndSubfolders", 0),
			Str("FolderAndSubfolderSize", formatSize(size)),
			Str("Identity", owner+`\`+strings.TrimPrefix(path, "/")),
			Bool("IsValid", true),
			Str("ObjectState", "Unchanged"),
		})
	}
	return objects(list, inv.After, inv.Limit), nil
}

// folderOf splits a folder identity "alice:\Calendar" into the mailbox and the folder.
func folderOf(id string) (mailbox, folder string) {
	mailbox, folder, ok := strings.Cut(id, `:\`)
	if !ok {
		mailbox, folder, _ = strings.Cut(id, ":")
	}
	return strings.TrimSpace(mailbox), strings.Trim(folder, `\/ `)
}

// folderRights are the roles of Add-MailboxFolderPermission -AccessRights.
var folderRights = []string{"None", "Owner", "PublishingEditor", "Editor", "PublishingAuthor", "Author", "NonEditingAuthor",
	"Reviewer", "Contributor", "AvailabilityOnly", "LimitedDetails", "CreateItems", "CreateSubfolders", "DeleteAllItems",
	"DeleteOwnedItems", "EditAllItems", "EditOwnedItems", "FolderContact", "FolderOwner", "FolderVisible", "ReadItems"}

func folderAce(folder, identity, user string, rights []string) Object {
	return Object{
		Str("FolderName", folder),
		Str("User", user),
		Strings("AccessRights", rights),
		Strings("SharingPermissionFlags", nil),
		Str("Identity", identity),
		Bool("IsValid", true),
		Str("ObjectState", "Unchanged"),
	}
}

func getFolderPermission(ctx context.Context, inv *Invocation) (*Result, error) {
	c := inv.task(schema("Recipient"))
	mid, folder := folderOf(inv.Params.String("Identity"))
	mbx, err := c.mailboxOf(ctx, mid)
	if err != nil {
		return nil, err
	}
	if folder == "" {
		folder = "Top of Information Store"
	}
	def := "None"
	if strings.EqualFold(folder, "Calendar") {
		def = "AvailabilityOnly"
	}
	identity := mbx.Name + `:\` + folder
	list := []Object{folderAce(folder, identity, "Default", []string{def}), folderAce(folder, identity, "Anonymous", []string{"None"})}
	entries, err := c.entries(ctx, permFolder, mbx)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if f, _ := e.Props["Folder"].(string); !strings.EqualFold(f, folder) {
			continue
		}
		id, _ := e.Props["Trustee"].(string)
		t, err := inv.Store.Get(ctx, inv.Tenant.ID, id)
		name := id
		if err == nil {
			name, _ = t.Props["DisplayName"].(string)
		}
		list = append(list, folderAce(folder, identity, name, asStrings(e.Props["AccessRights"])))
	}
	return objects(list, inv.After, inv.Limit), nil
}

func addFolderPermission(ctx context.Context, inv *Invocation) (*Result, error) {
	c := inv.task(schema("Recipient"))
	mid, folder := folderOf(inv.Params.String("Identity"))
	mbx, err := c.mailboxOf(ctx, mid)
	if err != nil {
		return nil, err
	}
	user, err := c.recipient(ctx, inv.Params.String("User"))
	if err != nil {
		return nil, err
	}
	rights, e := checkRights("AccessRights", asStrings(inv.Params["AccessRights"]), folderRights, "Microsoft.Exchange.Management.StoreTasks.MailboxFolderAccessRight[]")
	if e != nil {
		return nil, e
	}
	if folder == "" {
		folder = "Top of Information Store"
	}
	identity := mbx.Name + `:\` + folder
	if !inv.ShouldProcess(fmt.Sprintf("Adding mailbox folder permission on \"%s\" for user \"%s\" with access rights \"%s\".", identity, user.Name, strings.Join(rights, ", "))) {
		return nil, nil
	}
	entries, err := c.entries(ctx, permFolder, mbx)
	if err != nil {
		return nil, err
	}
	for _, x := range entries {
		if f, _ := x.Props["Folder"].(string); strings.EqualFold(f, folder) && x.Props["Trustee"] == user.ID {
			return nil, &Error{Status: 400, Code: "BadRequest", ErrorID: "Ex7A3B91", Class: "Microsoft.Exchange.Management.StoreTasks.UserAlreadyExistsInPermissionEntryException",
				Text: fmt.Sprintf("An existing permission entry was found for user: %s.", user.Props["DisplayName"])}
		}
	}
	if err := c.grant(ctx, permFolder, folder, mbx, user, rights, true); err != nil {
		return nil, err
	}
	display, _ := user.Props["DisplayName"].(string)
	return objects([]Object{folderAce(folder, identity, display, rights)}, inv.After, inv.Limit), nil
}

// getMailboxItems lists objects a mailbox owns (inbox rules, mobile devices): none until
// something creates them, and the service's not-found for a mailbox that does not exist.
func getMailboxItems(cls string, s func() *Schema) func(context.Context, *Invocation) (*Result, error) {
	return func(ctx context.Context, inv *Invocation) (*Result, error) {
		c := inv.task(s())
		id := inv.Params.String("Mailbox")
		if id == "" {
			id = inv.Params.String("Identity")
		}
		q := store.ListQuery{TenantID: inv.Tenant.ID, Types: []string{cls}, After: inv.After, Limit: inv.Limit}
		if id != "" {
			mbx, err := c.mailboxOf(ctx, id)
			if err != nil {
				return nil, err
			}
			q.RefersTo = &store.RefQuery{Name: "Mailbox", ID: mbx.ID}
		}
		page, next, err := inv.Store.List(ctx, q)
		if err != nil {
			return nil, err
		}
		return c.page(page, next), nil
	}
}

// getMessageTrace is Get-MessageTraceV2: no mail flows through the emulator, so a valid
// window finds nothing; the window is checked as the service checks it.
func getMessageTrace(_ context.Context, inv *Invocation) (*Result, error) {
	now := time.Now().UTC()
	start, hasStart := inv.Params.Time("StartDate")
	end, hasEnd := inv.Params.Time("EndDate")
	if !hasEnd {
		end = now
	}
	if !hasStart {
		start = end.Add(-48 * time.Hour)
	}
	switch {
	case start.After(end):
		return nil, errValidation("The StartDate value must be earlier than the EndDate value.")
	case now.Sub(start) > 90*24*time.Hour:
		return nil, errValidation("The StartDate can't be older than 90 days from today.")
	case end.Sub(start) > 10*24*time.Hour:
		return nil, errValidation("The time range between StartDate and EndDate can't be greater than 10 days.")
	}
	return &Result{}, nil
}
