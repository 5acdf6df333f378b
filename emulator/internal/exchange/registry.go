package exchange

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// ParamType is how a parameter's JSON value binds, like the .NET type of a PowerShell parameter.
type ParamType int

const (
	TypeString     ParamType = iota // System.String
	TypeInt                         // System.Int32 / Int64
	TypeSwitch                      // SwitchParameter or Boolean: JSON true/false
	TypeArray                       // String[] (a scalar binds as one element)
	TypeHashtable                   // Hashtable: a JSON object tagged #Exchange.GenericHashTable
	TypeResultSize                  // Unlimited`1[UInt32]: "Unlimited" or a positive number
	TypeIdentity                    // an Exchange identity parameter: a non-null string
	// TypeMultiValued is a MultiValuedProperty (EmailAddresses): an array (or one value)
	// replaces the list, binding as []string; a hashtable @{Add=..; Remove=..} edits it,
	// binding as a MultiValuedEdit.
	TypeMultiValued
)

// netType is the .NET type name the binder reports in conversion errors.
func (t ParamType) netType() string {
	switch t {
	case TypeInt:
		return "System.Int32"
	case TypeSwitch:
		return "System.Management.Automation.SwitchParameter"
	case TypeArray:
		return "System.String[]"
	case TypeHashtable:
		return "System.Collections.Hashtable"
	case TypeResultSize:
		return "Microsoft.Exchange.Data.Unlimited`1[System.UInt32]"
	case TypeMultiValued:
		return "Microsoft.Exchange.Data.ProxyAddressCollection"
	}
	return "System.String"
}

// Param declares one cmdlet parameter.
type Param struct {
	Name      string
	Type      ParamType
	Mandatory bool
	Aliases   []string
	// Values, when set, are the allowed values (an enum); matched case-insensitively and bound
	// in their canonical spelling. For arrays each element must be one of them.
	Values   []string
	EnumType string // .NET enum type for error texts, e.g. Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails
	// Clearable parameters bind $null as given (a nil value: "clear the property", as in
	// Set-Mailbox -ForwardingSmtpAddress $null) instead of as not given.
	Clearable bool
}

// MultiValuedEdit is a bound @{Add=...; Remove=...} for a TypeMultiValued parameter.
type MultiValuedEdit struct {
	Add, Remove []string
}

// Cmdlet is one entry of the registry: its name, parameters and what it does.
type Cmdlet struct {
	Name   string // canonical spelling, e.g. Get-Mailbox
	Params []Param
	// ReadOnly cmdlets change nothing; Global Reader may run them.
	ReadOnly bool
	// ShouldProcess cmdlets (Set-*, New-*, Remove-*) honour -Confirm and -WhatIf; HighImpact
	// ones (ConfirmImpact High, most Remove-*) ask for confirmation unless -Confirm:$false.
	ShouldProcess bool
	HighImpact    bool
	Run           func(ctx context.Context, inv *Invocation) (*Result, error)

	index map[string]*Param // lower-case name or alias -> parameter, common ones included
	names []string          // every bindable name, for prefix matching
}

// commonParams are PowerShell's common parameters; every cmdlet accepts them. Confirm and
// WhatIf are accepted everywhere (ignored by cmdlets that do not change anything).
var commonParams = []Param{
	{Name: "Verbose", Type: TypeSwitch, Aliases: []string{"vb"}},
	{Name: "Debug", Type: TypeSwitch, Aliases: []string{"db"}},
	{Name: "ErrorAction", Type: TypeString, Aliases: []string{"ea"}},
	{Name: "WarningAction", Type: TypeString, Aliases: []string{"wa"}},
	{Name: "InformationAction", Type: TypeString, Aliases: []string{"infa"}},
	{Name: "ProgressAction", Type: TypeString, Aliases: []string{"proga"}},
	{Name: "ErrorVariable", Type: TypeString, Aliases: []string{"ev"}},
	{Name: "WarningVariable", Type: TypeString, Aliases: []string{"wv"}},
	{Name: "InformationVariable", Type: TypeString, Aliases: []string{"iv"}},
	{Name: "OutVariable", Type: TypeString, Aliases: []string{"ov"}},
	{Name: "OutBuffer", Type: TypeInt, Aliases: []string{"ob"}},
	{Name: "PipelineVariable", Type: TypeString, Aliases: []string{"pv"}},
	{Name: "Confirm", Type: TypeSwitch, Aliases: []string{"cf"}},
	{Name: "WhatIf", Type: TypeSwitch, Aliases: []string{"wi"}},
}

func isCommon(name string) bool {
	for _, p := range commonParams {
		if p.Name == name && name != "Confirm" && name != "WhatIf" {
			return true
		}
	}
	return false
}

// Registry holds the cmdlets the emulator knows. It is built once and then only read.
type Registry struct {
	byName map[string]*Cmdlet
	names  []string // canonical names, sorted
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byName: map[string]*Cmdlet{}} }

// Add registers a cmdlet; it panics on a duplicate name or parameter, a programming error.
func (r *Registry) Add(c *Cmdlet) {
	key := strings.ToLower(c.Name)
	if _, dup := r.byName[key]; dup {
		panic("exchange: cmdlet registered twice: " + c.Name)
	}
	c.index = map[string]*Param{}
	add := func(p *Param) {
		for _, n := range append([]string{p.Name}, p.Aliases...) {
			k := strings.ToLower(n)
			if _, dup := c.index[k]; dup {
				panic("exchange: parameter declared twice: " + c.Name + " -" + n)
			}
			c.index[k] = p
			c.names = append(c.names, n)
		}
	}
	for i := range c.Params {
		add(&c.Params[i])
	}
	for i := range commonParams {
		add(&commonParams[i])
	}
	sort.Strings(c.names)
	r.byName[key] = c
	r.names = append(r.names, c.Name)
	sort.Strings(r.names)
}

// Lookup finds a cmdlet by name, case-insensitively.
func (r *Registry) Lookup(name string) *Cmdlet {
	return r.byName[strings.ToLower(strings.TrimSpace(name))]
}

// Names lists the canonical cmdlet names in order.
func (r *Registry) Names() []string { return r.names }

// param resolves a parameter name the way PowerShell does: exact (any case), alias, or an
// unambiguous prefix.
func (c *Cmdlet) param(name string) (*Param, *Error) {
	k := strings.ToLower(name)
	if p, ok := c.index[k]; ok {
		return p, nil
	}
	var matches []*Param
	var shown []string
	for _, n := range c.names {
		if strings.HasPrefix(strings.ToLower(n), k) {
			p := c.index[strings.ToLower(n)]
			dup := false
			for _, m := range matches {
				dup = dup || m == p
			}
			if !dup {
				matches = append(matches, p)
				shown = append(shown, p.Name)
			}
		}
	}
	switch {
	case k == "" || len(matches) == 0:
		return nil, errNoParameter(name)
	case len(matches) > 1:
		return nil, errAmbiguousParameter(name, shown)
	}
	return matches[0], nil
}

// ResultSize is a bound -ResultSize: Unlimited or a count.
type ResultSize struct {
	Unlimited bool
	N         int64
}

// MarshalJSON keeps the parameter hash stable.
func (r ResultSize) MarshalJSON() ([]byte, error) {
	if r.Unlimited {
		return []byte(`"Unlimited"`), nil
	}
	return strconv.AppendInt(nil, r.N, 10), nil
}

// Params are bound parameter values keyed by canonical parameter name: string, int64, bool,
// []string, map[string]any (hashtables) or ResultSize.
type Params map[string]any

// Has reports whether the parameter was given.
func (p Params) Has(name string) bool { _, ok := p[name]; return ok }

// String returns a string parameter ("" when absent).
func (p Params) String(name string) string { s, _ := p[name].(string); return s }

// Strings returns an array parameter.
func (p Params) Strings(name string) []string { s, _ := p[name].([]string); return s }

// Switch returns a switch parameter (false when absent).
func (p Params) Switch(name string) bool { b, _ := p[name].(bool); return b }

// Int returns an integer parameter.
func (p Params) Int(name string) (int64, bool) { n, ok := p[name].(int64); return n, ok }

// ResultSize returns -ResultSize, if given.
func (p Params) ResultSize() (ResultSize, bool) { r, ok := p["ResultSize"].(ResultSize); return r, ok }

// hash identifies the parameters that shape a listing (common parameters excluded), so a
// nextLink can only continue the listing it was made for.
func (p Params) hash() string {
	m := make(map[string]any, len(p))
	for k, v := range p {
		if !isCommon(k) {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// bind converts the request's Parameters object into typed values, reporting binding errors
// with the texts PowerShell's binder uses.
func (c *Cmdlet) bind(raw json.RawMessage) (Params, *Error) {
	out := Params{}
	var in map[string]json.RawMessage
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, errBadRequest("The request body isn't valid: Parameters must be a JSON object.")
		}
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasSuffix(k, "@odata.type") || strings.HasPrefix(k, "@") {
			continue // annotations such as "Param@odata.type":"#Collection(Exchange.GenericHashTable)"
		}
		p, e := c.param(k)
		if e != nil {
			return nil, e
		}
		if _, dup := out[p.Name]; dup {
			return nil, errParameterTwice(p.Name)
		}
		v, present, e := p.convert(in[k])
		if e != nil {
			return nil, e
		}
		if present {
			out[p.Name] = v
		}
	}
	for _, p := range c.Params {
		if p.Mandatory && !out.Has(p.Name) {
			return nil, errMissingMandatory(c.Name, p.Name)
		}
	}
	return out, nil
}

// convert binds one JSON value to the parameter's type. present is false for a null that
// means "not given".
func (p *Param) convert(raw json.RawMessage) (v any, present bool, e *Error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, false, errBadRequest("The request body isn't valid JSON.")
	}
	if x == nil {
		switch {
		case p.Type == TypeIdentity, p.Type == TypeResultSize:
			return nil, false, errNullArgument(p.Name)
		case p.Clearable:
			return nil, true, nil
		}
		return nil, false, nil
	}
	switch p.Type {
	case TypeString, TypeIdentity:
		s, ok := scalarText(x)
		if !ok {
			return nil, false, errConvert(p.Name, describe(x), "System.String", "Specified method is not supported.")
		}
		if p.Type == TypeIdentity && strings.TrimSpace(s) == "" {
			return nil, false, &Error{Status: 400, Code: "BadRequest", ErrorID: "ParameterArgumentValidationErrorEmptyStringNotAllowed", Class: classBinding,
				Text: fmt.Sprintf("Cannot validate argument on parameter '%s'. The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.", p.Name)}
		}
		if len(p.Values) > 0 {
			c, e := p.enum(s)
			return c, true, e
		}
		return s, true, nil
	case TypeInt:
		switch n := x.(type) {
		case json.Number:
			if i, err := n.Int64(); err == nil {
				return i, true, nil
			}
		case string:
			if i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64); err == nil {
				return i, true, nil
			}
		}
		return nil, false, errConvert(p.Name, describe(x), p.Type.netType(), "Input string was not in a correct format.")
	case TypeSwitch:
		switch b := x.(type) {
		case bool:
			return b, true, nil
		case string:
			if pb, err := strconv.ParseBool(strings.TrimSpace(b)); err == nil {
				return pb, true, nil
			}
		case json.Number:
			if i, err := b.Int64(); err == nil {
				return i != 0, true, nil
			}
		}
		return nil, false, errConvert(p.Name, describe(x), "System.Boolean", "")
	case TypeArray:
		var items []any
		if a, ok := x.([]any); ok {
			items = a
		} else {
			items = []any{x}
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			s, ok := scalarText(it)
			if !ok {
				return nil, false, errConvert(p.Name, describe(x), "System.String[]", "Specified method is not supported.")
			}
			if len(p.Values) > 0 {
				c, e := p.enum(s)
				if e != nil {
					return nil, false, e
				}
				s = c.(string)
			}
			out = append(out, s)
		}
		return out, true, nil
	case TypeMultiValued:
		m, ok := x.(map[string]any)
		if !ok {
			return (&Param{Name: p.Name, Type: TypeArray}).convert(raw)
		}
		if !isHashtable(m) {
			return nil, false, errConvert(p.Name, describe(x), p.Type.netType(), "")
		}
		var edit MultiValuedEdit
		for k, v := range untag(m) {
			var list *[]string
			switch strings.ToLower(k) {
			case "add", "+":
				list = &edit.Add
			case "remove", "-":
				list = &edit.Remove
			default:
				return nil, false, errConvert(p.Name, describe(x), p.Type.netType(),
					fmt.Sprintf("The hashtable key '%s' isn't valid. Use Add or Remove.", k))
			}
			items, ok := v.([]any)
			if !ok {
				items = []any{v}
			}
			for _, it := range items {
				s, ok := scalarText(it)
				if !ok {
					return nil, false, errConvert(p.Name, describe(x), p.Type.netType(), "Specified method is not supported.")
				}
				*list = append(*list, s)
			}
		}
		return edit, true, nil
	case TypeHashtable:
		m, ok := x.(map[string]any)
		if !ok || !isHashtable(m) {
			return nil, false, errConvert(p.Name, describe(x), "System.Collections.Hashtable", "")
		}
		return untag(m), true, nil
	case TypeResultSize:
		switch n := x.(type) {
		case string:
			if strings.EqualFold(strings.TrimSpace(n), "Unlimited") {
				return ResultSize{Unlimited: true}, true, nil
			}
			if i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64); err == nil && i > 0 && i <= math.MaxUint32 {
				return ResultSize{N: i}, true, nil
			}
		case json.Number:
			if i, err := n.Int64(); err == nil && i > 0 && i <= math.MaxUint32 {
				return ResultSize{N: i}, true, nil
			}
		}
		return nil, false, errConvert(p.Name, describe(x), p.Type.netType(), "")
	}
	return nil, false, errInternal("unknown parameter type")
}

func (p *Param) enum(s string) (any, *Error) {
	for _, v := range p.Values {
		if strings.EqualFold(strings.TrimSpace(s), v) {
			return v, nil
		}
	}
	typ := p.EnumType
	if typ == "" {
		typ = p.Type.netType()
	}
	return nil, errConvert(p.Name, s, typ, fmt.Sprintf("Unable to match the identifier name %s to a valid enumerator name. Specify one of the following enumerator names and try again:\r\n%s",
		s, strings.Join(p.Values, ", ")))
}

// scalarText renders a JSON scalar as PowerShell would convert it to a string.
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
func isHashtable(m map[string]any) bool {
	for k, v := range m {
		if strings.EqualFold(k, "@odata.type") {
			s, _ := v.(string)
			return strings.EqualFold(s, "#Exchange.GenericHashTable")
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

// Invocation is one run of a cmdlet: its bound parameters, the caller, and the page wanted.
type Invocation struct {
	Cmdlet *Cmdlet
	Params Params
	Tenant store.Tenant
	Caller Caller
	Store  store.Store
	// After is the position (an opaque store cursor) where this page starts; empty on the
	// first page. Limit is the most objects this page may hold.
	After string
	Limit int

	srv          *Server
	confirmation string
}

// DomainController is the FQDN error texts name, e.g. in "couldn't be found on '...'".
func (inv *Invocation) DomainController() string { return inv.srv.dc }

// NotFound is the error for an -Identity that matches nothing.
func (inv *Invocation) NotFound(identity string) error { return errNotFound(identity, inv.srv.dc) }

// ShouldProcess reports whether a state-changing cmdlet may go ahead. With -WhatIf, or
// -Confirm (explicit, or implied by a high-impact cmdlet), it records message as the
// confirmation answer and returns false: the cmdlet must then change nothing.
func (inv *Invocation) ShouldProcess(message string) bool {
	confirm, given := inv.Params["Confirm"].(bool)
	if inv.Params.Switch("WhatIf") || (given && confirm) || (!given && inv.Cmdlet.HighImpact) {
		inv.confirmation = message
		return false
	}
	return true
}

// Result is one page of a cmdlet's output.
type Result struct {
	// Count is the number of objects Each yields.
	Count int
	// Each yields the page's objects in order; an Object is valid only during its yield (the
	// producer may reuse its memory).
	Each func(yield func(Object) bool)
	// Next is where the following page starts (an opaque store cursor); empty when no more
	// objects follow.
	Next     string
	Warnings []string
	Errors   []string // non-terminating errors, reported in @adminapi.errors
}

// objects is a Result over a ready list, paged by offset.
func objects(list []Object, after string, limit int) *Result {
	start := 0
	if after != "" {
		start, _ = strconv.Atoi(after)
		start = min(max(start, 0), len(list))
	}
	end := len(list)
	if limit > 0 && start+limit < end {
		end = start + limit
	}
	page := list[start:end]
	res := &Result{Count: len(page), Each: func(yield func(Object) bool) {
		for _, o := range page {
			if !yield(o) {
				return
			}
		}
	}}
	if end < len(list) {
		res.Next = strconv.Itoa(end)
	}
	return res
}
