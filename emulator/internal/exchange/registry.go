package exchange

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/exoctl/exoctl/emulator/internal/catalog"
	"github.com/exoctl/exoctl/emulator/internal/store"
)

// ParamType is how a hand-declared parameter binds (cmdlets the catalog lacks; catalogued
// cmdlets take their parameters from the catalog).
type ParamType int

const (
	TypeString     ParamType = iota // System.String
	TypeInt                         // System.Int32 / Int64
	TypeSwitch                      // SwitchParameter: JSON true/false
	TypeArray                       // String[] (a scalar binds as one element)
	TypeHashtable                   // Hashtable: a JSON object tagged #Exchange.GenericHashTable
	TypeResultSize                  // Unlimited`1[UInt32]: "Unlimited" or a positive number
	TypeIdentity                    // an Exchange identity parameter: a non-null string
	// TypeMultiValued is a MultiValuedProperty (EmailAddresses): an array (or one value)
	// replaces the list, binding as []string; a hashtable @{Add=..; Remove=..} edits it,
	// binding as a MultiValuedEdit.
	TypeMultiValued
)

// catalogType is the catalog type name a ParamType binds as.
func (t ParamType) catalogType() string {
	switch t {
	case TypeInt:
		return "Int32"
	case TypeSwitch:
		return "SwitchParameter"
	case TypeArray:
		return "String[]"
	case TypeHashtable:
		return "Hashtable"
	case TypeResultSize:
		return "Unlimited`1[System.UInt32]"
	case TypeIdentity:
		return "RecipientIdParameter"
	case TypeMultiValued:
		return "ProxyAddressCollection"
	}
	return "String"
}

// netType is the .NET type name conversion errors report.
func (t ParamType) netType() string {
	switch t {
	case TypeMultiValued:
		return "Microsoft.Exchange.Data.ProxyAddressCollection"
	case TypeArray:
		return "System.String[]"
	}
	return "System.String"
}

// Param declares one parameter of a cmdlet the catalog lacks, or narrows the accepted values
// of a catalogued parameter (Values, EnumType).
type Param struct {
	Name      string
	Type      ParamType
	Mandatory bool
	Aliases   []string
	// Values, when set, are the allowed values (an enum); matched case-insensitively and bound
	// in their canonical spelling. For arrays each element must be one of them.
	Values   []string
	EnumType string // .NET enum type for error texts, e.g. Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails
	// Clearable is kept for source compatibility: every parameter binds an explicit null as
	// nil ("clear the property"), as PowerShell binds $null.
	Clearable bool
}

// The Go values parameters bind to. Params maps a canonical parameter name to one of:
// string (strings, identity parameters, enums in canonical spelling, SmtpAddress, ProxyAddress,
// Guid); int64; float64; bool (switches and booleans); []string (arrays, a MultiValuedProperty
// replacement); MultiValuedEdit (@{Add=..;Remove=..}); map[string]any (hashtables) and
// []map[string]any (Hashtable[]); ResultSize (-ResultSize, Unlimited counts); ByteSize
// (ByteQuantifiedSize, Unlimited or not); time.Duration (TimeSpan, EnhancedTimeSpan); Duration
// (Unlimited[EnhancedTimeSpan]); time.Time (DateTime, UTC); any (PSCredential, Byte[], ...: the
// JSON value); nil for an explicit null (PowerShell's $null: clear the property).
type (
	MultiValuedEdit = catalog.MultiValuedEdit
	ResultSize      = catalog.ResultSize
	ByteSize        = catalog.ByteSize
	Duration        = catalog.Duration
)

// Impact is what a cmdlet does to the tenant, deciding who may run it and whether it honours
// -Confirm and -WhatIf.
type Impact int

const (
	// ImpactFromVerb derives the impact from the verb: Get, Test, Search, Export, Validate,
	// Check, Compare, Preview change nothing; Remove, Clear, Delete are high impact; the rest
	// change state (ShouldProcess).
	ImpactFromVerb Impact = iota
	ImpactNone            // read-only: Global Reader may run it
	ImpactMedium          // changes state: ShouldProcess, -WhatIf and -Confirm honoured
	ImpactHigh            // asks for confirmation unless -Confirm:$false
)

var (
	readVerbs = []string{"Get", "Test", "Search", "Export", "Validate", "Check", "Compare", "Preview", "Trace"}
	highVerbs = []string{"Remove", "Clear", "Delete"}
)

func impactOf(name string, i Impact) Impact {
	if i != ImpactFromVerb {
		return i
	}
	verb, _, _ := strings.Cut(name, "-")
	switch {
	case slices.ContainsFunc(readVerbs, func(v string) bool { return strings.EqualFold(v, verb) }):
		return ImpactNone
	case slices.ContainsFunc(highVerbs, func(v string) bool { return strings.EqualFold(v, verb) }):
		return ImpactHigh
	}
	return ImpactMedium
}

// Handler is what the emulator runs for a catalogued cmdlet.
type Handler struct {
	Run func(ctx context.Context, inv *Invocation) (*Result, error)
	// Impact overrides what the verb implies (ImpactFromVerb).
	Impact Impact
	// Values narrow enum parameters for this cmdlet: parameter name -> accepted values (e.g.
	// Get-Mailbox -RecipientTypeDetails takes mailbox types only).
	Values map[string][]string
	// Emulated, when not nil, lists the parameters the handler implements (canonical names);
	// a request giving another catalogued parameter binds, then answers that the parameter is
	// not emulated (501) instead of a result that ignored it. Common parameters, -Confirm and
	// -WhatIf are always accepted, and so is -ResultSize (the server pages by it). Nil means the
	// handler implements every parameter.
	Emulated []string
	// Params declare parameters the live service has but the catalog's pages lack; they bind in
	// every parameter set.
	Params []Param
}

// Cmdlet is one entry of the registry: its name, how it binds and what it does. Run is nil for
// a catalogued cmdlet the emulator does not emulate: it binds, then answers that it is not
// emulated.
type Cmdlet struct {
	Name string // canonical spelling, e.g. Get-Mailbox
	// Params declare the parameters of a cmdlet the catalog lacks, or narrow enum values of a
	// catalogued one; other parameters of catalogued cmdlets come from the catalog.
	Params []Param
	// ReadOnly cmdlets change nothing; Global Reader may run them.
	ReadOnly bool
	// ShouldProcess cmdlets (Set-*, New-*, Remove-*) honour -Confirm and -WhatIf; HighImpact
	// ones (ConfirmImpact High, most Remove-*) ask for confirmation unless -Confirm:$false.
	ShouldProcess bool
	HighImpact    bool
	Run           func(ctx context.Context, inv *Invocation) (*Result, error)

	command  *catalog.Command
	emulated map[string]bool // lower-case parameter names the handler implements; nil: all
}

// Command is the catalogued cmdlet (for the registry's product) the cmdlet binds as.
func (c *Cmdlet) Command() *catalog.Command { return c.command }

// Emulated reports whether the emulator runs the cmdlet (it has a handler).
func (c *Cmdlet) Emulated() bool { return c.Run != nil }

// Registry holds the cmdlets of one product: every catalogued cmdlet binds; those with a
// handler run. Handlers are registered once, then the registry is only read.
type Registry struct {
	product  catalog.Product
	byName   map[string]*Cmdlet
	names    []string // emulated cmdlets' canonical names, sorted
	stubs    sync.Map // lower-case name -> *Cmdlet, catalogued cmdlets without a handler
	commands func() *catalog.Commands
	modules  sync.Map // comma-joined cmdlet names -> generated module file text
}

// NewRegistry returns an Exchange Online registry with no handlers.
func NewRegistry() *Registry { return NewRegistryFor(catalog.ExchangeOnline) }

// NewRegistryFor returns a registry of product p's cmdlets (catalog.ExchangeOnline or
// catalog.SecurityCompliance) with no handlers. The catalog is read on first use.
func NewRegistryFor(p catalog.Product) *Registry {
	return &Registry{product: p, byName: map[string]*Cmdlet{},
		commands: sync.OnceValue(func() *catalog.Commands { return catalog.For(p) })}
}

// Product is the registry's product.
func (r *Registry) Product() catalog.Product { return r.product }

// Handle attaches a handler to a catalogued cmdlet. It panics when the cmdlet is not in the
// product's catalog or already has a handler: both are programming errors.
func (r *Registry) Handle(name string, h Handler) {
	cmd := r.commands().Lookup(name)
	if cmd == nil {
		panic("exchange: " + name + " is not a catalogued " + r.product.String() + " cmdlet; declare its parameters with Registry.Add")
	}
	c := &Cmdlet{Name: cmd.Name, Run: h.Run, Params: slices.Clone(h.Params)}
	c.setImpact(impactOf(cmd.Name, h.Impact))
	if len(h.Params) > 0 {
		extra := make([]*catalog.Param, len(h.Params))
		for i, p := range h.Params {
			extra[i] = p.catalogParam(r.product)
		}
		cmd = cmd.WithParams(extra...)
	}
	if h.Emulated != nil {
		c.emulated = map[string]bool{}
		for _, p := range h.Emulated {
			bp := cmd.Param(p)
			if bp == nil {
				panic("exchange: " + cmd.Name + " has no " + r.product.String() + " parameter " + p)
			}
			c.emulated[strings.ToLower(bp.Name)] = true
		}
	}
	for p, values := range h.Values {
		c.Params = append(c.Params, Param{Name: p, Values: values})
	}
	r.Add(c)
}

func (c *Cmdlet) setImpact(i Impact) {
	c.ReadOnly = i == ImpactNone
	c.ShouldProcess = i == ImpactMedium || i == ImpactHigh
	c.HighImpact = i == ImpactHigh
}

// Add registers a cmdlet with its flags as given. A catalogued cmdlet binds as the catalog
// says (its Params only narrow enum values); another binds the Params declared. It panics on a
// duplicate name, a programming error.
func (r *Registry) Add(c *Cmdlet) {
	key := strings.ToLower(c.Name)
	if _, dup := r.byName[key]; dup {
		panic("exchange: cmdlet registered twice: " + c.Name)
	}
	if cmd := r.commands().Lookup(c.Name); cmd != nil {
		c.Name = cmd.Name
		var extra []*catalog.Param
		for _, p := range c.Params {
			switch {
			case cmd.Param(p.Name) == nil:
				extra = append(extra, p.catalogParam(r.product))
			case len(p.Values) > 0:
				cmd = cmd.WithValues(p.Name, p.Values, p.EnumType)
			}
		}
		if len(extra) > 0 {
			cmd = cmd.WithParams(extra...)
		}
		c.command = cmd
	} else {
		c.command = declared(c, r.product)
	}
	r.byName[key] = c
	r.names = append(r.names, c.Name)
	sort.Strings(r.names)
}

// declared builds the binding of an uncatalogued cmdlet from its hand-declared parameters.
func declared(c *Cmdlet, p catalog.Product) *catalog.Command {
	cm := &catalog.Cmdlet{Name: c.Name, Products: p}
	set := &catalog.Set{Name: "__AllParameterSets"}
	for _, d := range c.Params {
		q := d.catalogParam(p)
		cm.Params = append(cm.Params, q)
		set.Params = append(set.Params, catalog.SetParam{Param: q, Mandatory: d.Mandatory, Position: -1})
	}
	cm.Sets = []*catalog.Set{set}
	return catalog.NewCommand(cm, p)
}

// catalogParam is the catalog's form of a hand-declared parameter.
func (d Param) catalogParam(p catalog.Product) *catalog.Param {
	q := &catalog.Param{Name: d.Name, Type: d.Type.catalogType(), Switch: d.Type == TypeSwitch, Aliases: d.Aliases,
		Values: d.Values, Products: p}
	if d.EnumType != "" && len(d.Values) > 0 {
		q.Type = d.EnumType
	}
	return q
}

// Lookup finds a cmdlet by name, case-insensitively: one with a handler, else a catalogued
// cmdlet of the product (Run nil), else nil (the cmdlet does not exist).
func (r *Registry) Lookup(name string) *Cmdlet {
	key := strings.ToLower(strings.TrimSpace(name))
	if c, ok := r.byName[key]; ok {
		return c
	}
	if c, ok := r.stubs.Load(key); ok {
		return c.(*Cmdlet)
	}
	cmd := r.commands().Lookup(key)
	if cmd == nil {
		return nil
	}
	c := &Cmdlet{Name: cmd.Name, command: cmd}
	c.setImpact(impactOf(cmd.Name, ImpactFromVerb))
	actual, _ := r.stubs.LoadOrStore(key, c)
	return actual.(*Cmdlet)
}

// Names lists the canonical names of the emulated cmdlets (those with a handler), in order.
func (r *Registry) Names() []string { return r.names }

// ModuleFile is the ExchangeOnline.psm1 text of the named cmdlets (canonical names, in order),
// as EXOModuleFile serves it. The text for each distinct list is generated once.
func (r *Registry) ModuleFile(names []string) string {
	key := strings.Join(names, ",")
	if text, ok := r.modules.Load(key); ok {
		return text.(string)
	}
	cmds := make([]*catalog.Command, 0, len(names))
	for _, n := range names {
		if c := r.Lookup(n); c != nil {
			cmds = append(cmds, c.command)
		}
	}
	text, _ := r.modules.LoadOrStore(key, catalog.ModuleFile(cmds))
	return text.(string)
}

// Catalogued lists every cmdlet of the product's catalog, emulated or not, in order.
func (r *Registry) Catalogued() []string { return r.commands().Names() }

// Params are bound parameter values keyed by canonical parameter name (see the bound value
// types above).
type Params map[string]any

// Has reports whether the parameter was given (an explicit null included).
func (p Params) Has(name string) bool { _, ok := p[name]; return ok }

// String returns a string parameter ("" when absent or null).
func (p Params) String(name string) string { s, _ := p[name].(string); return s }

// Strings returns an array parameter.
func (p Params) Strings(name string) []string { s, _ := p[name].([]string); return s }

// Switch returns a switch or Boolean parameter (false when absent).
func (p Params) Switch(name string) bool { b, _ := p[name].(bool); return b }

// Int returns an integer parameter.
func (p Params) Int(name string) (int64, bool) { n, ok := p[name].(int64); return n, ok }

// ByteSize returns a ByteQuantifiedSize parameter, if given (and not null).
func (p Params) ByteSize(name string) (ByteSize, bool) { b, ok := p[name].(ByteSize); return b, ok }

// Time returns a DateTime parameter, if given.
func (p Params) Time(name string) (time.Time, bool) { t, ok := p[name].(time.Time); return t, ok }

// ResultSize returns -ResultSize, if given.
func (p Params) ResultSize() (ResultSize, bool) { r, ok := p["ResultSize"].(ResultSize); return r, ok }

// hash identifies the parameters that shape a listing (common parameters excluded), so a
// nextLink can only continue the listing it was made for.
func (p Params) hash() string {
	m := make(map[string]any, len(p))
	for k, v := range p {
		if !catalog.IsCommon(k) {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// bind converts the request's Parameters object into typed values as the catalog's binder does,
// returning the parameter set it resolved.
func (c *Cmdlet) bind(raw json.RawMessage) (Params, string, *Error) {
	out, set, e := c.command.Bind(raw)
	if e != nil {
		return nil, "", bindError(e)
	}
	if c.emulated != nil && c.Run != nil {
		names := make([]string, 0, len(out))
		for k := range out {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if !c.emulated[strings.ToLower(k)] && !catalog.IsCommon(k) && k != "Confirm" && k != "WhatIf" && k != "ResultSize" {
				return nil, "", errParameterNotEmulated(c.Name, k, c.command.Product)
			}
		}
	}
	return out, set.Name, nil
}

// describe is how PowerShell shows a JSON value in a conversion error.
func describe(x any) string {
	switch v := x.(type) {
	case []any, []string:
		return "System.Object[]"
	case map[string]any, MultiValuedEdit:
		return "System.Collections.Hashtable"
	case string:
		return v
	case nil:
		return ""
	}
	return fmt.Sprint(x)
}

// Invocation is one run of a cmdlet: its bound parameters, the caller, and the page wanted.
type Invocation struct {
	Cmdlet *Cmdlet
	Params Params
	// ParameterSet is the parameter set the binder resolved.
	ParameterSet string
	Tenant       store.Tenant
	Caller       Caller
	Store        store.Store
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
	// stream, when set, is a listing's page read from the store as it is written (stream.go):
	// Each, Count and Next are then unused.
	stream *pageStream
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
