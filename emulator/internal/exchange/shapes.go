package exchange

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// org holds the per-tenant strings every object of a page repeats.
type org struct {
	tenant     store.Tenant
	dc         string // originating server
	forest     string // EURPR01A001.prod.outlook.com
	root       string // contoso.onmicrosoft.com
	ou         string // EURPR01A001.prod.outlook.com/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com
	orgID      string
	dnSuffix   string // ,OU=contoso.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=PROD,DC=OUTLOOK,DC=COM
	configDN   string // CN=Configuration,CN=contoso.onmicrosoft.com,CN=ConfigurationUnits,DC=...
	person     string // ObjectCategory of users
	schemaRoot string
}

func (s *Server) org(t store.Tenant) *org {
	forest := s.dc
	if _, rest, ok := strings.Cut(s.dc, "."); ok {
		forest = rest
	}
	var dcs []string
	for _, part := range strings.Split(forest, ".") {
		dcs = append(dcs, "DC="+strings.ToUpper(part))
	}
	dcPath := strings.Join(dcs, ",")
	root := t.Name
	schema := strings.ToUpper(forest) + "/Configuration/Schema/"
	return &org{
		tenant:     t,
		dc:         s.dc,
		forest:     forest,
		root:       root,
		ou:         forest + "/Microsoft Exchange Hosted Organizations/" + root,
		orgID:      forest + "/Microsoft Exchange Hosted Organizations/" + root + " - " + forest + "/ConfigurationUnits/" + root + "/Configuration",
		dnSuffix:   ",OU=" + root + ",OU=Microsoft Exchange Hosted Organizations," + dcPath,
		configDN:   "CN=Configuration,CN=" + root + ",CN=ConfigurationUnits," + dcPath,
		person:     schema + "Person",
		schemaRoot: schema,
	}
}

var exoNamespace = uuid.MustParse("5c4d3a2f-1b0e-4f6a-9d8c-7e6f5a4b3c2d")

// derivedGUID makes a stable GUID for a property the store does not keep (ExchangeGuid, ...).
func derivedGUID(kind, guid string) string {
	return uuid.NewSHA1(exoNamespace, []byte(kind+"\x00"+strings.ToLower(guid))).String()
}

const (
	zeroGUID        = "00000000-0000-0000-0000-000000000000"
	exchangeVersion = "0.20 (15.0.0.0)"
)

func isMailboxType(t string) bool {
	for _, m := range mailboxTypes {
		if strings.EqualFold(m, t) {
			return true
		}
	}
	return false
}

func distinguishedName(r *store.Recipient, o *org) string {
	if dn, ok := r.Extra["DistinguishedName"].(string); ok && dn != "" {
		return dn
	}
	return "CN=" + escapeRDN(r.Name) + o.dnSuffix
}

func escapeRDN(s string) string {
	if !strings.ContainsAny(s, `,+"\<>;=#`) {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`,+"\<>;=#`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func objectClass(r *store.Recipient) []string {
	t := strings.ToLower(r.RecipientType)
	switch {
	case strings.Contains(t, "contact"):
		return []string{"top", "person", "organizationalPerson", "contact"}
	case strings.Contains(t, "group"):
		return []string{"top", "group"}
	case strings.Contains(t, "publicfolder"):
		return []string{"top", "publicFolder"}
	}
	return []string{"top", "person", "organizationalPerson", "user"}
}

func objectCategory(r *store.Recipient, o *org) string {
	t := strings.ToLower(r.RecipientType)
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

func legacyDN(r *store.Recipient) string {
	hex := strings.ReplaceAll(strings.ToLower(r.GUID), "-", "")
	alias := r.Alias
	if len(alias) > 8 {
		alias = alias[:8]
	}
	return "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=" + hex + "-" + alias
}

// identityTail is the property block every directory object ends with.
func identityTail(dst Object, r *store.Recipient, o *org) Object {
	return append(dst,
		Str("Identity", r.Name),
		Str("Id", r.Name),
		Bool("IsValid", true),
		Str("ExchangeVersion", exchangeVersion),
		Str("Name", r.Name),
		Str("DistinguishedName", distinguishedName(r, o)),
		Str("ObjectCategory", objectCategory(r, o)),
		Strings("ObjectClass", objectClass(r)),
		Date("WhenChanged", r.WhenChanged),
		Date("WhenCreated", r.WhenCreated),
		DateUTC("WhenChangedUTC", r.WhenChanged),
		DateUTC("WhenCreatedUTC", r.WhenCreated),
		GUID("ExchangeObjectId", r.GUID),
		Str("OrganizationalUnitRoot", o.root),
		Str("OrganizationId", o.orgID),
		GUID("Guid", r.GUID),
		Str("OriginatingServer", o.dc),
		Str("ObjectState", "Unchanged"),
	)
}

// mergeExtra applies the store's Extra properties: a known property takes the Extra value in
// place; the others go, sorted by name, before the identity block that starts at tail.
func mergeExtra(obj Object, tail int, extra map[string]any, ix *shapeIndex) Object {
	if len(extra) == 0 {
		return obj
	}
	ix.init(obj)
	var more []string
	for k, v := range extra {
		i, found := ix.find(obj, k)
		if !found && i < 0 {
			i = slices.IndexFunc(obj, func(p Property) bool { return strings.EqualFold(p.Name, k) })
			found = i >= 0
		}
		if found {
			if k != "DistinguishedName" { // already applied, keep its plain-string form
				obj[i] = Any(obj[i].Name, v)
			}
		} else {
			more = append(more, k)
		}
	}
	if len(more) == 0 {
		return obj
	}
	sort.Strings(more)
	tailCopy := append(Object(nil), obj[tail:]...)
	obj = obj[:tail]
	for _, k := range more {
		obj = append(obj, Any(k, extra[k]))
	}
	return append(obj, tailCopy...)
}

// shapeIndex maps the property names of one shape (mailboxObject, recipientObject), whose
// names and order never vary, to the position of the first property that matches each
// case-insensitively, so that applying Extra needs no scan of the object.
type shapeIndex struct {
	once  sync.Once
	n     int
	exact map[string]int // by name as the shape spells it
	lower map[string]int // by lower-case name, when every name is ASCII
}

// init makes the index from the first object of the shape.
func (ix *shapeIndex) init(obj Object) {
	ix.once.Do(func() {
		ix.n = len(obj)
		ix.exact = make(map[string]int, len(obj))
		ix.lower = make(map[string]int, len(obj))
		for _, p := range obj {
			first := slices.IndexFunc(obj, func(q Property) bool { return strings.EqualFold(q.Name, p.Name) })
			ix.exact[p.Name] = first
			ix.lower[strings.ToLower(p.Name)] = first
			if !isASCII(p.Name) {
				ix.lower = nil
			}
		}
	})
}

// find returns the position in obj of the first property named k in any case; ok is false
// when it is not there, and i is -1 when the index cannot tell (scan the object).
func (ix *shapeIndex) find(obj Object, k string) (i int, ok bool) {
	if len(obj) != ix.n {
		return -1, false // not the shape the index was made from
	}
	if i, ok := ix.exact[k]; ok {
		return i, true
	}
	var buf [64]byte
	if ix.lower == nil || len(k) > len(buf) || !isASCII(k) {
		return -1, false
	}
	for j := 0; j < len(k); j++ {
		c := k[j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[j] = c
	}
	i, ok = ix.lower[string(buf[:len(k)])]
	if !ok {
		return len(obj), false // known absent: no scan
	}
	return i, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

var mailboxIndex, recipientIndex shapeIndex

func customAttributes(dst Object) Object {
	for _, n := range []string{"CustomAttribute1", "CustomAttribute10", "CustomAttribute11", "CustomAttribute12", "CustomAttribute13",
		"CustomAttribute14", "CustomAttribute15", "CustomAttribute2", "CustomAttribute3", "CustomAttribute4", "CustomAttribute5",
		"CustomAttribute6", "CustomAttribute7", "CustomAttribute8", "CustomAttribute9"} {
		dst = append(dst, Str(n, ""))
	}
	for _, n := range []string{"ExtensionCustomAttribute1", "ExtensionCustomAttribute2", "ExtensionCustomAttribute3",
		"ExtensionCustomAttribute4", "ExtensionCustomAttribute5"} {
		dst = append(dst, Strings(n, nil))
	}
	return dst
}

// mailboxObject is the shape of Get-Mailbox output (a subset of the service's ~250 properties,
// in its order).
func mailboxObject(dst Object, r *store.Recipient, o *org) Object {
	details := r.RecipientTypeDetails
	resource := details == "RoomMailbox" || details == "EquipmentMailbox"
	resourceType := ""
	switch details {
	case "RoomMailbox":
		resourceType = "Room"
	case "EquipmentMailbox":
		resourceType = "Equipment"
	}
	accountDisabled := details != "UserMailbox"
	dst = append(dst,
		Str("Database", r.Database),
		Null("MailboxProvisioningConstraint"),
		Bool("IsMonitoringMailbox", false),
		Null("MailboxRegion"),
		Null("MailboxRegionLastUpdateTime"),
		Bool("MessageCopyForSentAsEnabled", false),
		Bool("MessageCopyForSendOnBehalfEnabled", false),
		Strings("MailboxProvisioningPreferences", nil),
		Bool("UseDatabaseRetentionDefaults", false),
		Bool("RetainDeletedItemsUntilBackup", false),
		Bool("DeliverToMailboxAndForward", false),
		Bool("IsExcludedFromServingHierarchy", false),
		Bool("IsHierarchyReady", true),
		Bool("IsHierarchySyncEnabled", true),
		Bool("LitigationHoldEnabled", false),
		Bool("SingleItemRecoveryEnabled", true),
		Bool("RetentionHoldEnabled", false),
		Null("EndDateForRetentionHold"),
		Null("StartDateForRetentionHold"),
		Str("RetentionComment", ""),
		Str("RetentionUrl", ""),
		Null("LitigationHoldDate"),
		Str("LitigationHoldOwner", ""),
		Bool("ElcProcessingDisabled", false),
		Bool("ComplianceTagHoldApplied", false),
		Bool("WasInactiveMailbox", false),
		Bool("DelayHoldApplied", false),
		Bool("DelayReleaseHoldApplied", false),
		Str("LitigationHoldDuration", "Unlimited"),
		Null("ManagedFolderMailboxPolicy"),
		Str("RetentionPolicy", "Default MRM Policy"),
		Null("AddressBookPolicy"),
		Bool("CalendarRepairDisabled", false),
		GUID("ExchangeGuid", derivedGUID("ExchangeGuid", r.GUID)),
		Str("ExchangeUserAccountControl", "None"),
		Str("AdminDisplayVersion", "Version 15.20 (Build 8769.25)"),
		Bool("MessageTrackingReadStatusEnabled", true),
		Str("ExternalOofOptions", "External"),
		Null("ForwardingAddress"),
		Null("ForwardingSmtpAddress"),
		Str("RetainDeletedItemsFor", "14.00:00:00"),
		Bool("IsMailboxEnabled", true),
		Strings("Languages", nil),
		Null("OfflineAddressBook"),
		Str("ProhibitSendQuota", formatSize(r.ProhibitSendQuotaBytes)),
		Str("ProhibitSendReceiveQuota", formatSize(r.ProhibitSendReceiveBytes)),
		Str("RecoverableItemsQuota", "30 GB (32,212,254,720 bytes)"),
		Str("RecoverableItemsWarningQuota", "20 GB (21,474,836,480 bytes)"),
		Str("CalendarLoggingQuota", "6 GB (6,442,450,944 bytes)"),
		Bool("DowngradeHighPriorityMessagesEnabled", false),
		Strings("ProtocolSettings", nil),
		Str("RecipientLimits", "500"),
		Bool("IsResource", resource),
		Bool("IsLinked", false),
		Bool("IsShared", details == "SharedMailbox"),
		Bool("IsRootPublicFolderMailbox", false),
		Str("LinkedMasterAccount", ""),
		Bool("ResetPasswordOnNextLogon", false),
		Null("ResourceCapacity"),
		Strings("ResourceCustom", nil),
		OptStr("ResourceType", resourceType),
		Null("RoomMailboxAccountEnabled"),
		Str("SamAccountName", samAccountName(r.GUID)),
		Bool("UseDatabaseQuotaDefaults", false),
		Str("IssueWarningQuota", formatSize(r.IssueWarningQuotaBytes)),
		Str("RulesQuota", "256 KB (262,144 bytes)"),
		Str("Office", ""),
		Str("UserPrincipalName", r.UserPrincipalName),
		Bool("UMEnabled", false),
		Str("WindowsLiveID", r.UserPrincipalName),
		Str("MicrosoftOnlineServicesID", r.UserPrincipalName),
		Null("ThrottlingPolicy"),
		Str("RoleAssignmentPolicy", "Default Role Assignment Policy"),
		Null("DefaultPublicFolderMailbox"),
		Str("SharingPolicy", "Default Sharing Policy"),
		Null("RemoteAccountPolicy"),
		Null("ArchiveDatabase"),
		GUID("ArchiveGuid", zeroGUID),
		Strings("ArchiveName", nil),
		Str("ArchiveQuota", "100 GB (107,374,182,400 bytes)"),
		Str("ArchiveWarningQuota", "90 GB (96,636,764,160 bytes)"),
		Null("ArchiveDomain"),
		Str("ArchiveStatus", "None"),
		Str("ArchiveState", "None"),
		Bool("AutoExpandingArchiveEnabled", false),
		Bool("AuditEnabled", true),
		Str("AuditLogAgeLimit", "90.00:00:00"),
		Bool("AccountDisabled", accountDisabled),
		Bool("HasPicture", false),
		Bool("HasSpokenName", false),
		Bool("IsDirSynced", false),
		Strings("AcceptMessagesOnlyFrom", nil),
		Strings("AcceptMessagesOnlyFromDLMembers", nil),
		Strings("AcceptMessagesOnlyFromSendersOrMembers", nil),
		Strings("AddressListMembership", nil),
		Strings("AdministrativeUnits", nil),
		Str("Alias", r.Alias),
		Null("ArbitrationMailbox"),
		Strings("BypassModerationFromSendersOrMembers", nil),
		Str("OrganizationalUnit", o.ou),
	)
	dst = customAttributes(dst)
	dst = append(dst,
		Str("DisplayName", r.DisplayName),
		Strings("EmailAddresses", r.EmailAddresses),
		Strings("GrantSendOnBehalfTo", nil),
		GUID("ExternalDirectoryObjectId", r.ExternalDirectoryObjectID),
		Bool("HiddenFromAddressListsEnabled", r.HiddenFromAddressLists),
		Null("LastExchangeChangedTime"),
		Str("LegacyExchangeDN", legacyDN(r)),
		Str("MaxSendSize", "35 MB (36,700,160 bytes)"),
		Str("MaxReceiveSize", "36 MB (37,748,736 bytes)"),
		Strings("ModeratedBy", nil),
		Bool("ModerationEnabled", false),
		Bool("EmailAddressPolicyEnabled", false),
		Str("PrimarySmtpAddress", r.PrimarySMTPAddress),
		Str("RecipientType", r.RecipientType),
		Str("RecipientTypeDetails", details),
		Strings("RejectMessagesFrom", nil),
		Strings("RejectMessagesFromDLMembers", nil),
		Strings("RejectMessagesFromSendersOrMembers", nil),
		Bool("RequireSenderAuthenticationEnabled", false),
		Str("SimpleDisplayName", ""),
		Str("SendModerationNotifications", "Always"),
		Str("WindowsEmailAddress", r.PrimarySMTPAddress),
		Null("MailTip"),
		Strings("MailTipTranslations", nil),
	)
	tail := len(dst)
	dst = identityTail(dst, r, o)
	return mergeExtra(dst, tail, r.Extra, &mailboxIndex)
}

// recipientObject is the shape of Get-Recipient output (ReducedRecipient).
func recipientObject(dst Object, r *store.Recipient, o *org) Object {
	mailbox := isMailboxType(r.RecipientTypeDetails)
	db, archiveGUID, mailboxCreated := "", "", time.Time{}
	if mailbox {
		db, archiveGUID, mailboxCreated = r.Database, zeroGUID, r.WhenCreated
	}
	external := ""
	if strings.Contains(strings.ToLower(r.RecipientType), "mailuser") || strings.Contains(strings.ToLower(r.RecipientType), "contact") {
		if ext, ok := r.Extra["ExternalEmailAddress"].(string); ok {
			external = ext
		} else if r.PrimarySMTPAddress != "" {
			external = "SMTP:" + r.PrimarySMTPAddress
		}
	}
	dst = append(dst,
		Str("Alias", r.Alias),
		GUID("ArchiveGuid", archiveGUID),
		Str("City", ""),
		Str("Notes", ""),
		Str("Company", ""),
		Null("CountryOrRegion"),
		Str("PostalCode", ""),
	)
	dst = customAttributes(dst)
	dst = append(dst,
		OptStr("Database", db),
		Null("ArchiveDatabase"),
		Str("DisplayName", r.DisplayName),
		Str("Department", ""),
		Strings("EmailAddresses", r.EmailAddresses),
		GUID("ExternalDirectoryObjectId", r.ExternalDirectoryObjectID),
		OptStr("ExternalEmailAddress", external),
		Str("FirstName", r.FirstName),
		Str("LastName", r.LastName),
		Bool("HiddenFromAddressListsEnabled", r.HiddenFromAddressLists),
		Bool("IsDirSynced", false),
		Null("Manager"),
		Str("OrganizationalUnit", o.ou),
		Str("Phone", ""),
		Str("PrimarySmtpAddress", r.PrimarySMTPAddress),
		Str("RecipientType", r.RecipientType),
		Str("RecipientTypeDetails", r.RecipientTypeDetails),
		Str("Title", ""),
		Str("WindowsLiveID", r.UserPrincipalName),
		Date("WhenMailboxCreated", mailboxCreated),
	)
	tail := len(dst)
	dst = identityTail(dst, r, o)
	return mergeExtra(dst, tail, r.Extra, &recipientIndex)
}

// acceptedDomainObject is the shape of Get-AcceptedDomain output.
func acceptedDomainObject(d *store.AcceptedDomain, o *org) Object {
	dn := "CN=" + escapeRDN(d.Name) + ",CN=Accepted Domains,CN=Transport Settings," + o.configDN
	return Object{
		Str("DomainName", d.DomainName),
		Null("CatchAllRecipientID"),
		Str("DomainType", d.DomainType),
		Bool("MatchSubDomains", false),
		Bool("AddressBookEnabled", true),
		Bool("Default", d.Default),
		Bool("EmailOnly", false),
		Bool("ExternallyManaged", false),
		Str("AuthenticationType", "Managed"),
		Str("LiveIdInstanceType", "Business"),
		Bool("PendingRemoval", false),
		Bool("PendingCompletion", false),
		Null("FederatedOrganizationLink"),
		Null("MailFlowPartner"),
		Bool("OutboundOnly", false),
		Bool("PendingFederatedAccountNamespace", false),
		Bool("PendingFederatedDomain", false),
		Bool("IsCoexistenceDomain", false),
		Bool("PerimeterDuplicateDetected", false),
		Bool("IsDefaultFederatedDomain", false),
		Bool("EnableNego2Authentication", false),
		Bool("InitialDomain", d.Initial),
		Str("AdminDisplayName", ""),
		Str("ExchangeVersion", "0.1 (8.0.535.0)"),
		Str("Name", d.Name),
		Str("DistinguishedName", dn),
		Str("Identity", d.Name),
		Str("ObjectCategory", o.schemaRoot+"ms-Exch-Accepted-Domain"),
		Strings("ObjectClass", []string{"top", "msExchAcceptedDomain"}),
		Date("WhenChanged", d.WhenChanged),
		Date("WhenCreated", d.WhenCreated),
		DateUTC("WhenChangedUTC", d.WhenChanged),
		DateUTC("WhenCreatedUTC", d.WhenCreated),
		GUID("ExchangeObjectId", d.GUID),
		Str("OrganizationId", o.orgID),
		Str("Id", d.Name),
		GUID("Guid", d.GUID),
		Str("OriginatingServer", o.dc),
		Bool("IsValid", true),
		Str("ObjectState", "Unchanged"),
	}
}

// organizationConfigObject is the shape of Get-OrganizationConfig output.
func organizationConfigObject(o *org) Object {
	t := o.tenant
	created := t.CreatedAt
	if created.IsZero() {
		created = time.Date(2022, 9, 21, 8, 7, 47, 0, time.UTC)
	}
	guid := derivedGUID("OrganizationConfig", t.ID)
	display := t.DisplayName
	if display == "" {
		display = t.Name
	}
	return Object{
		Str("DisplayName", display),
		Bool("ActivityBasedAuthenticationTimeoutEnabled", true),
		Str("ActivityBasedAuthenticationTimeoutInterval", "06:00:00"),
		Bool("AppsForOfficeEnabled", true),
		Bool("AuditDisabled", false),
		Bool("AutoExpandingArchiveEnabled", false),
		Bool("BookingsEnabled", true),
		Bool("CustomerLockboxEnabled", false),
		Str("DefaultPublicFolderAgeLimit", ""),
		Strings("DistributionGroupNameBlockedWordsList", nil),
		Str("DistributionGroupNamingPolicy", ""),
		Bool("ElcProcessingDisabled", false),
		Null("EwsEnabled"),
		Bool("FocusedInboxOn", true),
		Str("HybridConfigurationStatus", "Off"),
		Bool("IsDehydrated", false),
		Bool("IsMixedMode", false),
		Bool("MailTipsAllTipsEnabled", true),
		Bool("MailTipsExternalRecipientsTipsEnabled", false),
		Bool("MailTipsGroupMetricsEnabled", true),
		Int("MailTipsLargeAudienceThreshold", 25),
		Bool("MailTipsMailboxSourcedTipsEnabled", true),
		Bool("OAuth2ClientProfileEnabled", true),
		Str("PublicFoldersEnabled", "Local"),
		Bool("SmtpActionableMessagesEnabled", true),
		Bool("WebPushNotificationsDisabled", false),
		Bool("WebSuggestedRepliesDisabled", false),
		Str("AdminDisplayName", ""),
		Str("ExchangeVersion", "0.20 (15.0.0.0)"),
		Str("Name", t.Name),
		Str("DistinguishedName", o.configDN),
		Str("Identity", t.Name),
		Str("ObjectCategory", o.schemaRoot+"ms-Exch-Organization-Container"),
		Strings("ObjectClass", []string{"top", "container", "msExchOrganizationContainer"}),
		Date("WhenChanged", created),
		Date("WhenCreated", created),
		DateUTC("WhenChangedUTC", created),
		DateUTC("WhenCreatedUTC", created),
		GUID("ExchangeObjectId", guid),
		Str("OrganizationalUnitRoot", o.root),
		Str("OrganizationId", o.orgID),
		Str("Id", t.Name),
		GUID("Guid", guid),
		Str("OriginatingServer", o.dc),
		Bool("IsValid", true),
		Str("ObjectState", "Unchanged"),
	}
}

func samAccountName(guid string) string {
	h := strings.ToUpper(strings.ReplaceAll(guid, "-", ""))
	if len(h) > 12 {
		h = h[:12]
	}
	return "$" + h
}
