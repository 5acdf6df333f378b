package compliance

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/catalog"
	"github.com/exoctl/exoctl/emulator/internal/exchange"
	"github.com/exoctl/exoctl/emulator/internal/store"
)

// Cmdlets returns the registry of the Security & Compliance cmdlets the emulator implements.
// Exchange cmdlets are not in it: they do not exist in a compliance session.
func Cmdlets() *exchange.Registry {
	r := exchange.NewRegistryFor(catalog.SecurityCompliance)
	// The display switches change what the service computes for each object, not which
	// objects are listed; they are accepted as before.
	r.Handle("Get-Label", exchange.Handler{Run: list(labels), Emulated: []string{"Identity", "IncludeDetailedLabelActions", "SkipValidations"}})
	r.Handle("Get-LabelPolicy", exchange.Handler{Run: list(labelPolicies), Emulated: []string{"Identity", "ForceValidate"}})
	r.Handle("Get-DlpCompliancePolicy", exchange.Handler{Run: list(dlpPolicies), Emulated: []string{"Identity", "DistributionDetail",
		"ForceValidate", "IncludeExtendedProperties", "IncludeRulesMetadata"}})
	r.Handle("Get-RetentionCompliancePolicy", exchange.Handler{Run: list(retentionPolicies), Emulated: []string{"Identity",
		"DistributionDetail", "ErrorPolicyOnly", "ExcludeTeamsPolicy", "IncludeTestModeResults", "PriorityCleanup",
		"RetentionRuleTypes", "TeamsPolicyOnly"}})
	r.Handle("Get-ComplianceSearch", exchange.Handler{Run: list(searches), Emulated: []string{"Identity", "Case", "ResultSize"}})
	return r
}

// item is a seeded object with what -Identity and filters match on.
type item struct {
	name, guid, dn string
	keep           func(exchange.Params) bool // nil: always listed
	obj            exchange.Object
}

// list runs a Get- cmdlet over a tenant's seeded objects: -Identity picks one (by name, GUID or
// distinguished name), filters drop others, and the rest is paged.
func list(build func(*org) []item) func(context.Context, *exchange.Invocation) (*exchange.Result, error) {
	return func(_ context.Context, inv *exchange.Invocation) (*exchange.Result, error) {
		all := build(newOrg(inv.Tenant))
		id := strings.TrimSpace(inv.Params.String("Identity"))
		var out []exchange.Object
		for _, it := range all {
			if id != "" && !strings.EqualFold(id, it.name) && !strings.EqualFold(id, it.guid) && !strings.EqualFold(id, it.dn) {
				continue
			}
			if it.keep != nil && !it.keep(inv.Params) {
				continue
			}
			out = append(out, it.obj)
		}
		if id != "" && len(out) == 0 {
			return nil, inv.NotFound(id)
		}
		return exchange.Objects(out, inv.After, inv.Limit), nil
	}
}

// org is a tenant as compliance objects name it.
type org struct {
	t       store.Tenant
	ns      uuid.UUID // derives stable GUIDs from names
	created time.Time
	admin   string // CreatedBy of seeded objects
}

const forest = "EURPR01A001.prod.outlook.com"

func newOrg(t store.Tenant) *org {
	ns, err := uuid.Parse(t.ID)
	if err != nil {
		ns = uuid.NewSHA1(uuid.NameSpaceDNS, []byte(strings.ToLower(t.Name)))
	}
	created := t.CreatedAt.UTC()
	if created.IsZero() {
		created = time.Date(2022, 9, 21, 8, 7, 47, 0, time.UTC)
	}
	return &org{t: t, ns: ns, created: created, admin: "Global Admin"}
}

func (o *org) guid(kind, name string) string {
	return uuid.NewSHA1(o.ns, []byte("compliance/"+kind+"/"+strings.ToLower(name))).String()
}

// day is a seeded timestamp: days after the tenant was created, at a stable time of day.
func (o *org) day(n int, hour int) time.Time {
	return o.created.Truncate(24 * time.Hour).Add(time.Duration(n)*24*time.Hour + time.Duration(hour)*time.Hour + 17*time.Minute + 3*time.Second)
}

// tail appends the properties every compliance configuration object ends with.
func (o *org) tail(obj exchange.Object, name, guid string, created, changed time.Time, class string) (exchange.Object, string) {
	ou := forest + "/Microsoft Exchange Hosted Organizations/" + o.t.Name
	dn := "CN=" + name + ",CN=Configuration,CN=" + o.t.Name + ",OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=prod,DC=outlook,DC=com"
	return append(obj,
		exchange.Str("Identity", guid),
		exchange.Str("Id", ou+"/Configuration/"+name),
		exchange.Bool("IsValid", true),
		exchange.Str("ExchangeVersion", "0.20 (15.0.0.0)"),
		exchange.Str("Name", name),
		exchange.Str("DistinguishedName", dn),
		exchange.Str("ObjectCategory", forest+"/Configuration/Schema/"+class),
		exchange.Strings("ObjectClass", []string{"top", class}),
		exchange.Date("WhenChanged", changed),
		exchange.Date("WhenCreated", created),
		exchange.DateUTC("WhenChangedUTC", changed),
		exchange.DateUTC("WhenCreatedUTC", created),
		exchange.GUID("ExchangeObjectId", guid),
		exchange.Str("OrganizationalUnitRoot", ou),
		exchange.Str("OrganizationId", ou+" - "+forest+"/ConfigurationUnits/"+o.t.Name+"/Configuration"),
		exchange.GUID("Guid", guid),
		exchange.Str("OriginatingServer", "AM7PR01A001DC01."+forest),
		exchange.Str("ObjectState", "Unchanged"),
	), dn
}

// labels are the sensitivity labels of Microsoft's default set, with a sublabel.
func labels(o *org) []item {
	type seed struct {
		name, display, parent, tooltip, color string
		priority                              int64
		group                                 bool
		actions                               []string
	}
	seeds := []seed{
		{name: "Public", display: "Public", color: "#00A36C", priority: 0,
			tooltip: "Business data that is specifically prepared and approved for public consumption."},
		{name: "General", display: "General", color: "#2B88D8", priority: 1,
			tooltip: "Business data which is not intended for public consumption. However, this can be shared with external partners, as required."},
		{name: "Confidential", display: "Confidential", color: "#FF8C00", priority: 2, group: true,
			tooltip: "Sensitive business data that could cause damage to the business if shared with unauthorized people."},
		{name: "Confidential-AllEmployees", display: "All Employees", parent: "Confidential", color: "#FF8C00", priority: 3,
			tooltip: "Confidential data that requires protection, which allows all employees full permissions.",
			actions: []string{`{"Type":"applycontentmarking","SubType":"footer","Settings":[{"Key":"fontsize","Value":"10"},{"Key":"placement","Value":"Footer"},{"Key":"text","Value":"Classified as Confidential"},{"Key":"fontcolor","Value":"#000000"}]}`,
				`{"Type":"encrypt","SubType":null,"Settings":[{"Key":"protectiontype","Value":"template"},{"Key":"contentexpiredondateindaysornever","Value":"Never"},{"Key":"offlineaccessdays","Value":"30"}]}`}},
		{name: "Highly Confidential", display: "Highly Confidential", color: "#E81123", priority: 4,
			tooltip: "Very sensitive business data that would cause damage to the business if it was shared with unauthorized people.",
			actions: []string{`{"Type":"applywatermarking","SubType":null,"Settings":[{"Key":"fontsize","Value":"26"},{"Key":"layout","Value":"Diagonal"},{"Key":"text","Value":"HIGHLY CONFIDENTIAL"},{"Key":"fontcolor","Value":"#E81123"}]}`,
				`{"Type":"encrypt","SubType":null,"Settings":[{"Key":"protectiontype","Value":"template"},{"Key":"contentexpiredondateindaysornever","Value":"Never"},{"Key":"offlineaccessdays","Value":"7"}]}`}},
	}
	out := make([]item, 0, len(seeds))
	for i, s := range seeds {
		guid := o.guid("label", s.name)
		created, changed := o.day(2, 9+i), o.day(30, 9+i)
		parentID, parentName := exchange.Null("ParentId"), exchange.Null("ParentLabelDisplayName")
		if s.parent != "" {
			parentID, parentName = exchange.Str("ParentId", o.guid("label", s.parent)), exchange.Str("ParentLabelDisplayName", s.parent)
		}
		actions := s.actions
		if actions == nil {
			actions = []string{}
		}
		obj := exchange.Object{
			exchange.Int("Priority", s.priority),
			exchange.Str("ContentType", "File, Email"),
			exchange.Strings("SchematizedDataCondition", []string{}),
			exchange.Strings("Settings", []string{"[color, " + s.color + "]", "[isparent, " + boolText(s.group) + "]", "[contenttype, File, Email]"}),
			exchange.Strings("LocaleSettings", []string{}),
			exchange.Null("Conditions"),
			exchange.Strings("LabelActions", actions),
			exchange.Str("Workload", "Exchange"),
			exchange.Strings("Policy", []string{}),
			exchange.Str("CreatedBy", o.admin),
			exchange.Str("LastModifiedBy", o.admin),
			exchange.Str("Comment", ""),
			parentID,
			parentName,
			exchange.Str("Tooltip", s.tooltip),
			exchange.GUID("ImmutableId", guid),
			exchange.Str("DisplayName", s.display),
			exchange.Bool("IsLabelGroup", s.group),
			exchange.Strings("Capabilities", []string{}),
			exchange.Bool("Disabled", false),
			exchange.Str("Mode", "Enforce"),
		}
		obj, dn := o.tail(obj, s.name, guid, created, changed, "msExchUnifiedPolicyRule")
		out = append(out, item{name: s.name, guid: guid, dn: dn, obj: obj})
	}
	return out
}

func boolText(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// labelPolicies publish the labels to users.
func labelPolicies(o *org) []item {
	type seed struct {
		name, comment string
		labels        []string
		exchange      []string
		settings      []string
	}
	seeds := []seed{
		{name: "Global sensitivity label policy", comment: "Publishes the default labels to everyone.",
			labels: []string{"Public", "General", "Confidential", "Confidential-AllEmployees", "Highly Confidential"}, exchange: []string{"All"},
			settings: []string{"[requiredowngradejustification, true]", "[mandatory, false]", "[siteandgroupmandatory, false]"}},
		{name: "Finance label policy", comment: "Finance must label every document and email; General is the default.",
			labels: []string{"General", "Confidential", "Confidential-AllEmployees", "Highly Confidential"}, exchange: []string{"finance@" + o.t.Name},
			settings: []string{"[requiredowngradejustification, true]", "[mandatory, true]", "[defaultlabelid, " + o.guid("label", "General") + "]"}},
	}
	out := make([]item, 0, len(seeds))
	for i, s := range seeds {
		guid := o.guid("labelpolicy", s.name)
		created, changed := o.day(3, 10+i), o.day(31, 10+i)
		obj := exchange.Object{
			exchange.Strings("Labels", s.labels),
			exchange.Strings("ScopedLabels", []string{}),
			exchange.Strings("Settings", s.settings),
			exchange.Str("Workload", "Exchange, SharePoint, OneDriveForBusiness"),
			exchange.Strings("ExchangeLocation", s.exchange),
			exchange.Strings("ExchangeLocationException", []string{}),
			exchange.Strings("ModernGroupLocation", []string{}),
			exchange.Strings("ModernGroupLocationException", []string{}),
			exchange.Str("ObjectVersion", o.guid("labelpolicy-version", s.name)),
			exchange.Str("CreatedBy", o.admin),
			exchange.Str("LastModifiedBy", o.admin),
			exchange.Str("Comment", s.comment),
			exchange.Bool("Enabled", true),
			exchange.Str("Mode", "Enforce"),
			exchange.Str("Type", "PublishedSensitivityLabel"),
			exchange.Str("DistributionStatus", "Success"),
			exchange.Strings("DistributionResults", []string{}),
			exchange.DateUTC("LastStatusUpdateTime", changed),
			exchange.Int("Priority", int64(i)),
		}
		obj, dn := o.tail(obj, s.name, guid, created, changed, "msExchUnifiedPolicy")
		out = append(out, item{name: s.name, guid: guid, dn: dn, obj: obj})
	}
	return out
}

// dlpPolicies are data loss prevention policies from Microsoft's templates, one in test mode.
func dlpPolicies(o *org) []item {
	type seed struct {
		name, comment, mode string
		teams               bool
	}
	seeds := []seed{
		{name: "U.S. Financial Data", mode: "Enable", teams: true,
			comment: "Helps detect the presence of information commonly considered to be financial information in United States, including information like credit card, account information, and debit card numbers."},
		{name: "GDPR Enhanced", mode: "TestWithNotifications",
			comment: "Helps detect the presence of information commonly considered to be subject to the General Data Protection Regulation (GDPR) in the European Union."},
		{name: "Credit Card Numbers - Email", mode: "Enable",
			comment: "Blocks email to external recipients that carries credit card numbers."},
	}
	out := make([]item, 0, len(seeds))
	for i, s := range seeds {
		guid := o.guid("dlp", s.name)
		created, changed := o.day(5, 11+i), o.day(40, 11+i)
		all, none := []string{"All"}, []string{}
		sp, od, teams, workload := all, all, none, "Exchange, SharePoint, OneDriveForBusiness"
		if s.teams {
			teams, workload = all, "Exchange, SharePoint, OneDriveForBusiness, Teams"
		}
		if strings.HasSuffix(s.name, "- Email") {
			sp, od, workload = none, none, "Exchange"
		}
		obj := exchange.Object{
			exchange.Str("ObjectVersion", o.guid("dlp-version", s.name)),
			exchange.Str("CreatedBy", o.admin),
			exchange.Str("LastModifiedBy", o.admin),
			exchange.Str("Comment", s.comment),
			exchange.Bool("Enabled", true),
			exchange.Str("Mode", s.mode),
			exchange.Str("DistributionStatus", "Success"),
			exchange.Strings("DistributionResults", []string{}),
			exchange.DateUTC("LastStatusUpdateTime", changed),
			exchange.Strings("ExchangeLocation", all),
			exchange.Strings("ExchangeSenderMemberOf", none),
			exchange.Strings("SharePointLocation", sp),
			exchange.Strings("SharePointLocationException", none),
			exchange.Strings("OneDriveLocation", od),
			exchange.Strings("OneDriveLocationException", none),
			exchange.Strings("TeamsLocation", teams),
			exchange.Strings("TeamsLocationException", none),
			exchange.Strings("EndpointDlpLocation", none),
			exchange.Str("Workload", workload),
			exchange.Int("Priority", int64(i)),
			exchange.Str("Type", "Dlp"),
			exchange.Bool("IsSimulationPolicy", false),
		}
		obj, dn := o.tail(obj, s.name, guid, created, changed, "msExchUnifiedPolicy")
		out = append(out, item{name: s.name, guid: guid, dn: dn, obj: obj})
	}
	return out
}

// retentionPolicies keep mail, files and Teams chats; one is a Teams policy.
func retentionPolicies(o *org) []item {
	type seed struct {
		name, comment string
		teams         bool
		restrictive   bool
	}
	seeds := []seed{
		{name: "Default Mailbox Retention - 7 years", comment: "Keeps every mailbox item for seven years after it was received."},
		{name: "Files Retention - 10 years", comment: "Keeps SharePoint and OneDrive documents for ten years.", restrictive: true},
		{name: "Teams Chats - 1 year", comment: "Deletes Teams chat and channel messages after one year.", teams: true},
	}
	out := make([]item, 0, len(seeds))
	for i, s := range seeds {
		guid := o.guid("retention", s.name)
		created, changed := o.day(7, 12+i), o.day(45, 12+i)
		all, none := []string{"All"}, []string{}
		ex, sp, od, chat, channel, workload := none, none, none, none, none, "SharePoint, OneDriveForBusiness"
		switch {
		case s.teams:
			chat, channel, workload = all, all, "Skype, Teams"
		case strings.HasPrefix(s.name, "Default Mailbox"):
			ex, workload = all, "Exchange"
		default:
			sp, od = all, all
		}
		obj := exchange.Object{
			exchange.Bool("TeamsPolicy", s.teams),
			exchange.Str("Type", "Retention"),
			exchange.Bool("RestrictiveRetention", s.restrictive),
			exchange.Bool("IsSimulationPolicy", false),
			exchange.Strings("RetentionRuleTypes", []string{"Default"}),
			exchange.Str("ObjectVersion", o.guid("retention-version", s.name)),
			exchange.Str("CreatedBy", o.admin),
			exchange.Str("LastModifiedBy", o.admin),
			exchange.Str("Comment", s.comment),
			exchange.Bool("Enabled", true),
			exchange.Str("Mode", "Enforce"),
			exchange.Str("DistributionStatus", "Success"),
			exchange.Strings("DistributionResults", []string{}),
			exchange.DateUTC("LastStatusUpdateTime", changed),
			exchange.Strings("ExchangeLocation", ex),
			exchange.Strings("ExchangeLocationException", none),
			exchange.Strings("SharePointLocation", sp),
			exchange.Strings("SharePointLocationException", none),
			exchange.Strings("OneDriveLocation", od),
			exchange.Strings("OneDriveLocationException", none),
			exchange.Strings("ModernGroupLocation", none),
			exchange.Strings("PublicFolderLocation", none),
			exchange.Strings("SkypeLocation", none),
			exchange.Strings("TeamsChatLocation", chat),
			exchange.Strings("TeamsChannelLocation", channel),
			exchange.Str("Workload", workload),
		}
		obj, dn := o.tail(obj, s.name, guid, created, changed, "msExchUnifiedPolicy")
		teams := s.teams
		out = append(out, item{name: s.name, guid: guid, dn: dn, obj: obj, keep: func(p exchange.Params) bool {
			if p.Switch("TeamsPolicyOnly") {
				return teams
			}
			return !(teams && p.Switch("ExcludeTeamsPolicy"))
		}})
	}
	return out
}

// searches are content searches, finished and not started, one inside an eDiscovery case.
func searches(o *org) []item {
	type seed struct {
		name, query, status, caseName, description string
		items, size                                int64
		locations                                  []string
	}
	seeds := []seed{
		{name: "Phishing sweep - invoice lure", status: "Completed", items: 42, size: 3_481_204,
			query: `subject:"Invoice overdue" AND received>=2024-05-01`, locations: []string{"All"},
			description: "Finds the phishing message reported on 3 May."},
		{name: "HR investigation - expenses", status: "Completed", items: 118, size: 25_760_311, caseName: "HR-2024-017",
			query: `(expenses OR reimbursement) AND from:diego.siciliani@contoso.com`, locations: []string{"diego.siciliani@contoso.com"},
			description: "Mail of one user about expense claims."},
		{name: "Litigation hold - Fabrikam contract", status: "NotStarted",
			query: `"Fabrikam" AND contract`, locations: []string{"All"},
			description: "Everything about the Fabrikam contract dispute."},
	}
	out := make([]item, 0, len(seeds))
	for i, s := range seeds {
		guid := o.guid("search", s.name)
		created := o.day(60+i, 14)
		changed := created
		obj := exchange.Object{
			exchange.Str("Name", s.name),
			exchange.Str("RunBy", o.admin),
		}
		var start, end exchange.Property
		success := ""
		if s.status == "Completed" {
			st := created.Add(2 * time.Minute)
			start, end = exchange.DateUTC("JobStartTime", st), exchange.DateUTC("JobEndTime", st.Add(3*time.Minute+14*time.Second))
			changed = st
			loc := strings.Join(s.locations, ", ")
			success = "{Location: " + loc + ", Item count: " + itoa(s.items) + ", Total size: " + itoa(s.size) + "}"
		} else {
			start, end = exchange.Null("JobStartTime"), exchange.Null("JobEndTime")
		}
		obj = append(obj,
			end,
			exchange.Str("Status", s.status),
			exchange.Str("ContentMatchQuery", s.query),
			exchange.Str("Language", ""),
			exchange.Str("Description", s.description),
			exchange.Strings("ExchangeLocation", s.locations),
			exchange.Strings("ExchangeLocationExclusion", []string{}),
			exchange.Strings("SharePointLocation", []string{}),
			exchange.Strings("PublicFolderLocation", []string{}),
			exchange.Bool("AllowNotFoundExchangeLocationsEnabled", false),
			exchange.Str("Case", s.caseName),
			exchange.Str("CreatedBy", o.admin),
			exchange.DateUTC("CreatedTime", created),
			exchange.Str("LastModifiedBy", o.admin),
			exchange.DateUTC("LastModifiedTime", changed),
			start,
			exchange.GUID("JobId", o.guid("search-job", s.name)),
			exchange.Int("Items", s.items),
			exchange.Int("Size", s.size),
			exchange.Int("UnindexedItems", 0),
			exchange.Int("UnindexedSize", 0),
			exchange.Str("SuccessResults", success),
			exchange.Str("Errors", ""),
			exchange.Int("NumFailedSources", 0),
			exchange.Str("Identity", guid),
			exchange.Bool("IsValid", true),
			exchange.Str("ObjectState", "Unchanged"),
		)
		caseName := s.caseName
		out = append(out, item{name: s.name, guid: guid, obj: obj, keep: func(p exchange.Params) bool {
			// Without -Case the listing leaves out searches of eDiscovery cases, as the
			// service does; -Identity finds any.
			return p.Has("Identity") || strings.EqualFold(p.String("Case"), caseName)
		}})
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
