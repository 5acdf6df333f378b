package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Binder limits: the most values an array parameter takes and the longest string, so a request
// the service would refuse never reaches a cmdlet or the store.
const (
	MaxValues       = 4096
	MaxStringLength = 256 << 10
)

// Bind binds a request's Parameters object (JSON, named parameters) as PowerShell's binder
// does for this product: names exact, by alias or by unambiguous prefix, any case; values
// converted to the parameter's type; the parameter set resolved; mandatory parameters checked.
// It returns the bound values by canonical parameter name (see values.go for their Go types)
// and the parameter set used.
func (c *Command) Bind(raw json.RawMessage) (map[string]any, *CommandSet, *BindError) {
	in, e := decodeParameters(raw)
	if e != nil {
		return nil, nil, e
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]any, len(in))
	given := uint64(1)<<len(c.Sets) - 1
	var bound []*BoundParam
	for _, k := range keys {
		if strings.HasSuffix(k, "@odata.type") || strings.HasPrefix(k, "@") {
			continue // annotations such as "Param@odata.type":"#Collection(Exchange.GenericHashTable)"
		}
		p, e := c.resolve(k)
		if e != nil {
			return nil, nil, e
		}
		if _, dup := out[p.Name]; dup {
			return nil, nil, errParameterTwice(p.Name)
		}
		v, present, e := p.convert(in[k])
		if e != nil {
			return nil, nil, e
		}
		if present {
			out[p.Name] = v
			given &= p.sets
			bound = append(bound, p)
		}
	}
	set, e := c.resolveSet(given, out)
	if e != nil {
		return nil, nil, e
	}
	var missing []string
	for _, sp := range set.Params {
		if !sp.Mandatory {
			continue
		}
		v, ok := out[sp.Name]
		switch {
		case !ok:
			missing = append(missing, sp.Name)
		case v == nil:
			return nil, nil, errNullMandatory(sp.Name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, nil, errMissingMandatory(missing)
	}
	return out, set, nil
}

// decodeParameters reads the Parameters object; numbers stay json.Number.
func decodeParameters(raw json.RawMessage) (map[string]any, *BindError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var in map[string]any
	if err := dec.Decode(&in); err != nil {
		return nil, errBadParameters()
	}
	return in, nil
}

// resolve finds a parameter the way PowerShell does: exact name or alias (any case), else an
// unambiguous prefix of one.
func (c *Command) resolve(name string) (*BoundParam, *BindError) {
	k := strings.ToLower(name)
	if p, ok := c.index[k]; ok {
		return p, nil
	}
	if k == "" {
		return nil, errNoParameter(name)
	}
	var matches []*BoundParam
	i := sort.SearchStrings(c.names, k)
	for ; i < len(c.names) && strings.HasPrefix(c.names[i], k); i++ {
		if p := c.index[c.names[i]]; !slices.Contains(matches, p) {
			matches = append(matches, p)
		}
	}
	switch len(matches) {
	case 0:
		return nil, errNoParameter(name)
	case 1:
		return matches[0], nil
	}
	shown := make([]string, len(matches))
	for i, p := range matches {
		shown[i] = p.Name
	}
	sort.Strings(shown)
	return nil, errAmbiguousParameter(name, shown)
}

// resolveSet picks the parameter set from the sets that hold every given parameter: the only
// one; else the only one whose mandatory parameters are all given; else the default set.
func (c *Command) resolveSet(candidates uint64, out map[string]any) (*CommandSet, *BindError) {
	var cands []int
	for i := range c.Sets {
		if candidates&(1<<i) != 0 {
			cands = append(cands, i)
		}
	}
	switch len(cands) {
	case 0:
		return nil, errParameterSet()
	case 1:
		return c.Sets[cands[0]], nil
	}
	var satisfied []int
	for _, i := range cands {
		ok := true
		for _, sp := range c.Sets[i].Params {
			if sp.Mandatory {
				if _, given := out[sp.Name]; !given {
					ok = false
					break
				}
			}
		}
		if ok {
			satisfied = append(satisfied, i)
		}
	}
	if len(satisfied) == 1 {
		return c.Sets[satisfied[0]], nil
	}
	if c.Default >= 0 && slices.Contains(cands, c.Default) {
		return c.Sets[c.Default], nil
	}
	if len(satisfied) == 0 {
		return nil, errParameterSet()
	}
	// Several sets fit and none is the default. PowerShell would refuse; the pages, though,
	// often lose what tells such sets apart (on-premises parameters, live-only sets), so the
	// set with the fewest parameters the request leaves out is taken, the first on a tie.
	best := satisfied[0]
	for _, i := range satisfied[1:] {
		if len(c.Sets[i].Params) < len(c.Sets[best].Params) {
			best = i
		}
	}
	return c.Sets[best], nil
}

// convert binds one JSON value (as decoded with UseNumber). present is false for a value that
// means "not given" (a null switch).
func (p *BoundParam) convert(x any) (v any, present bool, e *BindError) {
	if x == nil {
		switch p.Kind {
		case KindSwitch:
			return nil, false, nil
		case KindIdentity, KindResultSize:
			return nil, false, errNullArgument(p.Name)
		}
		return nil, true, nil
	}
	switch p.Kind {
	case KindSwitch, KindBool:
		b, e := p.toBool(x)
		return b, e == nil, e
	case KindStrings, KindEnums, KindSmtpAddresses:
		list, e := p.toStrings(x)
		return list, e == nil, e
	case KindMultiValued:
		m, ok := x.(map[string]any)
		if !ok {
			list, e := p.toStrings(x)
			return list, e == nil, e
		}
		edit, e := p.toEdit(m)
		return edit, e == nil, e
	case KindHashtable:
		m, ok := x.(map[string]any)
		if !ok || !isHashtable(m) {
			return nil, false, errConvert(p.Name, describe(x), p.Net, "")
		}
		if e := p.checkHashtable(m); e != nil {
			return nil, false, e
		}
		return untag(m), true, nil
	case KindHashtables:
		items, ok := x.([]any)
		if !ok {
			items = []any{x}
		}
		if len(items) > MaxValues {
			return nil, false, errTooManyValues(p.Name, MaxValues, len(items))
		}
		out := make([]map[string]any, 0, len(items))
		for _, it := range items {
			m, ok := it.(map[string]any)
			if !ok || !isHashtable(m) {
				return nil, false, errConvert(p.Name, describe(x), p.Net, "")
			}
			if e := p.checkHashtable(m); e != nil {
				return nil, false, e
			}
			out = append(out, untag(m))
		}
		return out, true, nil
	case KindObject:
		return x, true, nil
	}
	s, ok := scalarText(x)
	if !ok {
		return nil, false, errConvert(p.Name, describe(x), p.Net, "Specified method is not supported.")
	}
	if n := utf8.RuneCountInString(s); n > MaxStringLength {
		return nil, false, errTooLong(p.Name, MaxStringLength, n)
	}
	v, e = p.scalar(s, x)
	return v, e == nil, e
}

// scalar converts one value given as text (s) or JSON (x) to a scalar kind.
func (p *BoundParam) scalar(s string, x any) (any, *BindError) {
	t := strings.TrimSpace(s)
	switch p.Kind {
	case KindIdentity:
		if t == "" {
			return nil, errEmptyArgument(p.Name)
		}
		return s, nil
	case KindEnum:
		return p.enum(s)
	case KindInt:
		return p.toInt(t, x)
	case KindDouble:
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, errConvert(p.Name, s, p.Net, "Input string was not in a correct format.")
		}
		return f, nil
	case KindResultSize:
		if strings.EqualFold(t, "Unlimited") {
			return ResultSize{Unlimited: true}, nil
		}
		// -ResultSize counts from 1; other Unlimited counts (RecipientLimits, ...) from 0.
		least, most := int64(0), int64(math.MaxInt32)
		if strings.Contains(p.Net, "UInt32") {
			least, most = 1, math.MaxUint32
		}
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil || n < least || n > most {
			return nil, errConvert(p.Name, s, p.Net, "")
		}
		return ResultSize{N: n}, nil
	case KindByteSize, KindUnlimitedBytes:
		n, unlimited, ok := ParseByteQuantifiedSize(t)
		if !ok || (unlimited && p.Kind == KindByteSize) {
			return nil, errConvert(p.Name, s, p.Net, fmt.Sprintf("The value \"%s\" isn't a valid byte quantity. Use a number of bytes or a number and a unit (B, KB, MB, GB, TB), e.g. 49 GB, or Unlimited.", s))
		}
		return ByteSize{Bytes: n, Unlimited: unlimited}, nil
	case KindTimeSpan, KindUnlimitedTime:
		if p.Kind == KindUnlimitedTime && strings.EqualFold(t, "Unlimited") {
			return Duration{Unlimited: true}, nil
		}
		d, ok := ParseTimeSpan(t)
		if !ok {
			return nil, errConvert(p.Name, s, p.Net, "String was not recognized as a valid TimeSpan.")
		}
		if p.Kind == KindUnlimitedTime {
			return Duration{D: d}, nil
		}
		return d, nil
	case KindDateTime:
		tm, ok := ParseDateTime(t)
		if !ok {
			return nil, errConvert(p.Name, s, p.Net, "String was not recognized as a valid DateTime.")
		}
		return tm, nil
	case KindGuid:
		g, ok := parseGUID(t)
		if !ok {
			return nil, errConvert(p.Name, s, p.Net, "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).")
		}
		return g, nil
	case KindSmtpAddress:
		if !ValidSMTP(t) {
			return nil, errConvert(p.Name, s, p.Net, smtpWhy(t))
		}
		return t, nil
	case KindProxyAddress:
		addr := t
		if prefix, rest, ok := strings.Cut(t, ":"); ok && strings.EqualFold(prefix, "smtp") {
			addr = rest
		} else if ok && !strings.Contains(prefix, "@") {
			return t, nil // X500:, SIP:, ... addresses are not SMTP
		}
		if !ValidSMTP(addr) {
			return nil, errConvert(p.Name, s, p.Net, smtpWhy(addr))
		}
		return t, nil
	}
	return s, nil
}

func smtpWhy(a string) string {
	return fmt.Sprintf("The email address \"%s\" isn't correct. Please use this format: user name, the @ sign, followed by the domain name. For example, tonysmith@contoso.com or tony.smith@contoso.com.", a)
}

func (p *BoundParam) toBool(x any) (bool, *BindError) {
	switch b := x.(type) {
	case bool:
		return b, nil
	case string:
		if pb, err := strconv.ParseBool(strings.TrimSpace(b)); err == nil {
			return pb, nil
		}
	case json.Number:
		if f, err := b.Float64(); err == nil {
			return f != 0, nil
		}
	}
	return false, errBoolean(p.Name, describe(x), p.Net)
}

func (p *BoundParam) toInt(t string, x any) (int64, *BindError) {
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		// PowerShell rounds a fractional number to an integer parameter.
		if f, ferr := strconv.ParseFloat(t, 64); ferr == nil && x != nil && !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) < 1<<62 {
			n, err = int64(math.RoundToEven(f)), nil
		}
	}
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, errConvert(p.Name, t, p.Net, "Value was either too large or too small for "+article(p.Net)+".")
		}
		return 0, errConvert(p.Name, t, p.Net, "Input string was not in a correct format.")
	}
	if p.min != 0 || p.max != 0 {
		if n < p.min || n > p.max {
			return 0, errConvert(p.Name, t, p.Net, "Value was either too large or too small for "+article(p.Net)+".")
		}
	}
	return n, nil
}

// article is ".NET's" "an Int32", "a UInt32" wording.
func article(net string) string {
	name := strings.TrimPrefix(net, "System.")
	if strings.HasPrefix(name, "I") {
		return "an " + name
	}
	return "a " + name
}

func (p *BoundParam) toStrings(x any) ([]string, *BindError) {
	items, ok := x.([]any)
	if !ok {
		items = []any{x}
	}
	if len(items) > MaxValues {
		return nil, errTooManyValues(p.Name, MaxValues, len(items))
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := scalarText(it)
		if !ok {
			return nil, errConvert(p.Name, describe(x), p.Net, "Specified method is not supported.")
		}
		if n := utf8.RuneCountInString(s); n > MaxStringLength {
			return nil, errTooLong(p.Name, MaxStringLength, n)
		}
		switch p.Kind {
		case KindEnums:
			c, e := p.enum(s)
			if e != nil {
				return nil, e
			}
			s = c
		case KindSmtpAddresses:
			s = strings.TrimSpace(s)
			if !ValidSMTP(s) {
				return nil, errConvert(p.Name, describe(x), p.Net, smtpWhy(s))
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func (p *BoundParam) toEdit(m map[string]any) (MultiValuedEdit, *BindError) {
	var edit MultiValuedEdit
	if !isHashtable(m) && !isTagged(m, "#Exchange.StringFieldDeltaUpdateData") {
		return edit, errConvert(p.Name, describe(m), p.Net, "")
	}
	keys := make([]string, 0, len(m))
	for k := range untag(m) {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var list *[]string
		switch strings.ToLower(k) {
		case "add", "+":
			list = &edit.Add
		case "remove", "-":
			list = &edit.Remove
		default:
			return edit, errConvert(p.Name, describe(m), p.Net, fmt.Sprintf("The hashtable key '%s' isn't valid. Use Add or Remove.", k))
		}
		items, e := (&BoundParam{Param: p.Param, Kind: KindStrings, Net: p.Net}).toStrings(m[k])
		if e != nil {
			return edit, e
		}
		*list = append(*list, items...)
	}
	if len(edit.Add)+len(edit.Remove) > MaxValues {
		return edit, errTooManyValues(p.Name, MaxValues, len(edit.Add)+len(edit.Remove))
	}
	return edit, nil
}

// checkHashtable keeps a hashtable within the binder's limits.
func (p *BoundParam) checkHashtable(m map[string]any) *BindError {
	n := 0
	var walk func(v any) *BindError
	walk = func(v any) *BindError {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				if err := walk(e); err != nil {
					return err
				}
			}
		case []any:
			for _, e := range x {
				if err := walk(e); err != nil {
					return err
				}
			}
		case string:
			if l := utf8.RuneCountInString(x); l > MaxStringLength {
				return errTooLong(p.Name, MaxStringLength, l)
			}
		}
		if n++; n > MaxValues {
			return errTooManyValues(p.Name, MaxValues, n)
		}
		return nil
	}
	return walk(m)
}

func (p *BoundParam) enum(s string) (string, *BindError) {
	t := strings.TrimSpace(s)
	for _, v := range p.values {
		if strings.EqualFold(t, v) {
			return v, nil
		}
	}
	return "", errConvert(p.Name, s, p.Net, fmt.Sprintf("Unable to match the identifier name %s to a valid enumerator name. Specify one of the following enumerator names and try again:\r\n%s",
		s, strings.Join(p.values, ", ")))
}

// scalarText renders a JSON scalar as PowerShell converts it to a string.
func scalarText(x any) (string, bool) {
	switch v := x.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		if v {
			return "True", true
		}
		return "False", true
	}
	return "", false
}

// describe is how PowerShell shows a value in a conversion error.
func describe(x any) string {
	switch x.(type) {
	case []any:
		return "System.Object[]"
	case map[string]any:
		return "System.Collections.Hashtable"
	}
	s, _ := scalarText(x)
	return s
}

// isHashtable reports whether a JSON object carries the GenericHashTable tag the service's
// binder needs.
func isHashtable(m map[string]any) bool { return isTagged(m, "#Exchange.GenericHashTable") }

// isTagged reports whether a JSON object's @odata.type is typ. The admin API's own clients send
// a MultiValuedProperty edit as #Exchange.StringFieldDeltaUpdateData {Add, Remove}, the
// $metadata complex type of PowerShell's @{Add=...; Remove=...}.
func isTagged(m map[string]any, typ string) bool {
	for k, v := range m {
		if strings.EqualFold(k, "@odata.type") {
			s, _ := v.(string)
			return strings.EqualFold(s, typ)
		}
	}
	return false
}

// untag drops the @odata.type tags of a hashtable, nested ones included.
func untag(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if strings.EqualFold(k, "@odata.type") || strings.HasSuffix(k, "@odata.type") {
			continue
		}
		if n, ok := v.(map[string]any); ok && isHashtable(n) {
			v = untag(n)
		}
		out[k] = v
	}
	return out
}

var sizeRE = lazyRegexp(`(?i)^([0-9]+(?:\.[0-9]+)?)\s*(b|kb|mb|gb|tb|pb)?(?:\s*\(\s*[0-9,]+\s*bytes\s*\))?$`)

// ParseByteQuantifiedSize reads a size as ByteQuantifiedSize.Parse does: a number of bytes, or
// a number and a unit ("49GB", "49 GB", "1.5 TB", "49 GB (52,613,349,376 bytes)"), or
// "Unlimited".
func ParseByteQuantifiedSize(s string) (bytes int64, unlimited, ok bool) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "Unlimited") {
		return 0, true, true
	}
	m := sizeRE().FindStringSubmatch(s)
	if m == nil {
		return 0, false, false
	}
	mult := map[string]float64{"": 1, "b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40, "pb": 1 << 50}[strings.ToLower(m[2])]
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil || v*mult >= math.MaxInt64 {
		return 0, false, false
	}
	return int64(v * mult), false, true
}

var timeSpanRE = lazyRegexp(`^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$`)

// ParseTimeSpan reads a TimeSpan as .NET's TimeSpan.Parse does: "d", "hh:mm", "hh:mm:ss",
// "d.hh:mm:ss" or "d.hh:mm:ss.fffffff".
func ParseTimeSpan(s string) (time.Duration, bool) {
	if d, err := strconv.ParseInt(s, 10, 64); err == nil {
		if d < -10675199 || d > 10675199 {
			return 0, false
		}
		return time.Duration(d) * 24 * time.Hour, true
	}
	m := timeSpanRE().FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	num := func(x string) int64 { n, _ := strconv.ParseInt(x, 10, 64); return n }
	h, mi, sec := num(m[3]), num(m[4]), num(m[5])
	if h > 23 || mi > 59 || sec > 59 {
		return 0, false
	}
	d := time.Duration(num(m[2]))*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(sec)*time.Second
	if f := m[6]; f != "" {
		d += time.Duration(num((f + "0000000")[:7])) * 100
	}
	if m[1] != "" {
		d = -d
	}
	return d, true
}

var dateLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04",
	"2006-01-02", "1/2/2006 15:04:05", "1/2/2006 3:04:05 PM", "1/2/2006 3:04 PM", "1/2/2006 15:04", "1/2/2006",
	"2006-01-02T15:04:05.9999999-07:00",
}

// ParseDateTime reads a DateTime as the service's binder does in the en-US culture: ISO 8601
// (the module sends yyyy-MM-ddTHH:mm:ss, UTC) or month/day/year.
func ParseDateTime(s string) (time.Time, bool) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func parseGUID(s string) (string, bool) {
	t := strings.Trim(s, "{}()")
	if len(t) == 32 {
		t = t[:8] + "-" + t[8:12] + "-" + t[12:16] + "-" + t[16:20] + "-" + t[20:]
	}
	if len(t) != 36 {
		return "", false
	}
	for i, r := range t {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return "", false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return "", false
			}
		}
	}
	return strings.ToLower(t), true
}

var smtpRE = lazyRegexp(`^[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)

// ValidSMTP reports whether a is an SMTP address Exchange accepts.
func ValidSMTP(a string) bool {
	return smtpRE().MatchString(a) && !strings.HasPrefix(a, ".") && !strings.Contains(a, "..") && !strings.Contains(a, ".@")
}

// lazyRegexp compiles a pattern on first use: package initialisation stays free for the
// processes that link the binder but never bind.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
