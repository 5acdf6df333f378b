package exchange

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/exoctl/exoctl/emulator/internal/catalog"
	"github.com/exoctl/exoctl/emulator/internal/opath"
	"github.com/exoctl/exoctl/emulator/internal/store"
)

// The generic cmdlets: Get-, Set-, New- and Remove- of any schema, with hooks (hooks.go) for
// what a type does beyond storing its properties. Every write is one store transaction
// (Create, or Update's read-modify-write), so concurrent cmdlets never lose each other's
// changes and a unique key (a name, a proxy address) is held by one object only.

// hooks is what a cmdlet does beyond the generic behaviour of its verb.
type hooks struct {
	// query adjusts a Get's listing from its parameters (-RecipientTypeDetails, switches).
	query func(ctx context.Context, c *task, q *store.ListQuery) error
	// apply handles the parameters that are not simply a property (New-/Set-); it runs
	// before the generic assignment and removes what it handled from c.params.
	apply func(ctx context.Context, c *task, o *store.Object) error
	// check validates the object after every change, inside the transaction.
	check func(ctx context.Context, c *task, o *store.Object) error
	// done runs after a successful write (New-: the object's references).
	done func(ctx context.Context, c *task, o *store.Object) error
	// confirm is the ShouldProcess message; default "<Verb>ing <type> "<name>"."
	confirm func(c *task, o *store.Object) string
	// params are the parameters the hooks implement (beyond -Identity, -Filter and the ones
	// named like a stored property).
	params []string
}

// task is one run of a generic cmdlet: the invocation, its schema and the parameters left to
// assign.
type task struct {
	*Invocation
	s      *Schema
	params Params // what is left to assign to properties
	org    *org
	// tx is the transaction a write runs in (inside Update), else the store.
	tx store.Objects
}

func (inv *Invocation) task(s *Schema) *task {
	params := make(Params, len(inv.Params))
	for k, v := range inv.Params {
		if !catalog.IsCommon(k) && k != "Confirm" && k != "WhatIf" && k != "Force" && k != "Identity" {
			params[k] = v
		}
	}
	return &task{Invocation: inv, s: s, params: params, org: inv.srv.org(inv.Tenant), tx: inv.Store}
}

// begin is task for a generic handler of s, once the tenant has its default objects of s's
// class (created the first time a tenant's class is used).
func (inv *Invocation) begin(ctx context.Context, s *Schema) (*task, error) {
	if err := inv.srv.ensureDefaults(ctx, inv.Tenant, s.Class); err != nil {
		return nil, err
	}
	return inv.task(s), nil
}

// take removes a parameter from those left to assign and returns it.
func (c *task) take(name string) (any, bool) {
	v, ok := c.params[name]
	delete(c.params, name)
	return v, ok
}

// genericGet lists or resolves objects of s.
func genericGet(s *Schema, h hooks) func(context.Context, *Invocation) (*Result, error) {
	return func(ctx context.Context, inv *Invocation) (*Result, error) {
		c, err := inv.begin(ctx, s)
		if err != nil {
			return nil, err
		}
		q := store.ListQuery{TenantID: inv.Tenant.ID, Types: s.StoreTypes, After: inv.After, Limit: inv.Limit, OrderBy: s.Order}
		q.In = s.whereIn()
		if h.query != nil {
			if err := h.query(ctx, c, &q); err != nil {
				return nil, err
			}
		}
		if f, ok := c.take("Filter"); ok {
			filter, e := c.filter(f.(string))
			if e != nil {
				return nil, e
			}
			q.Filter = filter
		}
		if id := strings.TrimSpace(inv.Params.String("Identity")); id != "" {
			o, err := c.resolve(ctx, id, q.In)
			if err != nil {
				return nil, err
			}
			if q.Filter != nil {
				if ok, err := q.Filter.Match(&o); err != nil || !ok {
					return &Result{}, err
				}
			}
			if inv.After != "" || inv.Limit == 0 {
				return &Result{}, nil
			}
			return &Result{Count: 1, Each: func(yield func(Object) bool) { yield(s.Object(nil, &o, c.org)) }}, nil
		}
		if inv.srv.builtPages {
			page, next, err := inv.Store.List(ctx, q)
			if err != nil {
				return nil, err
			}
			return c.page(page, next), nil
		}
		return &Result{stream: &pageStream{s: s, org: c.org, list: func(ctx context.Context, start func(string) error, fn func(*store.Object) error) error {
			return inv.Store.ListEach(ctx, q, start, fn)
		}}}, nil
	}
}

// page renders a page of objects, reusing one buffer.
func (c *task) page(page []store.Object, next string) *Result {
	return &Result{Count: len(page), Next: next, Each: func(yield func(Object) bool) {
		var buf Object
		for i := range page {
			buf = c.s.Object(buf[:0], &page[i], c.org)
			if !yield(buf) {
				return
			}
		}
	}}
}

// filter parses -Filter against the schema's properties and makes the store filter: pushed
// down to SQL where every property it names is stored, evaluated on each object otherwise.
func (c *task) filter(text string) (*store.Filter, *Error) {
	expr, err := opath.Parse(text, c.s.filterable())
	if err != nil {
		var oe *opath.Error
		if errors.As(err, &oe) {
			return nil, &Error{Status: 400, Code: "BadRequest", ErrorID: "ParameterBindingFailed", Class: classBinding, Text: oe.Bind("Filter")}
		}
		return nil, errBadRequest(err.Error())
	}
	s, g := c.s, c.org
	return &store.Filter{
		Match: func(o *store.Object) (bool, error) {
			return expr.Eval(func(name string) (any, bool) { return s.filterValue(o, g, name) })
		},
		SQL: func(column func(string) (string, bool)) (string, []any, bool) {
			return opath.ToSQL(expr, func(name string) (string, opath.Kind, bool) { return s.sqlColumn(name, column) })
		},
	}, nil
}

// filterable is the schema as -Filter sees it: every property, with its kind.
func (s *Schema) filterable() opath.Schema {
	s.opathOnce.Do(func() {
		props := make([]opath.Property, 0, len(s.Props))
		for i := range s.Props {
			p := &s.Props[i]
			props = append(props, opath.Property{Name: p.Name, Kind: p.kind(s), Values: p.Values})
		}
		s.opath = opath.Properties(props...)
	})
	return s.opath
}

// kind is how a filter compares the property.
func (p *prop) kind(s *Schema) opath.Kind {
	t := p.Type
	if p.copyOf != "" {
		if q, ok := s.Prop(p.copyOf); ok {
			t = q.Type
		} else {
			t = tString
		}
	}
	switch t {
	case tInt, tSize:
		return opath.Int
	case tBool:
		return opath.Bool
	case tDate:
		return opath.Date
	case tStrings:
		return opath.String | opath.Multi
	}
	return opath.String
}

// filterValue is a property's value for the in-memory evaluator.
func (s *Schema) filterValue(o *store.Object, g *org, name string) (any, bool) {
	v, ok := s.value(o, g, name)
	if !ok {
		return nil, false
	}
	if p, _ := s.Prop(name); p != nil && p.Type == tDate {
		if t, ok := asTime(v); ok {
			return t, true
		}
	}
	if out, ok := v.(Property); ok {
		return out.Value(), true
	}
	return v, true
}

// sqlColumn addresses a stored property in SQL, with its default where the object does not
// store it; computed properties are not addressable (the filter runs in memory).
func (s *Schema) sqlColumn(name string, column func(string) (string, bool)) (string, opath.Kind, bool) {
	p, ok := s.Prop(name)
	if !ok {
		return "", 0, false
	}
	switch {
	case p.compute != nil && name == "Name", strings.EqualFold(name, "Name"):
		col, ok := column(store.FieldName)
		return col, opath.String, ok
	case p.copyOf != "":
		if q, ok := s.Prop(p.copyOf); ok {
			return s.sqlColumn(q.Name, column)
		}
		col, ok := column(p.copyOf)
		return col, opath.String, ok
	case p.compute != nil || p.Type == tAny:
		return "", 0, false
	}
	col, ok := column(p.Name)
	if !ok {
		return "", 0, false
	}
	if lit, ok := sqlLiteral(p); ok {
		col = "coalesce(" + col + ", " + lit + ")"
	} else {
		return "", 0, false
	}
	return col, p.kind(s), true
}

// sqlLiteral is a property's default as an SQL literal ("NULL" when it has none).
func sqlLiteral(p *prop) (string, bool) {
	switch v := p.def.(type) {
	case nil:
		return "NULL", true
	case string:
		if p.Type == tDate {
			return "", false
		}
		return "'" + strings.ReplaceAll(v, "'", "''") + "'", true
	case bool:
		if v {
			return "1", true
		}
		return "0", true
	case int64:
		return fmt.Sprint(v), true
	case []string:
		if len(v) == 0 {
			return "'[]'", true
		}
	}
	return "", false
}

// resolve finds the one object of the schema's class that an -Identity names.
func (c *task) resolve(ctx context.Context, id string, where []store.PropIn) (store.Object, error) {
	found, err := resolveIn(ctx, c.tx, c.Tenant.ID, c.s, id, c.org)
	if err != nil {
		return store.Object{}, err
	}
	found = slices.DeleteFunc(found, func(o store.Object) bool { return !matchesIn(&o, where) })
	switch len(found) {
	case 0:
		return store.Object{}, c.NotFound(id)
	case 1:
		return found[0], nil
	}
	return store.Object{}, errAmbiguous(id)
}

// resolveIn finds the objects of a schema's class an identity names: by GUID, by the class's
// identity keys, or by DistinguishedName.
func resolveIn(ctx context.Context, objs store.Objects, tenantID string, s *Schema, id string, g *org) ([]store.Object, error) {
	cl := classOf(s.Class)
	value := strings.TrimSpace(id)
	if v, ok := cutPrefixFold(value, "smtp:"); ok {
		value = v
	}
	var dn string
	if strings.HasPrefix(strings.ToUpper(value), "CN=") {
		dn, value = value, dnCommonName(value)
	}
	found, err := objs.Resolve(ctx, tenantID, s.StoreTypes, cl.identity, value)
	if err != nil {
		return nil, err
	}
	if dn != "" {
		found = slices.DeleteFunc(found, func(o store.Object) bool {
			r := render{s: s, o: &o, org: g}
			return !strings.EqualFold(r.dn(), dn)
		})
	}
	// One object may hold the value in several spaces.
	found = slices.CompactFunc(found, func(a, b store.Object) bool { return a.ID == b.ID })
	return found, nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// dnCommonName is the first RDN's value of a DistinguishedName, unescaped.
func dnCommonName(dn string) string {
	var b strings.Builder
	for i := 3; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			if i+1 < len(dn) {
				i++
				b.WriteByte(dn[i])
			}
			continue
		case ',':
			return b.String()
		}
		b.WriteByte(dn[i])
	}
	return b.String()
}

// matchesIn reports whether an object satisfies ListQuery.In conditions.
func matchesIn(o *store.Object, in []store.PropIn) bool {
	for _, c := range in {
		v, _ := o.Props[c.Prop].(string)
		if !slices.ContainsFunc(c.Values, func(w string) bool { return strings.EqualFold(v, w) }) {
			return false
		}
	}
	return true
}

// whereIn is the schema's Where as the store's conditions, in property order: what keeps a
// cmdlet to its own objects among those of its store types.
func (s *Schema) whereIn() []store.PropIn {
	var in []store.PropIn
	for _, prop := range slices.Sorted(maps.Keys(s.Where)) {
		in = append(in, store.PropIn{Prop: prop, Values: s.Where[prop]})
	}
	return in
}

// errUnchanged ends an Update that changed nothing: nothing is written.
var errUnchanged = errors.New("no settings modified")

// genericSet changes an object of s.
func genericSet(s *Schema, h hooks) func(context.Context, *Invocation) (*Result, error) {
	return func(ctx context.Context, inv *Invocation) (*Result, error) {
		c, err := inv.begin(ctx, s)
		if err != nil {
			return nil, err
		}
		where := s.whereIn()
		id := strings.TrimSpace(inv.Params.String("Identity"))
		var o store.Object
		if id == "" && s.Singleton {
			o, err = c.singleton(ctx)
		} else {
			o, err = c.resolve(ctx, id, where)
		}
		if err != nil {
			return nil, err
		}
		// Validate on a copy first: -WhatIf and -Confirm answer only for a valid change.
		trial := cloneObject(o)
		if err := c.change(ctx, &trial, h, inv.Params); err != nil && !errors.Is(err, errUnchanged) {
			return nil, err
		}
		if !inv.ShouldProcess(c.confirmation(h, &o, "Setting")) {
			return nil, nil
		}
		err = inv.Store.Tx(ctx, func(tx store.Objects) error {
			c.tx = tx
			_, err := tx.Update(ctx, inv.Tenant.ID, o.ID, func(cur *store.Object) error {
				return c.change(ctx, cur, h, inv.Params)
			})
			return err
		})
		c.tx = inv.Store
		switch {
		case errors.Is(err, errUnchanged):
			return &Result{Warnings: []string{fmt.Sprintf("The command completed successfully but no settings of '%s' have been modified.", o.Name)}}, nil
		case errors.Is(err, store.ErrNotFound):
			return nil, inv.NotFound(id)
		case err != nil:
			return nil, c.conflict(&trial, err)
		}
		return nil, nil
	}
}

// change applies the parameters to o (a fresh copy of the stored object, inside the
// transaction), and reports errUnchanged when nothing differs.
func (c *task) change(ctx context.Context, o *store.Object, h hooks, params Params) error {
	c.params = c.Invocation.task(c.s).params
	before := cloneObject(*o)
	if err := c.assign(ctx, o, h); err != nil {
		return err
	}
	if sameObject(&before, o) {
		return errUnchanged
	}
	return nil
}

// assign runs the hooks and assigns the remaining parameters to properties, then derives the
// keys and checks the result.
func (c *task) assign(ctx context.Context, o *store.Object, h hooks) error {
	if o.Props == nil {
		o.Props = map[string]any{}
	}
	if h.apply != nil {
		if err := h.apply(ctx, c, o); err != nil {
			return err
		}
	}
	if v, ok := c.take("Name"); ok {
		name, _ := v.(string)
		if strings.TrimSpace(name) == "" {
			return errValidation("The value of property 'Name' can't be empty.")
		}
		o.Name = strings.TrimSpace(name)
	}
	names := make([]string, 0, len(c.params))
	for k := range c.params {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := c.setProp(o, name, c.params[name]); err != nil {
			return err
		}
	}
	if h.check != nil {
		if err := h.check(ctx, c, o); err != nil {
			return err
		}
	}
	o.Keys = classOf(c.s.Class).keys(o)
	return nil
}

// setProp assigns one parameter to the property of its name.
func (c *task) setProp(o *store.Object, name string, v any) error {
	p, ok := c.s.Prop(name)
	if !ok || !p.Stored() {
		// A parameter the schema does not show is still kept (another view may show it).
		p = &prop{Name: name, Type: tAny}
		switch v.(type) {
		case []string, MultiValuedEdit:
			p.Type = tStrings
		}
	}
	if v == nil {
		delete(o.Props, p.Name)
		return nil
	}
	if edit, ok := v.(MultiValuedEdit); ok {
		cur := asStrings(o.Props[p.Name])
		if _, stored := o.Props[p.Name]; !stored {
			cur = asStrings(p.def)
		}
		list := slices.Clone(cur)
		for _, r := range edit.Remove {
			list = slices.DeleteFunc(list, func(s string) bool { return strings.EqualFold(s, r) })
		}
		for _, a := range edit.Add {
			if !slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, a) }) {
				list = append(list, a)
			}
		}
		v = list
	}
	sv, err := p.storedValue(v)
	if err != nil && p.Type == tSize {
		s, _ := v.(string)
		return errConvert(name, s, quotaType, fmt.Sprintf("The value \"%s\" isn't a valid byte quantity. Use a number of bytes or a number and a unit (B, KB, MB, GB, TB), e.g. 49 GB, or Unlimited.", s))
	}
	if err != nil {
		if len(p.Values) > 0 {
			s, _ := scalarText(v)
			return errConvert(name, s, "System.String", fmt.Sprintf("Unable to match the identifier name %s to a valid enumerator name. Specify one of the following enumerator names and try again:\r\n%s", s, strings.Join(p.Values, ", ")))
		}
		return errValidation(fmt.Sprintf("The value of parameter '%s' isn't valid: %v.", name, err))
	}
	if sameValue(sv, p.def) && p.def != nil {
		delete(o.Props, p.Name) // back to the default: nothing to keep
		return nil
	}
	o.Props[p.Name] = sv
	return nil
}

// genericNew creates an object of s from the parameters and defaults.
func genericNew(s *Schema, h hooks) func(context.Context, *Invocation) (*Result, error) {
	return func(ctx context.Context, inv *Invocation) (*Result, error) {
		c, err := inv.begin(ctx, s)
		if err != nil {
			return nil, err
		}
		o := store.Object{TenantID: inv.Tenant.ID, Type: s.StoreTypes[0], Props: map[string]any{}}
		for prop, values := range s.Where {
			if len(values) == 1 {
				o.Props[prop] = values[0]
			}
		}
		if err := c.assign(ctx, &o, h); err != nil {
			return nil, err
		}
		if o.Name == "" {
			return nil, errMissingMandatory(inv.Cmdlet.Name, "Name")
		}
		if !inv.ShouldProcess(c.confirmation(h, &o, "Creating")) {
			return nil, nil
		}
		var created store.Object
		if h.done == nil {
			created, err = inv.Store.Create(ctx, o)
		} else {
			err = inv.Store.Tx(ctx, func(tx store.Objects) error {
				c.tx = tx
				var err error
				if created, err = tx.Create(ctx, o); err != nil {
					return err
				}
				return h.done(ctx, c, &created)
			})
		}
		c.tx = inv.Store
		if err != nil {
			return nil, c.conflict(&o, err)
		}
		return &Result{Count: 1, Each: func(yield func(Object) bool) { yield(s.Object(nil, &created, c.org)) }}, nil
	}
}

// conflict turns the store's key conflict over o's keys into the service's already-exists
// error.
func (c *task) conflict(o *store.Object, err error) error {
	var kc *store.KeyConflictError
	if !errors.As(err, &kc) {
		return err
	}
	if kc.Key.Space == store.SpaceProxy {
		text := "smtp:" + kc.Key.Value
		for _, a := range asStrings(o.Props["EmailAddresses"]) {
			if strings.EqualFold(store.ProxyKey(a).Value, kc.Key.Value) {
				text = a
			}
		}
		return errProxyInUse(text, c.org.ou+"/"+kc.Name)
	}
	return errNameInUse(kc.Key.Value)
}

// genericRemove removes an object of s; the store removes what refers to it.
func genericRemove(s *Schema, h hooks) func(context.Context, *Invocation) (*Result, error) {
	return func(ctx context.Context, inv *Invocation) (*Result, error) {
		c, err := inv.begin(ctx, s)
		if err != nil {
			return nil, err
		}
		where := s.whereIn()
		id := strings.TrimSpace(inv.Params.String("Identity"))
		o, err := c.resolve(ctx, id, where)
		if err != nil {
			return nil, err
		}
		if h.check != nil {
			if err := h.check(ctx, c, &o); err != nil {
				return nil, err
			}
		}
		if !inv.ShouldProcess(c.confirmation(h, &o, "Removing")) {
			return nil, nil
		}
		if err := inv.Store.Delete(ctx, inv.Tenant.ID, o.ID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, inv.NotFound(id)
			}
			return nil, err
		}
		return nil, nil
	}
}

// confirmation is the ShouldProcess message of a change to o.
func (c *task) confirmation(h hooks, o *store.Object, verb string) string {
	if h.confirm != nil {
		return h.confirm(c, o)
	}
	return fmt.Sprintf("%s %s \"%s\".", verb, words(c.s.Name), o.Name)
}

var camelWords = lazyRegexp(`[A-Z]+[a-z0-9]*|[a-z0-9]+`)

// words spells a type name as the service's messages do: "TransportRule" -> "transport rule".
func words(name string) string {
	parts := camelWords().FindAllString(name, -1)
	for i, p := range parts {
		if len(p) > 1 && unicode.IsUpper(rune(p[1])) {
			continue // an acronym keeps its case
		}
		parts[i] = strings.ToLower(p)
	}
	return strings.Join(parts, " ")
}

// singleton returns the tenant's one object of a singleton schema (OrganizationConfig,
// TransportConfig, ...), creating it from the defaults on first use.
func (c *task) singleton(ctx context.Context) (store.Object, error) {
	return c.srv.singleton(ctx, c.Tenant, c.s)
}

func cloneObject(o store.Object) store.Object {
	props := make(map[string]any, len(o.Props))
	for k, v := range o.Props {
		switch x := v.(type) {
		case []string:
			v = slices.Clone(x)
		case []any:
			v = slices.Clone(x)
		}
		props[k] = v
	}
	o.Props = props
	o.Keys = slices.Clone(o.Keys)
	o.Refs = slices.Clone(o.Refs)
	return o
}

// sameObject reports whether a change left the object as it was.
func sameObject(a, b *store.Object) bool {
	if a.Name != b.Name || len(a.Props) != len(b.Props) || len(a.Refs) != len(b.Refs) {
		return false
	}
	for k, v := range a.Props {
		w, ok := b.Props[k]
		if !ok || !sameValue(v, w) {
			return false
		}
	}
	return slices.Equal(a.Refs, b.Refs)
}

// genericState is Enable-X and Disable-X: a rule's State.
func genericState(s *Schema, h hooks, enable bool) func(context.Context, *Invocation) (*Result, error) {
	state := "Disabled"
	if enable {
		state = "Enabled"
	}
	set := genericSet(s, h)
	return func(ctx context.Context, inv *Invocation) (*Result, error) {
		params := maps.Clone(inv.Params)
		params["State"] = state
		inv.Params = params
		return set(ctx, inv)
	}
}
