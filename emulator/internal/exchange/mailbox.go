package exchange

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// The state-changing mailbox cmdlets: Set-Mailbox, New-Mailbox (shared, room and equipment
// mailboxes, as the cloud allows) and Remove-Mailbox. Each validates everything first, then asks
// ShouldProcess (so -Confirm and -WhatIf answer with the message and change nothing, PROTOCOL.md
// §1), then writes the store.

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

// findMailbox resolves -Identity to a mailbox: other recipients are not found, as in Exchange.
func (inv *Invocation) findMailbox(ctx context.Context) (store.Recipient, error) {
	id := strings.TrimSpace(inv.Params.String("Identity"))
	r, err := inv.Store.FindRecipient(ctx, inv.Tenant.ID, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return r, inv.NotFound(id)
	case errors.Is(err, store.ErrAmbiguous):
		return r, errAmbiguous(id)
	case err != nil:
		return r, err
	}
	if !isMailboxType(r.RecipientTypeDetails) {
		return r, inv.NotFound(id)
	}
	return r, nil
}

func setMailbox(ctx context.Context, inv *Invocation) (*Result, error) {
	r, err := inv.findMailbox(ctx)
	if err != nil {
		return nil, err
	}
	p := inv.Params
	orig := cloneRecipient(r)
	if r.Extra == nil {
		r.Extra = map[string]any{}
	}
	if p.Has("DisplayName") {
		r.DisplayName = p.String("DisplayName")
	}
	if p.Has("HiddenFromAddressListsEnabled") {
		r.HiddenFromAddressLists = p.Switch("HiddenFromAddressListsEnabled")
	}
	for _, q := range []struct {
		name string
		dst  *int64
	}{
		{"ProhibitSendQuota", &r.ProhibitSendQuotaBytes},
		{"ProhibitSendReceiveQuota", &r.ProhibitSendReceiveBytes},
		{"IssueWarningQuota", &r.IssueWarningQuotaBytes},
	} {
		size, ok := p.ByteSize(q.name)
		if !ok {
			continue
		}
		*q.dst = size.Bytes
		if size.Unlimited {
			*q.dst = -1
		}
	}
	if e := checkQuotaOrder(&r); e != nil {
		return nil, e
	}
	if p.Has("EmailAddresses") {
		if e := inv.editAddresses(ctx, &r, p["EmailAddresses"]); e != nil {
			return nil, e
		}
	}
	for i := 1; i <= 15; i++ {
		name := "CustomAttribute" + strconv.Itoa(i)
		if !p.Has(name) {
			continue
		}
		v := p.String(name)
		if n := len([]rune(v)); n > 1024 {
			return nil, errValidation(fmt.Sprintf("The length of the property is too long. The maximum length is 1024 and the length of the value provided is %d.", n))
		}
		setExtra(&r, name, v)
	}
	if p.Has("Type") {
		details := mailboxConversions[p.String("Type")]
		if r.RecipientTypeDetails != details || p.String("Type") == "Workspace" {
			r.RecipientTypeDetails = details
			delete(r.Extra, "IsResource")
			delete(r.Extra, "ResourceType")
			if p.String("Type") == "Workspace" {
				r.Extra["ResourceType"] = "Workspace"
			}
		}
	}
	if p.Has("ForwardingSmtpAddress") {
		v := strings.TrimSpace(p.String("ForwardingSmtpAddress"))
		if len(v) > 5 && strings.EqualFold(v[:5], "smtp:") {
			v = v[5:]
		}
		if v != "" && !validSMTP(v) {
			return nil, errValidation(fmt.Sprintf("The email address \"%s\" isn't correct. Please use this format: user name, the @ sign, followed by the domain name. For example, tonysmith@contoso.com or tony.smith@contoso.com.", v))
		}
		if v != "" {
			v = "smtp:" + v
		}
		setExtra(&r, "ForwardingSmtpAddress", v)
	}
	if p.Has("DeliverToMailboxAndForward") {
		r.Extra["DeliverToMailboxAndForward"] = p.Switch("DeliverToMailboxAndForward")
	}
	if !inv.ShouldProcess(fmt.Sprintf("Setting mailbox \"%s\".", r.Name)) {
		return nil, nil
	}
	if sameRecipient(orig, r) {
		return &Result{Warnings: []string{fmt.Sprintf("The command completed successfully but no settings of '%s' have been modified.", r.Name)}}, nil
	}
	r.WhenChanged = time.Now().UTC()
	if err := inv.Store.PutRecipient(ctx, r); err != nil {
		return nil, err
	}
	return nil, nil
}

// setExtra sets an Extra property, or removes it (back to the shape's default) when v is empty.
func setExtra(r *store.Recipient, name, v string) {
	if v == "" {
		delete(r.Extra, name)
		return
	}
	r.Extra[name] = v
}

// checkQuotaOrder refuses a send quota or a warning above the send-and-receive quota.
func checkQuotaOrder(r *store.Recipient) *Error {
	limit := quotaValue(r.ProhibitSendReceiveBytes)
	for _, q := range []struct {
		name string
		n    int64
	}{{"IssueWarningQuota", r.IssueWarningQuotaBytes}, {"ProhibitSendQuota", r.ProhibitSendQuotaBytes}} {
		if quotaValue(q.n) > limit {
			return errValidation(fmt.Sprintf("The value of property '%s' must be less than or equal to that of property 'ProhibitSendReceiveQuota'. %s: '%s', ProhibitSendReceiveQuota: '%s'.",
				q.name, q.name, formatSize(q.n), formatSize(r.ProhibitSendReceiveBytes)))
		}
	}
	return nil
}

func quotaValue(n int64) float64 {
	if n < 0 {
		return math.Inf(1)
	}
	return float64(n)
}

var sizeRE = regexp.MustCompile(`(?i)^([0-9]+(?:\.[0-9]+)?)\s*(b|kb|mb|gb|tb|pb)?(?:\s*\(\s*[0-9,]+\s*bytes\s*\))?$`)

// parseByteQuantifiedSize reads a quota as ByteQuantifiedSize.Parse does: "Unlimited", a number
// of bytes, or a number and a unit ("49GB", "49 GB", "1.5 TB", "49 GB (52,613,349,376 bytes)").
// Unlimited is -1.
func parseByteQuantifiedSize(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "Unlimited") {
		return -1, true
	}
	m := sizeRE.FindStringSubmatch(s)
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

var smtpRE = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)

func validSMTP(a string) bool {
	return smtpRE.MatchString(a) && !strings.HasPrefix(a, ".") && !strings.Contains(a, "..") && !strings.Contains(a, ".@")
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

// editAddresses applies -EmailAddresses (a list that replaces, or @{Add; Remove}) to r, checking
// the result as Exchange does: valid addresses, accepted domains, one primary SMTP address, and
// no address another recipient uses.
func (inv *Invocation) editAddresses(ctx context.Context, r *store.Recipient, v any) *Error {
	var current []proxy
	for _, a := range r.EmailAddresses {
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
		return errConvert("EmailAddresses", describe(v), TypeMultiValued.netType(), "")
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
	domains, err := inv.Store.AcceptedDomains(ctx, inv.Tenant.ID)
	if err != nil {
		return asError(err)
	}
	for _, p := range next {
		if !p.smtp() || slices.ContainsFunc(current, p.same) {
			continue
		}
		if e := checkDomain(p, domains); e != nil {
			return e
		}
		if e := inv.checkAddressFree(ctx, p, r.GUID); e != nil {
			return e
		}
	}
	r.EmailAddresses = r.EmailAddresses[:0:0]
	for _, p := range next {
		r.EmailAddresses = append(r.EmailAddresses, p.String())
		if p.primary() {
			r.PrimarySMTPAddress = p.addr
		}
	}
	return nil
}

// checkDomain refuses an SMTP address outside the tenant's accepted domains.
func checkDomain(p proxy, domains []store.AcceptedDomain) *Error {
	_, domain, _ := strings.Cut(p.addr, "@")
	for _, d := range domains {
		if strings.EqualFold(d.DomainName, domain) {
			return nil
		}
	}
	return errValidation(fmt.Sprintf("The email address \"%s\" can't be used because the domain \"%s\" isn't an accepted domain for your organization.", p.addr, domain))
}

// checkAddressFree refuses an address that a recipient other than self already has.
func (inv *Invocation) checkAddressFree(ctx context.Context, p proxy, self string) *Error {
	other, err := inv.Store.FindRecipient(ctx, inv.Tenant.ID, p.lookup())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case errors.Is(err, store.ErrAmbiguous):
		return errProxyInUse(p.String(), inv.srv.org(inv.Tenant).ou)
	case err != nil:
		return asError(err)
	case strings.EqualFold(other.GUID, self):
		return nil
	}
	return errProxyInUse(p.String(), inv.srv.org(inv.Tenant).ou+"/"+other.Name)
}

func cloneRecipient(r store.Recipient) store.Recipient {
	r.EmailAddresses = slices.Clone(r.EmailAddresses)
	extra := make(map[string]any, len(r.Extra))
	for k, v := range r.Extra {
		extra[k] = v
	}
	r.Extra = extra
	return r
}

// sameRecipient reports whether a Set-* changed nothing.
func sameRecipient(a, b store.Recipient) bool {
	if a.DisplayName != b.DisplayName || a.HiddenFromAddressLists != b.HiddenFromAddressLists ||
		a.ProhibitSendQuotaBytes != b.ProhibitSendQuotaBytes || a.ProhibitSendReceiveBytes != b.ProhibitSendReceiveBytes ||
		a.IssueWarningQuotaBytes != b.IssueWarningQuotaBytes || a.RecipientTypeDetails != b.RecipientTypeDetails ||
		a.PrimarySMTPAddress != b.PrimarySMTPAddress || !slices.Equal(a.EmailAddresses, b.EmailAddresses) || len(a.Extra) != len(b.Extra) {
		return false
	}
	for k, v := range a.Extra {
		w, ok := b.Extra[k]
		if !ok || fmt.Sprint(v) != fmt.Sprint(w) {
			return false
		}
	}
	return true
}

// Quotas of a new shared, room or equipment mailbox (50 GB without a licence).
const (
	sharedProhibitSendReceive = 50 << 30
	sharedProhibitSend        = 49 << 30
	sharedIssueWarning        = 48 << 30
)

func newMailbox(ctx context.Context, inv *Invocation) (*Result, error) {
	p := inv.Params
	var kinds []string
	for _, k := range []string{"Shared", "Room", "Equipment"} {
		if p.Switch(k) {
			kinds = append(kinds, k)
		}
	}
	switch len(kinds) {
	case 0:
		// The default parameter set makes a user mailbox, which needs an account.
		return nil, errMissingMandatory("New-Mailbox", "MicrosoftOnlineServicesID Password")
	case 1:
	default:
		return nil, &Error{Status: http.StatusBadRequest, Code: "BadRequest", ErrorID: "AmbiguousParameterSet", Class: classBinding,
			Text: "Parameter set cannot be resolved using the specified named parameters."}
	}
	details := map[string]string{"Shared": "SharedMailbox", "Room": "RoomMailbox", "Equipment": "EquipmentMailbox"}[kinds[0]]
	name := strings.TrimSpace(p.String("Name"))
	if name == "" || len([]rune(name)) > 64 {
		return nil, errValidation(fmt.Sprintf("The length of the property is too long. The maximum length is 64 and the length of the value provided is %d.", len([]rune(name))))
	}
	alias := strings.TrimSpace(p.String("Alias"))
	if alias == "" {
		alias = aliasFrom(name)
	} else if aliasFrom(alias) != alias {
		return nil, errValidation(fmt.Sprintf("Property expression \"%s\" isn't valid. Valid values are: Strings formed with characters from A to Z (uppercase or lowercase), digits from 0 to 9, !, #, $, %%, &, ', *, +, -, /, =, ?, ^, _, `, {, |, } or ~. One or more periods may be embedded in an alias, but each period should be preceded and followed by at least one of the other characters. Unicode characters from U+00A1 to U+00FF are also valid in an alias, but they will be mapped to a best-fit US-ASCII string in the email address, which is generated from such an alias.", alias))
	}
	domains, err := inv.Store.AcceptedDomains(ctx, inv.Tenant.ID)
	if err != nil {
		return nil, err
	}
	def, initial := inv.Tenant.Name, inv.Tenant.Name
	for _, d := range domains {
		if d.Default {
			def = d.DomainName
		}
		if d.Initial {
			initial = d.DomainName
		}
	}
	primary := strings.TrimSpace(p.String("PrimarySmtpAddress"))
	if len(primary) > 5 && strings.EqualFold(primary[:5], "smtp:") {
		primary = primary[5:]
	}
	if primary == "" {
		primary = alias + "@" + def
	} else if !validSMTP(primary) {
		return nil, errValidation(fmt.Sprintf("The email address \"%s\" isn't correct. Please use this format: user name, the @ sign, followed by the domain name. For example, tonysmith@contoso.com or tony.smith@contoso.com.", primary))
	}
	addrs := []proxy{{"SMTP", primary}}
	if moera := (proxy{"smtp", alias + "@" + initial}); !moera.same(addrs[0]) {
		addrs = append(addrs, moera)
	}
	if e := checkDomain(addrs[0], domains); e != nil {
		return nil, e
	}
	if other, err := inv.Store.FindRecipient(ctx, inv.Tenant.ID, name); err == nil && strings.EqualFold(other.Name, name) || errors.Is(err, store.ErrAmbiguous) {
		return nil, errNameInUse(name)
	}
	for _, a := range addrs {
		if e := inv.checkAddressFree(ctx, a, ""); e != nil {
			return nil, e
		}
	}
	o := inv.srv.org(inv.Tenant)
	display := p.String("DisplayName")
	if !p.Has("DisplayName") {
		display = name
	}
	if !inv.ShouldProcess(fmt.Sprintf("Creating mailbox \"%s\" with User Principal Name \"%s\" in Organizational Unit \"%s\".", name, primary, o.ou)) {
		return nil, nil
	}
	now := time.Now().UTC()
	guid := uuid.NewString()
	r := store.Recipient{
		TenantID: inv.Tenant.ID, GUID: guid, ExternalDirectoryObjectID: uuid.NewString(),
		Name: name, Alias: alias, DisplayName: display, FirstName: p.String("FirstName"), LastName: p.String("LastName"),
		UserPrincipalName: primary, PrimarySMTPAddress: primary,
		RecipientType: "UserMailbox", RecipientTypeDetails: details, Database: databaseFor(guid),
		ProhibitSendQuotaBytes: sharedProhibitSend, ProhibitSendReceiveBytes: sharedProhibitSendReceive, IssueWarningQuotaBytes: sharedIssueWarning,
		WhenCreated: now, WhenChanged: now,
		Extra: map[string]any{"DistinguishedName": "CN=" + escapeRDN(name) + o.dnSuffix, "ExchangeGuid": uuid.NewString()},
	}
	for _, a := range addrs {
		r.EmailAddresses = append(r.EmailAddresses, a.String())
	}
	if err := inv.Store.PutRecipient(ctx, r); err != nil {
		return nil, err
	}
	created, err := inv.Store.FindRecipient(ctx, inv.Tenant.ID, guid)
	if err != nil {
		return nil, err
	}
	return objects([]Object{mailboxObject(nil, &created, o)}, inv.After, inv.Limit), nil
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

func removeMailbox(ctx context.Context, inv *Invocation) (*Result, error) {
	r, err := inv.findMailbox(ctx)
	if err != nil {
		return nil, err
	}
	if !inv.ShouldProcess(fmt.Sprintf("Removing mailbox \"%s\" will remove the Windows Live ID \"%s\" and mark the mailbox and the associated Windows Live ID for deletion.", r.Name, r.UserPrincipalName)) {
		return nil, nil
	}
	if err := inv.Store.DeleteRecipient(ctx, inv.Tenant.ID, r.GUID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, inv.NotFound(inv.Params.String("Identity"))
		}
		return nil, err
	}
	return nil, nil
}
