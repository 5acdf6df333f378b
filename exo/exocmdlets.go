package exo

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// The module's nine Get-EXO* cmdlets are not InvokeCommand cmdlets: the module reads the admin
// API's typed entity sets itself (GET /adminapi/beta/{tenant}/Mailbox?$select=...&$filter=...,
// Mailbox('{id}')/Exchange.GetMailboxStatistics(), ...), with a property set's properties as
// $select. exoctl sends them the same way. The sets and bound functions are those of the
// service's $metadata; their property sets are Microsoft's documented ones (cmdlet-property-sets).

// exoCmdlet describes how one Get-EXO* cmdlet reads its entity set.
type exoCmdlet struct {
	Name string
	// Params are the cmdlet's parameters (Microsoft's reference), for completion.
	Params []string
	// path builds the request path after the tenant from the bound parameters.
	path func(p Params) (string, error)
	// sets are the cmdlet's property sets; "Minimum" is the default.
	sets map[string][]string
	// collection: the answer is a collection (paged), not one object.
	collection func(p Params) bool
}

// EXOCmdlets names the Get-EXO* cmdlets, in the module's order.
func EXOCmdlets() []string {
	names := make([]string, len(exoCmdlets))
	for i, c := range exoCmdlets {
		names[i] = c.Name
	}
	return names
}

// IsEXOCmdlet reports whether name is one of the module's Get-EXO* cmdlets (any case).
func IsEXOCmdlet(name string) bool { return lookupEXO(name) != nil }

func lookupEXO(name string) *exoCmdlet {
	for i := range exoCmdlets {
		if strings.EqualFold(exoCmdlets[i].Name, strings.TrimSpace(name)) {
			return &exoCmdlets[i]
		}
	}
	return nil
}

// key is an entity key as the admin API takes it: base64 with isEncoded=true, so any identity
// (names with quotes or slashes, folder paths) passes unchanged.
func key(v string) string { return "('" + base64.StdEncoding.EncodeToString([]byte(v)) + "')" }

// odataString quotes a function argument.
func odataString(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }

// param finds a parameter by name in any case, as PowerShell binds them.
func param(p Params, name string) (any, bool) {
	for k, v := range p {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

func identityOf(p Params, names ...string) string {
	for _, n := range names {
		if v, ok := param(p, n); ok {
			if s := FormatValue(v); s != "" {
				return s
			}
		}
	}
	return ""
}

func hasKey(p Params, names ...string) bool { return identityOf(p, names...) != "" }

func needIdentity(cmdlet string, p Params, names ...string) (string, error) {
	id := identityOf(p, names...)
	if id == "" {
		return "", fmt.Errorf("%s needs -%s", cmdlet, names[0])
	}
	return id, nil
}

var mailboxIDs = []string{"Identity", "UserPrincipalName", "PrimarySmtpAddress", "ExternalDirectoryObjectId"}

var exoCmdlets = []exoCmdlet{
	{Name: "Get-EXOMailbox", sets: mailboxSets, Params: append([]string{"Identity", "Anr", "ExternalDirectoryObjectId", "Filter", "PrimarySmtpAddress", "Properties", "PropertySets", "RecipientTypeDetails", "ResultSize", "UserPrincipalName"}, "Archive", "IncludeInactiveMailbox", "InactiveMailboxOnly", "MailboxPlan", "OrganizationalUnit", "SoftDeletedMailbox"),
		path: func(p Params) (string, error) {
			if id := identityOf(p, mailboxIDs...); id != "" {
				return "Mailbox" + key(id), nil
			}
			return "Mailbox", nil
		},
		collection: func(p Params) bool { return !hasKey(p, mailboxIDs...) }},
	{Name: "Get-EXORecipient", sets: recipientSets, Params: append([]string{"Identity", "Anr", "ExternalDirectoryObjectId", "Filter", "PrimarySmtpAddress", "Properties", "PropertySets", "RecipientTypeDetails", "ResultSize", "UserPrincipalName"}, "IncludeSoftDeletedRecipients", "OrganizationalUnit", "RecipientType"),
		path: func(p Params) (string, error) {
			if id := identityOf(p, mailboxIDs...); id != "" {
				return "Recipient" + key(id), nil
			}
			return "Recipient", nil
		},
		collection: func(p Params) bool { return !hasKey(p, mailboxIDs...) }},
	{Name: "Get-EXOCASMailbox", sets: casSets, Params: append([]string{"Identity", "Anr", "ExternalDirectoryObjectId", "Filter", "PrimarySmtpAddress", "Properties", "PropertySets", "RecipientTypeDetails", "ResultSize", "UserPrincipalName"}, "ActiveSyncDebugLogging", "GetImapProtocolLog", "GetPopProtocolLog", "OrganizationalUnit", "ProtocolSettings", "ReadIsOptimizedForAccessibility", "SendLogsTo"),
		path: func(p Params) (string, error) {
			if id := identityOf(p, mailboxIDs...); id != "" {
				return "CasMailbox" + key(id), nil
			}
			return "CasMailbox", nil
		},
		collection: func(p Params) bool { return !hasKey(p, mailboxIDs...) }},
	{Name: "Get-EXOMailboxStatistics", sets: statisticsSets, Params: []string{"Identity", "Archive", "DatabaseGuid", "ExchangeGuid", "IncludeMoveHistory", "IncludeMoveReport", "IncludeSoftDeletedRecipients", "PrimarySmtpAddress", "Properties", "PropertySets", "UserPrincipalName"},
		path: func(p Params) (string, error) {
			id, err := needIdentity("Get-EXOMailboxStatistics", p, "Identity", "UserPrincipalName", "PrimarySmtpAddress", "ExchangeGuid")
			return "Mailbox" + key(id) + "/Exchange.GetMailboxStatistics()", err
		},
		collection: func(Params) bool { return false }},
	{Name: "Get-EXOMailboxPermission", Params: []string{"Identity", "ExternalDirectoryObjectId", "Owner", "PrimarySmtpAddress", "ResultSize", "SoftDeletedMailbox", "User", "UserPrincipalName"},
		path: func(p Params) (string, error) {
			id, err := needIdentity("Get-EXOMailboxPermission", p, mailboxIDs...)
			return "Mailbox" + key(id) + "/MailboxPermission", err
		},
		collection: func(Params) bool { return true }},
	{Name: "Get-EXORecipientPermission", Params: []string{"Identity", "AccessRights", "ExternalDirectoryObjectId", "PrimarySmtpAddress", "ResultSize", "Trustee", "UserPrincipalName"},
		path: func(p Params) (string, error) {
			var args []string
			if id := identityOf(p, "Identity"); id != "" {
				args = append(args, "identity="+odataString(id))
			}
			if tr := identityOf(p, "Trustee"); tr != "" {
				args = append(args, "trustee="+odataString(tr))
			}
			if ar := identityOf(p, "AccessRights"); ar != "" {
				args = append(args, "accessRights="+odataString(ar))
			}
			return "Recipient/Exchange.GetRecipientPermissionByFilters(" + strings.Join(args, ",") + ")", nil
		},
		collection: func(Params) bool { return true }},
	{Name: "Get-EXOMailboxFolderStatistics", Params: []string{"Identity", "Archive", "DiagnosticInfo", "ExternalDirectoryObjectId", "Folderscope", "IncludeAnalysis", "IncludeOldestAndNewestItems", "IncludeSoftDeletedRecipients", "PrimarySmtpAddress", "ResultSize", "UserPrincipalName"},
		path: func(p Params) (string, error) {
			id, err := needIdentity("Get-EXOMailboxFolderStatistics", p, mailboxIDs...)
			fn := "Exchange.GetMailboxFolderStatistics()"
			if fs := identityOf(p, "FolderScope"); fs != "" {
				fn = "Exchange.GetMailboxFolderStatistics(folderscope=" + odataString(fs) + ")"
			}
			return "Mailbox" + key(id) + "/MailboxFolder/" + fn, err
		},
		collection: func(Params) bool { return true }},
	{Name: "Get-EXOMailboxFolderPermission", Params: []string{"Identity", "ExternalDirectoryObjectId", "GroupMailbox", "PrimarySmtpAddress", "User", "UserPrincipalName"},
		path: func(p Params) (string, error) {
			id, err := needIdentity("Get-EXOMailboxFolderPermission", p, "Identity")
			if err != nil {
				return "", err
			}
			mbx, folder, ok := strings.Cut(id, ":")
			if !ok || folder == "" {
				folder = `\`
			}
			return "Mailbox" + key(mbx) + "/MailboxFolder" + key(folder) + "/MailboxFolderPermission", nil
		},
		collection: func(Params) bool { return true }},
	{Name: "Get-EXOMobileDeviceStatistics", Params: []string{"Identity", "ActiveSync", "ExternalDirectoryObjectId", "GetMailboxLog", "Mailbox", "NotificationEmailAddresses", "OWAforDevices", "PrimarySmtpAddress", "RestApi", "ShowRecoveryPassword", "UniversalOutlook", "UserPrincipalName"},
		path: func(p Params) (string, error) {
			id, err := needIdentity("Get-EXOMobileDeviceStatistics", p, "Mailbox", "Identity", "UserPrincipalName", "PrimarySmtpAddress")
			return "Mailbox" + key(id) + "/MobileDevice/Exchange.GetMobileDeviceStatistics()", err
		},
		collection: func(Params) bool { return true }},
}

// exoPathParams are the parameters a cmdlet's path consumes; the rest are query options.
var exoPathParams = []string{"Identity", "UserPrincipalName", "PrimarySmtpAddress", "ExternalDirectoryObjectId", "ExchangeGuid",
	"Mailbox", "Trustee", "AccessRights", "FolderScope", "ResultSize", "Filter", "Properties", "PropertySets"}

// exoTarget builds the GET URL of a Get-EXO* call: the path, $select from -PropertySets and
// -Properties, $filter from -Filter, other parameters (Anr, RecipientTypeDetails, ...) as
// query options, isEncoded=true for base64 keys.
func (s *Session) exoTarget(c *exoCmdlet, p Params) (string, error) {
	path, err := c.path(p)
	if err != nil {
		return "", err
	}
	q := url.Values{}
	if strings.Contains(path, "('") {
		q.Set("isEncoded", "true")
	}
	if sel, err := c.selection(p); err != nil {
		return "", err
	} else if len(sel) > 0 {
		q.Set("$select", strings.Join(sel, ","))
	}
	if f := identityOf(p, "Filter"); f != "" {
		q.Set("$filter", f)
	}
	for k, v := range p {
		if slices.ContainsFunc(exoPathParams, func(n string) bool { return strings.EqualFold(n, k) }) {
			continue
		}
		if b, ok := v.(bool); ok {
			q.Set(k, strconv.FormatBool(b))
			continue
		}
		q.Set(k, FormatValue(v))
	}
	u := s.base + "/adminapi/beta/" + s.tenant + "/" + path
	if len(q) > 0 {
		u += "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
	}
	return u, nil
}

// selection is the $select of -PropertySets (Minimum unless named; All means every property)
// and -Properties.
func (c *exoCmdlet) selection(p Params) ([]string, error) {
	if c.sets == nil {
		return propsList(p, "Properties"), nil
	}
	names := propsList(p, "PropertySets")
	extra := propsList(p, "Properties")
	if len(names) == 0 && len(extra) > 0 {
		names = []string{"Minimum"}
	}
	if len(names) == 0 {
		names = []string{"Minimum"}
	}
	var out []string
	for _, n := range names {
		if strings.EqualFold(n, "All") {
			return nil, nil
		}
		var props []string
		for k, v := range c.sets {
			if strings.EqualFold(k, n) {
				props = v
			}
		}
		if props == nil {
			var known []string
			for k := range c.sets {
				known = append(known, k)
			}
			slices.Sort(known)
			return nil, fmt.Errorf("%s: the property set '%s' is not one of All, %s", c.Name, n, strings.Join(known, ", "))
		}
		for _, prop := range props {
			if !slices.Contains(out, prop) {
				out = append(out, prop)
			}
		}
	}
	for _, prop := range extra {
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, prop) }) {
			out = append(out, prop)
		}
	}
	return out, nil
}

func propsList(p Params, name string) []string {
	v, ok := param(p, name)
	if !ok {
		return nil
	}
	var out []string
	add := func(s string) {
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	switch x := v.(type) {
	case []string:
		for _, s := range x {
			add(s)
		}
	case []any:
		for _, s := range x {
			add(FormatValue(s))
		}
	default:
		add(FormatValue(v))
	}
	return out
}

// invokeEXO runs a Get-EXO* cmdlet over its entity set: pages follow @odata.nextLink (GET) as
// ResultSize says, as InvokePages does for InvokeCommand.
func (s *Session) invokeEXO(ctx context.Context, c *exoCmdlet, params Params, opts ...InvokeOption) iter.Seq2[*Page, error] {
	var cfg invokeConfig
	for _, o := range opts {
		o(&cfg)
	}
	if len(cfg.selectProps) > 0 {
		params = maps.Clone(params)
		params["Properties"] = append(propsList(params, "Properties"), cfg.selectProps...)
	}
	return func(yield func(*Page, error) bool) {
		if s.closed.Load() {
			yield(nil, ErrNotConnected)
			return
		}
		limit, unlimited, hasSize, err := resultSize(params)
		if err != nil {
			yield(nil, fmt.Errorf("%s: %w", c.Name, err))
			return
		}
		target, err := s.exoTarget(c, params)
		if err != nil {
			yield(nil, err)
			return
		}
		requestID := uuid.NewString()
		received := 0
		var links nextLinks
		for {
			want := s.pageSize
			if hasSize && !unlimited {
				want = min(s.pageSize, limit-received)
			}
			var page *Page
			var next string
			var as authState
			err := s.retrying(ctx, c.Name, func() (bool, error) {
				var retry bool
				var err error
				page, next, retry, err = s.getOnce(ctx, target, c.Name, requestID, want, &as)
				return retry, err
			})
			if err == nil && next != "" {
				err = links.check(s, next, len(page.Records))
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if hasSize && !unlimited && received+len(page.Records) > limit {
				page.Records = page.Records[:limit-received]
			}
			received += len(page.Records)
			if cfg.each != nil {
				// WithRecords: the records go to the callback, the page holds none.
				for _, r := range page.Records {
					if err := cfg.each(r); err != nil {
						yield(nil, err)
						return
					}
				}
				page.Records = nil
			}
			more := next != "" && c.collection(params)
			switch {
			case !more:
			case !hasSize:
				page.Warnings = append(page.Warnings, MoreResultsWarning)
				more = false
			case !unlimited && received >= limit:
				page.Warnings = append(page.Warnings, MoreResultsWarning)
				more = false
			}
			page.Next = more
			if !yield(page, nil) || !more {
				return
			}
			target = next
		}
	}
}

// getOnce makes one GET of an entity set; a single entity's answer becomes a one-record page.
func (s *Session) getOnce(ctx context.Context, target, cmdlet, requestID string, maxPage int, as *authState) (*Page, string, bool, error) {
	x, retry, err := s.attempt(ctx, request{
		method: http.MethodGet, target: target,
		what: cmdlet, cmdlet: cmdlet, link: "a page link of " + cmdlet, readOnly: true,
		header: func(h http.Header) {
			h.Set("Prefer", "odata.maxpagesize="+strconv.Itoa(max(maxPage, 1)))
			h.Set("Accept-Encoding", "gzip")
		},
	}, requestID, as)
	if err != nil {
		return nil, "", retry, err
	}
	defer x.stop()
	b, err := io.ReadAll(x.body)
	if err != nil {
		if err, ok := stopped(ctx, cmdlet, err); ok {
			return nil, "", false, err
		}
		return nil, "", !errors.Is(err, ErrPageTooLarge), fmt.Errorf("%s: the answer broke off (%w); run the command again", cmdlet, err)
	}
	b, err = asCollection(b)
	if err != nil {
		return nil, "", true, fmt.Errorf("%s: the answer is not valid JSON (%w); run the command again", cmdlet, err)
	}
	page, next, _, err := decodePage(bytes.NewReader(b), nil)
	if err != nil {
		return nil, "", true, fmt.Errorf("%s: the answer is not valid JSON (%w); run the command again", cmdlet, err)
	}
	return page, next, false, nil
}

// asCollection turns a single entity's answer ({"@odata.context":...,"Name":...}) into a
// collection of one, and leaves a collection's answer as it is.
func asCollection(b []byte) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, err
	}
	if _, ok := top["value"]; ok {
		return b, nil
	}
	if top == nil {
		return nil, errors.New("an empty answer")
	}
	// Keep the service's property order: cut the object's text rather than re-encoding a map.
	obj := stripContext(bytes.TrimSpace(b))
	out := append([]byte(`{"value":[`), obj...)
	return append(out, "]}"...), nil
}

// stripContext removes a leading "@odata.context" member from a JSON object's text.
func stripContext(obj []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil { // {
		return obj
	}
	k, err := dec.Token()
	if err != nil || k != "@odata.context" {
		return obj
	}
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return obj
	}
	rest := bytes.TrimLeft(obj[dec.InputOffset():], " \t\r\n")
	rest = bytes.TrimPrefix(rest, []byte(","))
	return append([]byte("{"), rest...)
}
