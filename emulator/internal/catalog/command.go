package catalog

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Command is a catalogued cmdlet as one product serves it: only the parameters that apply to
// the product, the sets that exist there, and what binding needs. It is built once per product
// and then only read.
type Command struct {
	Name    string
	Cmdlet  *Cmdlet
	Product Product
	Params  []*BoundParam // the product's parameters, common ones last
	Sets    []*CommandSet
	Default int // index into Sets of the default set, -1 when there is none

	index map[string]*BoundParam // lower-case name or alias
	names []string               // every name and alias, for prefix matching, sorted
}

// BoundParam is one parameter of a Command.
type BoundParam struct {
	*Param
	Kind   Kind
	Net    string // the .NET type name error texts use
	Common bool   // a common parameter (Verbose, ErrorAction, ..., Confirm, WhatIf)
	values []string
	min    int64
	max    int64
	sets   uint64 // the sets (bit i: Sets[i]) that hold it; all sets for common parameters
}

// Values are the accepted values of an enum parameter.
func (p *BoundParam) Values() []string { return p.values }

// CommandSet is one parameter set of a Command.
type CommandSet struct {
	Name   string
	Params []SetParam // only the product's parameters
}

// commonParams are PowerShell's common parameters; every cmdlet accepts them. Confirm and WhatIf
// are accepted everywhere (cmdlets that change nothing ignore them).
var commonParams = []Param{
	{Name: "Verbose", Type: "SwitchParameter", Switch: true, Aliases: []string{"vb"}},
	{Name: "Debug", Type: "SwitchParameter", Switch: true, Aliases: []string{"db"}},
	{Name: "ErrorAction", Type: "ActionPreference", Aliases: []string{"ea"}},
	{Name: "WarningAction", Type: "ActionPreference", Aliases: []string{"wa"}},
	{Name: "InformationAction", Type: "ActionPreference", Aliases: []string{"infa"}},
	{Name: "ProgressAction", Type: "ActionPreference", Aliases: []string{"proga"}},
	{Name: "ErrorVariable", Type: "String", Aliases: []string{"ev"}},
	{Name: "WarningVariable", Type: "String", Aliases: []string{"wv"}},
	{Name: "InformationVariable", Type: "String", Aliases: []string{"iv"}},
	{Name: "OutVariable", Type: "String", Aliases: []string{"ov"}},
	{Name: "OutBuffer", Type: "Int32", Aliases: []string{"ob"}},
	{Name: "PipelineVariable", Type: "String", Aliases: []string{"pv"}},
	{Name: "Confirm", Type: "SwitchParameter", Switch: true, Aliases: []string{"cf"}},
	{Name: "WhatIf", Type: "SwitchParameter", Switch: true, Aliases: []string{"wi"}},
}

// IsCommon reports whether name is one of PowerShell's common parameters other than Confirm
// and WhatIf (which change what a cmdlet does).
func IsCommon(name string) bool {
	for _, p := range commonParams {
		if strings.EqualFold(p.Name, name) {
			return !strings.EqualFold(name, "Confirm") && !strings.EqualFold(name, "WhatIf")
		}
	}
	return false
}

// Commands are the catalogued cmdlets of one product.
type Commands struct {
	Product Product
	byName  map[string]*lazyCommand
	list    []*lazyCommand
}

// lazyCommand builds its Command on first use: a request binds a handful of cmdlets, not all.
type lazyCommand struct {
	once   sync.Once
	cmdlet *Cmdlet
	cmd    *Command
}

func (l *lazyCommand) get(p Product) *Command {
	l.once.Do(func() { l.cmd = NewCommand(l.cmdlet, p) })
	return l.cmd
}

var (
	productsMu sync.Mutex
	byProduct  = map[Product]*Commands{}
)

// For returns the commands of product p (ExchangeOnline or SecurityCompliance), built on first
// use. Module cmdlets (Connect-*, Get-EXO*, ...) are not among them: they do not run through
// InvokeCommand.
func For(p Product) *Commands {
	productsMu.Lock()
	defer productsMu.Unlock()
	if c, ok := byProduct[p]; ok {
		return c
	}
	c := &Commands{Product: p, byName: map[string]*lazyCommand{}}
	for _, cm := range Load().Cmdlets {
		if cm.Products&p == 0 || cm.Module {
			continue
		}
		l := &lazyCommand{cmdlet: cm}
		c.byName[strings.ToLower(cm.Name)] = l
		c.list = append(c.list, l)
	}
	byProduct[p] = c
	return c
}

// Lookup finds a command by name, case-insensitively; nil if the product has no such cmdlet.
func (c *Commands) Lookup(name string) *Command {
	if l := c.byName[strings.ToLower(strings.TrimSpace(name))]; l != nil {
		return l.get(c.Product)
	}
	return nil
}

// Has reports whether the product has a cmdlet of that name, without building its Command.
func (c *Commands) Has(name string) bool {
	_, ok := c.byName[strings.ToLower(strings.TrimSpace(name))]
	return ok
}

// Names are the product's cmdlet names, in order.
func (c *Commands) Names() []string {
	out := make([]string, len(c.list))
	for i, l := range c.list {
		out[i] = l.cmdlet.Name
	}
	return out
}

// List is every command of the product, in name order.
func (c *Commands) List() []*Command {
	out := make([]*Command, len(c.list))
	for i, l := range c.list {
		out[i] = l.get(c.Product)
	}
	return out
}

// NewCommand builds the binding of cmdlet cm as product p serves it. For builds the catalogued
// ones; NewCommand also serves cmdlets declared elsewhere.
func NewCommand(cm *Cmdlet, p Product) *Command {
	c := &Command{Name: cm.Name, Cmdlet: cm, Product: p, Default: -1, index: map[string]*BoundParam{}}
	applies := func(q *Param) bool { return q.Products&p != 0 }
	byParam := map[*Param]*BoundParam{}
	for _, q := range cm.Params {
		if !applies(q) || isCommonName(q.Name) {
			continue
		}
		bp := newBoundParam(q)
		byParam[q] = bp
		c.Params = append(c.Params, bp)
	}
	// A set whose mandatory parameter does not apply to the product does not exist there.
	for _, s := range cm.Sets {
		keep := true
		var params []SetParam
		for _, sp := range s.Params {
			if !applies(sp.Param) {
				keep = keep && !sp.Mandatory
				continue
			}
			if isCommonName(sp.Name) {
				continue
			}
			params = append(params, sp)
		}
		if keep {
			c.Sets = append(c.Sets, &CommandSet{Name: s.Name, Params: namedWhenAllPositional(params)})
		}
	}
	if len(c.Sets) == 0 {
		// No set survives (the pages list only on-premises sets): one set of every parameter.
		all := &CommandSet{Name: "__AllParameterSets"}
		for _, bp := range c.Params {
			all.Params = append(all.Params, SetParam{Param: bp.Param, Position: -1})
		}
		c.Sets = append(c.Sets, all)
	}
	if len(c.Sets) > 64 {
		c.Sets = c.Sets[:64] // no cmdlet has more than 21; a bitmask holds the membership
	}
	allSets := uint64(1)<<len(c.Sets) - 1
	for i, s := range c.Sets {
		for _, sp := range s.Params {
			if bp := byParam[sp.Param]; bp != nil {
				bp.sets |= 1 << i
			}
		}
	}
	for _, bp := range c.Params {
		if bp.sets == 0 {
			bp.sets = allSets // documented in no set: usable in every set
		}
	}
	for i := range commonParams {
		bp := newBoundParam(&commonParams[i])
		bp.Common, bp.sets = true, allSets
		c.Params = append(c.Params, bp)
	}
	c.Default = defaultSet(cm.DefaultSet, c.Sets)
	for _, bp := range c.Params {
		for _, n := range append([]string{bp.Name}, bp.Aliases...) {
			k := strings.ToLower(n)
			if _, dup := c.index[k]; dup {
				continue // the first declaration wins (a page lists an alias of another parameter)
			}
			c.index[k] = bp
			c.names = append(c.names, k)
		}
	}
	sort.Strings(c.names)
	return c
}

// namedWhenAllPositional makes every parameter of a set named when the page prints all of them
// (three or more) as positional: the live module's proxies treat those as named (the source
// catalog's README, checked against the live service's module file).
func namedWhenAllPositional(params []SetParam) []SetParam {
	if len(params) < 3 {
		return params
	}
	for _, sp := range params {
		if sp.Position < 0 {
			return params
		}
	}
	out := slices.Clone(params)
	for i := range out {
		out[i].Position = -1
	}
	return out
}

func isCommonName(name string) bool {
	for _, p := range commonParams {
		if strings.EqualFold(p.Name, name) {
			return true
		}
	}
	return false
}

func newBoundParam(q *Param) *BoundParam {
	ti := classify(q)
	bp := &BoundParam{Param: q, Kind: ti.kind, Net: ti.net, min: ti.min, max: ti.max}
	if ti.kind == KindEnum || ti.kind == KindEnums {
		bp.values = enumValues(q)
	}
	return bp
}

// defaultSet picks the default parameter set: the one the page marks, else the set named
// Identity or Default (the name Exchange's cmdlets give their default set), else the first.
func defaultSet(marked string, sets []*CommandSet) int {
	for _, want := range []string{marked, "Identity", "Default"} {
		for i, s := range sets {
			if want != "" && strings.EqualFold(s.Name, want) {
				return i
			}
		}
	}
	if len(sets) > 0 {
		return 0
	}
	return -1
}

// Param finds a parameter by exact name or alias, case-insensitively.
func (c *Command) Param(name string) *BoundParam { return c.index[strings.ToLower(name)] }

// WithValues returns a copy of c whose parameter name accepts only values (an enum narrowed for
// one cmdlet, e.g. Get-Mailbox -RecipientTypeDetails lists mailbox types only); net, when not
// empty, is the .NET type error texts name.
func (c *Command) WithValues(name string, values []string, net string) *Command {
	old := c.Param(name)
	if old == nil {
		return c
	}
	cp := *c
	np := *old
	np.values = values
	if np.Kind != KindEnums && (np.Kind == KindStrings || np.Kind == KindMultiValued) {
		np.Kind = KindEnums
	} else if np.Kind != KindEnums {
		np.Kind = KindEnum
	}
	if net != "" {
		np.Net = net
	}
	cp.Params = make([]*BoundParam, len(c.Params))
	cp.index = make(map[string]*BoundParam, len(c.index))
	for i, p := range c.Params {
		if p == old {
			p = &np
		}
		cp.Params[i] = p
	}
	for k, p := range c.index {
		if p == old {
			p = &np
		}
		cp.index[k] = p
	}
	return &cp
}

// WithParams returns a copy of c that also accepts params in every set: parameters the live
// service has and the pages do not document (declared by hand, products ignored). Names c
// already has are left as they are.
func (c *Command) WithParams(params ...*Param) *Command {
	cp := *c
	cp.Params = slices.Clone(c.Params)
	cp.index = maps.Clone(c.index)
	cp.names = slices.Clone(c.names)
	all := uint64(1)<<len(c.Sets) - 1
	for _, q := range params {
		if cp.index[strings.ToLower(q.Name)] != nil {
			continue
		}
		bp := newBoundParam(q)
		bp.sets = all
		cp.Params = append(cp.Params, bp)
		for _, n := range append([]string{q.Name}, q.Aliases...) {
			if k := strings.ToLower(n); cp.index[k] == nil {
				cp.index[k] = bp
				cp.names = append(cp.names, k)
			}
		}
	}
	sort.Strings(cp.names)
	return &cp
}
