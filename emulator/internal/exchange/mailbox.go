package exchange

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// What mailboxes do beyond storing properties: New-Mailbox derives the alias, the primary
// SMTP address and the initial domain's address from the name, Set-Mailbox -EmailAddresses
// keeps exactly one primary SMTP address in accepted domains, -Type converts the recipient
// type, quotas keep their order. Unique names and addresses are the store's keys, checked in
// the write's transaction.

// mailboxConversions are Set-Mailbox -Type values (ConvertibleMailboxSubType) and the
// RecipientTypeDetails each gives.
var mailboxConversions = map[string]string{
	"Regular": "UserMailbox", "Room": "RoomMailbox", "Equipment": "EquipmentMailbox", "Shared": "SharedMailbox", "Workspace": "RoomMailbox",
}

// Exception classes of validation failures.
const (
	classValidation = "Microsoft.Exchange.Data.DataValidationException"
	classExists     = "Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException"
	classProxyInUse = "Microsoft.Exchange.Data.Directory.ProxyAddressExistsException"
)

func errValidation(text string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest", ErrorID: "Ex1AD6C0", Class: classValidation, Text: text}
}

func errProxyInUse(address, owner string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest", ErrorID: "Ex8B4A2E", Class: classProxyInUse,
		Text: fmt.Sprintf("The proxy address \"%s\" is already being used by the proxy addresses or LegacyExchangeDN of \"%s\". Please choose another proxy address.", address, owner)}
}

func errNameInUse(name string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BadRequest", ErrorID: "Ex5C7E19", Class: classExists,
		Text: fmt.Sprintf("The name \"%s\" is already being used. Please try another name.", name)}
}

func quotaValue(n int64) float64 {
	if n < 0 {
		return math.Inf(1)
	}
	return float64(n)
}

var sizeRE = lazyRegexp(`(?i)^([0-9]+(?:\.[0-9]+)?)\s*(b|kb|mb|gb|tb|pb)?(?:\s*\(\s*[0-9,]+\s*bytes\s*\))?$`)

// parseByteQuantifiedSize reads a quota as ByteQuantifiedSize.Parse does: "Unlimited", a number
// of bytes, or a number and a unit ("49GB", "49 GB", "1.5 TB", "49 GB (52,613,349,376 bytes)").
// Unlimited is -1.
func parseByteQuantifiedSize(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "Unlimited") {
		return -1, true
	}
	m := sizeRE().FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	mult := map[string]float64{"": 1, "b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40, "pb": 1 << 50}[strings.ToLower(m[2])]
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil || v*mult >= math.MaxInt64 {
		return 0, false
	}
	return int64(v * mult), true
}

var smtpRE = lazyRegexp(`^[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)

func validSMTP(a string) bool {
	return smtpRE().MatchString(a) && !strings.HasPrefix(a, ".") && !strings.Contains(a, "..") && !strings.Contains(a, ".@")
}

// proxy is one proxy address: its prefix as typed (SMTP primary, smtp secondary, X500, ...)
// and the address.
type proxy struct{ prefix, addr string }

func (p proxy) String() string    { return p.prefix + ":" + p.addr }
func (p proxy) smtp() bool        { return strings.EqualFold(p.prefix, "smtp") }
func (p proxy) primary() bool     { return p.prefix == "SMTP" }
func (p proxy) same(q proxy) bool { return p.lookup() == q.lookup() }
func (p proxy) secondary() proxy  { return proxy{"smtp", p.addr} }
func (p proxy) promoted() proxy   { return proxy{"SMTP", p.addr} }

// lookup is the address as FindRecipient resolves it, lower case: "smtp:a@x", "x500:/o=...".
func (p proxy) lookup() string { return strings.ToLower(p.prefix + ":" + p.addr) }

// parseProxy reads "SMTP:a@x", "smtp:a@x", "x500:/o=...", or a bare "a@x" (smtp).
func parseProxy(s string) (proxy, *Error) {
	s = strings.TrimSpace(s)
	prefix, addr, ok := strings.Cut(s, ":")
	if !ok || strings.Contains(prefix, "@") {
		prefix, addr = "smtp", s
	}
	if strings.EqualFold(prefix, "smtp") {
		if prefix != "SMTP" {
			prefix = "smtp"
		}
		if !validSMTP(addr) {
			return proxy{}, errValidation(fmt.Sprintf("The address '%s:%s' is invalid: \"%s\" isn't a valid SMTP address. The domain name can't contain spaces and it has to have a prefix and a suffix, such as example.com.", prefix, addr, addr))
		}
	}
	if addr == "" {
		return proxy{}, errValidation(fmt.Sprintf("The address '%s' is invalid: the address part is empty.", s))
	}
	return proxy{prefix, addr}, nil
}

// aliasFrom keeps the characters an alias may hold, as Exchange does when it makes an alias
// from a name ("Finance Team" -> "FinanceTeam").
func aliasFrom(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", c):
			b.WriteRune(c)
		}
	}
	return strings.Trim(b.String(), ".")
}

// databaseFor picks a stable mailbox database name for a new mailbox.
func databaseFor(guid string) string {
	h := fnv.New32a()
	h.Write([]byte(guid))
	n := h.Sum32()
	return fmt.Sprintf("EURPR01DG%03d-db%03d", n%1000, (n/1000)%1000)
}

// Quotas of a new shared, room or equipment mailbox (50 GB without a licence).
const (
	sharedProhibitSendReceive = 50 << 30
	sharedProhibitSend        = 49 << 30
	sharedIssueWarning        = 48 << 30
)

// setTypeQuotas gives a mailbox of type details that is not a user's (shared, room, equipment)
// the smaller quotas the service gives those.
func setTypeQuotas(props map[string]any, details string) {
	if details == "UserMailbox" {
		return
	}
	props["ProhibitSendReceiveQuota"] = int64(sharedProhibitSendReceive)
	props["ProhibitSendQuota"] = int64(sharedProhibitSend)
	props["IssueWarningQuota"] = int64(sharedIssueWarning)
}

// mailboxHooks are Set-Mailbox's and New-Mailbox's behaviour.
var mailboxHooks = hooks{apply: applyMailbox, check: checkMailbox, params: []string{"Type"}}

func applyMailbox(ctx context.Context, c *task, o *store.Object) error {
	if v, ok := c.take("Type"); ok {
		t, _ := v.(string)
		details, ok := mailboxConversions[t]
		if !ok {
			return errConvert("Type", t, "Microsoft.Exchange.Management.RecipientTasks.ConvertibleMailboxSubType",
				"Unable to match the identifier name "+t+" to a valid enumerator name. Specify one of the following enumerator names and try again:\r\nRegular, Room, Equipment, Shared, Workspace")
		}
		o.Props["RecipientTypeDetails"] = details
		delete(o.Props, "ResourceType")
		if t == "Workspace" {
			o.Props["ResourceType"] = "Workspace"
		}
	}
	if v, ok := c.take("ForwardingSmtpAddress"); ok {
		s, _ := v.(string)
		s, _ = cutPrefixFold(strings.TrimSpace(s), "smtp:")
		switch {
		case s == "":
			delete(o.Props, "ForwardingSmtpAddress")
		case !validSMTP(s):
			return errValidation(fmt.Sprintf("The email address \"%s\" isn't correct. Please use this format: user name, the @ sign, followed by the domain name. For example, tonysmith@contoso.com or tony.smith@contoso.com.", s))
		default:
			o.Props["ForwardingSmtpAddress"] = "smtp:" + s
		}
	}
	edit, editing := c.take("EmailAddresses")
	if v, ok := c.take("PrimarySmtpAddress"); ok && v != nil {
		a, _ := cutPrefixFold(strings.TrimSpace(v.(string)), "smtp:")
		if !validSMTP(a) {
			return errValidation(fmt.Sprintf("The email address \"%s\" isn't correct. Please use this format: user name, the @ sign, followed by the domain name. For example, tonysmith@contoso.com or tony.smith@contoso.com.", a))
		}
		if !editing {
			edit, editing = MultiValuedEdit{Add: []string{"SMTP:" + a}}, true
		}
	}
	if editing {
		return c.editAddresses(ctx, o, edit)
	}
	return nil
}

// checkMailbox validates a mailbox after a change: quota order and attribute lengths.
func checkMailbox(_ context.Context, _ *task, o *store.Object) error {
	for i := 1; i <= 15; i++ {
		if v, _ := o.Props["CustomAttribute"+strconv.Itoa(i)].(string); len([]rune(v)) > 1024 {
			return errValidation(fmt.Sprintf("The length of the property is too long. The maximum length is 1024 and the length of the value provided is %d.", len([]rune(v))))
		}
	}
	mb := schema("Mailbox")
	size := func(name string) int64 {
		v, _ := mb.value(o, nil, name)
		n, _ := asInt(v)
		return n
	}
	limit := size("ProhibitSendReceiveQuota")
	for _, name := range []string{"IssueWarningQuota", "ProhibitSendQuota"} {
		if n := size(name); quotaValue(n) > quotaValue(limit) {
			return errValidation(fmt.Sprintf("The value of property '%s' must be less than or equal to that of property 'ProhibitSendReceiveQuota'. %s: '%s', ProhibitSendReceiveQuota: '%s'.",
				name, name, formatSize(n), formatSize(limit)))
		}
	}
	return nil
}

// acceptedDomains lists the tenant's accepted domains: their names, the default and the
// initial one.
func (c *task) acceptedDomains(ctx context.Context) (names []string, def, initial string, err error) {
	if err := c.srv.ensureDefaults(ctx, c.Tenant, "AcceptedDomain"); err != nil {
		return nil, "", "", err
	}
	page, _, err := c.tx.List(ctx, store.ListQuery{TenantID: c.Tenant.ID, Types: []string{"AcceptedDomain"}})
	if err != nil {
		return nil, "", "", err
	}
	def, initial = c.Tenant.Name, c.Tenant.Name
	for _, d := range page {
		name, _ := d.Props["DomainName"].(string)
		if name == "" {
			name = d.Name
		}
		names = append(names, name)
		if b, _ := d.Props["Default"].(bool); b {
			def = name
		}
		if b, _ := d.Props["InitialDomain"].(bool); b {
			initial = name
		}
	}
	return names, def, initial, nil
}

// checkDomain refuses an SMTP address outside the tenant's accepted domains.
func checkDomain(p proxy, domains []string) *Error {
	_, domain, _ := strings.Cut(p.addr, "@")
	if slices.ContainsFunc(domains, func(d string) bool { return strings.EqualFold(d, domain) }) {
		return nil
	}
	return errValidation(fmt.Sprintf("The email address \"%s\" can't be used because the domain \"%s\" isn't an accepted domain for your organization.", p.addr, domain))
}

// editAddresses applies -EmailAddresses (a list that replaces, or @{Add; Remove}) to o, checking
// the result as Exchange does: valid addresses, accepted domains and one primary SMTP address.
// That no other recipient has an address is the store's key check.
func (c *task) editAddresses(ctx context.Context, o *store.Object, v any) error {
	var current []proxy
	for _, a := range asStrings(o.Props["EmailAddresses"]) {
		if p, e := parseProxy(a); e == nil {
			current = append(current, p)
		}
	}
	var next []proxy
	switch x := v.(type) {
	case []string:
		for _, s := range x {
			p, e := parseProxy(s)
			if e != nil {
				return e
			}
			if !slices.ContainsFunc(next, p.same) {
				next = append(next, p)
			}
		}
	case string:
		return c.editAddresses(ctx, o, []string{x})
	case MultiValuedEdit:
		next = slices.Clone(current)
		for _, s := range x.Remove {
			p, e := parseProxy(s)
			if e != nil {
				return e
			}
			i := slices.IndexFunc(next, p.same)
			if i >= 0 && next[i].primary() {
				return errValidation(fmt.Sprintf("The primary SMTP address \"%s\" can't be removed. Make another address the primary SMTP address first.", next[i].addr))
			}
			if i >= 0 {
				next = slices.Delete(next, i, i+1)
			}
		}
		for _, s := range x.Add {
			p, e := parseProxy(s)
			if e != nil {
				return e
			}
			if p.primary() {
				for i := range next {
					if next[i].primary() {
						next[i] = next[i].secondary()
					}
				}
			}
			if i := slices.IndexFunc(next, p.same); i >= 0 {
				if p.primary() {
					next[i] = p
				}
				continue
			}
			next = append(next, p)
		}
	default:
		return errConvert("EmailAddresses", describe(v), "Microsoft.Exchange.Data.ProxyAddressCollection", "")
	}
	primaries := 0
	for _, p := range next {
		if p.primary() {
			primaries++
		}
	}
	switch {
	case primaries > 1:
		return errValidation("There are multiple primary SMTP addresses. Please ensure there is only one primary address for each address type.")
	case primaries == 0:
		i := slices.IndexFunc(next, proxy.smtp)
		if i < 0 {
			return errValidation("The EmailAddresses list must contain a primary SMTP address.")
		}
		next[i] = next[i].promoted()
	}
	domains, _, _, err := c.acceptedDomains(ctx)
	if err != nil {
		return err
	}
	for _, p := range next {
		if p.smtp() && !slices.ContainsFunc(current, p.same) {
			if e := checkDomain(p, domains); e != nil {
				return e
			}
		}
	}
	list := make([]string, 0, len(next))
	for _, p := range next {
		list = append(list, p.String())
		if p.primary() {
			o.Props["PrimarySmtpAddress"] = p.addr
		}
	}
	o.Props["EmailAddresses"] = list
	return nil
}

// newMailboxHooks are New-Mailbox's behaviour: the kind of mailbox from its switches, the alias
// and addresses from the name, the properties a new mailbox starts with.
var newMailboxHooks = hooks{
	apply:  applyNewMailbox,
	params: []string{"Shared", "Room", "Equipment", "MicrosoftOnlineServicesID", "Password", "ResetPasswordOnNextLogon"},
	check:  checkMailbox,
	confirm: func(c *task, o *store.Object) string {
		return fmt.Sprintf("Creating mailbox \"%s\" with User Principal Name \"%s\" in Organizational Unit \"%s\".", o.Name, o.Props["UserPrincipalName"], c.org.ou)
	},
}

func applyNewMailbox(ctx context.Context, c *task, o *store.Object) error {
	var kinds []string
	for _, k := range []string{"Shared", "Room", "Equipment"} {
		if v, _ := c.take(k); v == true {
			kinds = append(kinds, k)
		}
	}
	upn, _ := c.take("MicrosoftOnlineServicesID")
	c.take("Password")
	c.take("ResetPasswordOnNextLogon")
	details := "UserMailbox"
	switch {
	case len(kinds) > 1:
		return &Error{Status: http.StatusBadRequest, Code: "BadRequest", ErrorID: "AmbiguousParameterSet", Class: classBinding,
			Text: "Parameter set cannot be resolved using the specified named parameters."}
	case len(kinds) == 1:
		details = map[string]string{"Shared": "SharedMailbox", "Room": "RoomMailbox", "Equipment": "EquipmentMailbox"}[kinds[0]]
	case upn == nil:
		// The default parameter set makes a user mailbox, which needs an account.
		return errMissingMandatory(c.Cmdlet.Name, "MicrosoftOnlineServicesID Password")
	}
	nv, _ := c.take("Name")
	name, _ := nv.(string)
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 64 {
		return errValidation(fmt.Sprintf("The length of the property is too long. The maximum length is 64 and the length of the value provided is %d.", len([]rune(name))))
	}
	o.Name = name
	av, _ := c.take("Alias")
	alias, _ := av.(string)
	alias = strings.TrimSpace(alias)
	if alias == "" {
		alias = aliasFrom(name)
	} else if aliasFrom(alias) != alias {
		return errValidation(fmt.Sprintf("Property expression \"%s\" isn't valid. Valid values are: Strings formed with characters from A to Z (uppercase or lowercase), digits from 0 to 9, !, #, $, %%, &, ', *, +, -, /, =, ?, ^, _, `, {, |, } or ~. One or more periods may be embedded in an alias, but each period should be preceded and followed by at least one of the other characters. Unicode characters from U+00A1 to U+00FF are also valid in an alias, but they will be mapped to a best-fit US-ASCII string in the email address, which is generated from such an alias.", alias))
	}
	domains, def, initial, err := c.acceptedDomains(ctx)
	if err != nil {
		return err
	}
	pv, _ := c.take("PrimarySmtpAddress")
	primary, _ := pv.(string)
	primary, _ = cutPrefixFold(strings.TrimSpace(primary), "smtp:")
	if s, _ := upn.(string); primary == "" && s != "" {
		primary = s
	}
	if primary == "" {
		primary = alias + "@" + def
	} else if !validSMTP(primary) {
		return errValidation(fmt.Sprintf("The email address \"%s\" isn't correct. Please use this format: user name, the @ sign, followed by the domain name. For example, tonysmith@contoso.com or tony.smith@contoso.com.", primary))
	}
	addrs := []proxy{{"SMTP", primary}}
	if moera := (proxy{"smtp", alias + "@" + initial}); !moera.same(addrs[0]) {
		addrs = append(addrs, moera)
	}
	if e := checkDomain(addrs[0], domains); e != nil {
		return e
	}
	if o.ID == "" {
		o.ID = uuid.NewString()
	}
	list := make([]string, 0, len(addrs))
	for _, a := range addrs {
		list = append(list, a.String())
	}
	u, _ := upn.(string)
	if u == "" {
		u = primary
	}
	dv, given := c.take("DisplayName")
	display, _ := dv.(string)
	if !given {
		display = name
	}
	for k, v := range map[string]any{
		"Alias": alias, "DisplayName": display, "PrimarySmtpAddress": primary, "EmailAddresses": list,
		"UserPrincipalName": u, "RecipientType": "UserMailbox", "RecipientTypeDetails": details,
		"Database": databaseFor(o.ID), "ExternalDirectoryObjectId": uuid.NewString(), "ExchangeGuid": uuid.NewString(),
	} {
		o.Props[k] = v
	}
	setTypeQuotas(o.Props, details)
	return nil
}

// removeMailboxHooks: Remove-Mailbox's confirmation names the account it deletes; the store
// deletes the mailbox's permissions and memberships with it (their references cascade).
var removeMailboxHooks = hooks{
	params: []string{"PermanentlyDelete"},
	confirm: func(c *task, o *store.Object) string {
		return fmt.Sprintf("Removing mailbox \"%s\" will remove the Windows Live ID \"%s\" and mark the mailbox and the associated Windows Live ID for deletion.", o.Name, o.Props["UserPrincipalName"])
	},
}

const quotaType = "Microsoft.Exchange.Data.Unlimited`1[Microsoft.Exchange.Data.ByteQuantifiedSize]"
