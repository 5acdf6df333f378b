package exchange

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/exoctl/exoctl/emulator/internal/opath"
)

// An object type is declared once, as data: schemas/*.json hold, per type, its properties in
// the order the service prints them (Get-X | Format-List), their types and defaults, the
// storage class and identity keys, and the cmdlets that work on it. The generic handlers
// (generic.go) read a schema to list, resolve, create, change and remove objects; Go is left
// for the few properties that are computed (compute.go) and for behaviour (hooks).
//
// A schema file:
//
//	{"name": "HostedContentFilterPolicy",            the object type
//	 "class": "Policy:HostedContentFilterPolicy",    the store's storage class (default: name)
//	 "where": {"RecipientTypeDetails": [...]},       a view: only stored objects with these values
//	 "identity": "Name",                             the property Identity and Id show
//	 "container": "CN=Hosted Content Filter,CN=Transport Settings", DistinguishedName parent
//	 "objectClass": [...], "objectCategory": "...",
//	 "properties": {"Name": "", "BulkThreshold": 7, "@include": "configTail", ...},
//	 "types": {"MaxSendSize": "size"},               types the defaults cannot tell
//	 "enums": {"SpamAction": ["MoveToJmf", ...]},
//	 "cmdlets": {"Get-HostedContentFilterPolicy": "get", ...}}
//
// A property's type comes from its default: a string, number, boolean or array, null for a
// string that is empty; "types" says size (ByteQuantifiedSize, stored as bytes, -1 for
// Unlimited), date, guid, int, bool, strings or any. A default "=f" is computed by the Go
// function f (compute.go), or copies the property f. "@include" splices a fragment of
// schemas/_fragments.json (the identity block every directory object ends with, ...).

//go:embed schemas/*.json
var schemaFiles embed.FS

// propType is how a property is stored, converted from a parameter and printed.
type propType uint8

const (
	tString propType = iota
	tInt
	tBool
	tStrings
	tSize // ByteQuantifiedSize or Unlimited: stored as bytes (int64), -1 is Unlimited
	tDate
	tGUID
	tAny
)

var propTypeNames = map[string]propType{
	"string": tString, "int": tInt, "bool": tBool, "strings": tStrings, "size": tSize,
	"date": tDate, "guid": tGUID, "any": tAny,
	// Integers whose CLR type the service annotates (captured Get-Mailbox answers).
	"int16": tInt, "int32": tInt,
}

// intKinds are the annotations of the annotated integer types.
var intKinds = map[string]kind{"int16": kindInt16, "int32": kindInt32}

// computeFunc yields a computed property of an object being rendered.
type computeFunc func(r *render, p *prop) Property

// prop is one property of a schema.
type prop struct {
	Name    string
	Type    propType
	def     any      // the default stored value (nil: none)
	out     Property // the default as printed
	compute computeFunc
	copyOf  string   // the stored property a copied property shows
	Values  []string // an enum's accepted values
	intKind kind     // the annotation of an integer typed int16 or int32
}

// Stored reports whether the property lives in the store (rather than being computed).
func (p *prop) Stored() bool { return p.compute == nil && p.copyOf == "" }

// Schema is one object type as data; see the package comment above.
type Schema struct {
	Name           string
	Class          string
	Identity       string
	Container      string
	ObjectClass    []string
	ObjectCategory string
	Props          []prop
	Where          map[string][]string
	Cmdlets        map[string]string // cmdlet name -> verb role (get, set, new, remove, ...)
	// Singleton types have one object per tenant (OrganizationConfig, TransportConfig): their
	// Set- needs no -Identity.
	Singleton bool
	// StoreTypes are the store's object Types the schema's objects have (default: Class):
	// recipients are stored by kind, so a listing of mailboxes reads mailboxes only.
	StoreTypes []string
	// Order is what listings sort by: a property (Priority) or a store field (@WhenCreated);
	// empty is the name.
	Order string

	index     map[string]int // lower-case name -> position in Props
	exact     map[string]int // name as the schema spells it -> position in Props
	stored    map[string]int // exact name of a stored property -> position in Props
	computed  []int          // positions of the computed and copied properties
	defaults  Object         // every property's default, in order
	opathOnce sync.Once
	opath     opath.Schema
	jsonOnce  sync.Once
	enc       *schemaJSON // the properties pre-encoded for streamed pages (Schema.json)
}

// Prop finds a property by name, in any case.
func (s *Schema) Prop(name string) (*prop, bool) {
	i, ok := s.exact[name]
	if !ok {
		if i, ok = s.index[strings.ToLower(name)]; !ok {
			return nil, false
		}
	}
	return &s.Props[i], true
}

// schemaFile is the JSON form of a schema; properties are read separately, in order.
type schemaFile struct {
	Name           string              `json:"name"`
	Class          string              `json:"class"`
	Identity       string              `json:"identity"`
	Container      string              `json:"container"`
	ObjectClass    []string            `json:"objectClass"`
	ObjectCategory string              `json:"objectCategory"`
	Where          map[string][]string `json:"where"`
	Types          map[string]string   `json:"types"`
	Enums          map[string][]string `json:"enums"`
	Cmdlets        map[string]string   `json:"cmdlets"`
	Singleton      bool                `json:"singleton"`
	Order          string              `json:"order"`
	StoreTypes     []string            `json:"storeTypes"`
	Properties     json.RawMessage     `json:"properties"`
}

// member is one name and value of a JSON object, in document order.
type member struct {
	Name  string
	Value json.RawMessage
}

// orderedMembers reads a JSON object keeping the order of its members.
func orderedMembers(raw json.RawMessage) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("want a JSON object")
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{Name: tok.(string), Value: v})
	}
	if _, err := dec.Token(); err != nil && err != io.EOF {
		return nil, err
	}
	return out, nil
}

// Schemas is every schema of schemas/*.json, by lower-case name.
type Schemas struct {
	byName   map[string]*Schema
	byCmdlet map[string]*Schema // lower-case cmdlet name -> the schema it works on
}

// Lookup finds a schema by object type name, in any case.
func (ss *Schemas) Lookup(name string) *Schema { return ss.byName[strings.ToLower(name)] }

// ForCmdlet finds the schema a cmdlet works on, and the cmdlet's role in it.
func (ss *Schemas) ForCmdlet(cmdlet string) (*Schema, string) {
	s := ss.byCmdlet[strings.ToLower(cmdlet)]
	if s == nil {
		return nil, ""
	}
	for n, role := range s.Cmdlets {
		if strings.EqualFold(n, cmdlet) {
			return s, role
		}
	}
	return s, ""
}

// All lists the schemas in name order.
func (ss *Schemas) All() []*Schema {
	out := make([]*Schema, 0, len(ss.byName))
	for _, s := range ss.byName {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// builtinSchemas are the embedded schemas, read once; an error in them fails the tests.
var builtinSchemas = sync.OnceValues(func() (*Schemas, error) { return loadSchemas(schemaFiles, "schemas") })

// mustSchemas returns the embedded schemas; they are checked by the tests, so a failure here
// is a programming error.
func mustSchemas() *Schemas {
	ss, err := builtinSchemas()
	if err != nil {
		panic("exchange: " + err.Error())
	}
	return ss
}

// schema returns the embedded schema of an object type.
func schema(name string) *Schema {
	s := mustSchemas().Lookup(name)
	if s == nil {
		panic("exchange: no schema " + name)
	}
	return s
}

func loadSchemas(fsys fs.FS, dir string) (*Schemas, error) {
	fragments := map[string][]member{}
	if raw, err := fs.ReadFile(fsys, path.Join(dir, "_fragments.json")); err == nil {
		ms, err := orderedMembers(raw)
		if err != nil {
			return nil, fmt.Errorf("schemas/_fragments.json: %w", err)
		}
		for _, m := range ms {
			if fragments[m.Name], err = orderedMembers(m.Value); err != nil {
				return nil, fmt.Errorf("schemas/_fragments.json %s: %w", m.Name, err)
			}
		}
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	ss := &Schemas{byName: map[string]*Schema{}, byCmdlet: map[string]*Schema{}}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), "_") {
			continue
		}
		raw, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		var files []schemaFile
		if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
			err = json.Unmarshal(raw, &files)
		} else {
			files = make([]schemaFile, 1)
			err = json.Unmarshal(raw, &files[0])
		}
		if err != nil {
			return nil, fmt.Errorf("schemas/%s: %w", e.Name(), err)
		}
		for i := range files {
			s, err := buildSchema(&files[i], fragments)
			if err != nil {
				return nil, fmt.Errorf("schemas/%s: %s: %w", e.Name(), files[i].Name, err)
			}
			key := strings.ToLower(s.Name)
			if ss.byName[key] != nil {
				return nil, fmt.Errorf("schemas/%s: schema %s declared twice", e.Name(), s.Name)
			}
			ss.byName[key] = s
			for c := range s.Cmdlets {
				if other := ss.byCmdlet[strings.ToLower(c)]; other != nil {
					return nil, fmt.Errorf("schemas/%s: cmdlet %s belongs to %s and %s", e.Name(), c, other.Name, s.Name)
				}
				ss.byCmdlet[strings.ToLower(c)] = s
			}
		}
	}
	return ss, nil
}

var bytesDisplay = lazyRegexp(`^[0-9.]+ [KMGTP]?B \([0-9,]+ bytes\)$`)

func buildSchema(f *schemaFile, fragments map[string][]member) (*Schema, error) {
	s := &Schema{Name: f.Name, Class: f.Class, Identity: f.Identity, Container: f.Container,
		ObjectClass: f.ObjectClass, ObjectCategory: f.ObjectCategory, Where: f.Where, Cmdlets: f.Cmdlets, Singleton: f.Singleton, Order: f.Order, StoreTypes: f.StoreTypes,
		index: map[string]int{}}
	if s.Name == "" {
		return nil, fmt.Errorf("no name")
	}
	if s.Class == "" {
		s.Class = s.Name
	}
	if s.Identity == "" {
		s.Identity = "Name"
	}
	if len(s.StoreTypes) == 0 {
		s.StoreTypes = []string{s.Class}
	}
	members, err := orderedMembers(f.Properties)
	if err != nil {
		return nil, fmt.Errorf("properties: %w", err)
	}
	// Splice fragments in (one level deep is all the schemas need).
	var flat []member
	for _, m := range members {
		if m.Name != "@include" {
			flat = append(flat, m)
			continue
		}
		var name string
		if err := json.Unmarshal(m.Value, &name); err != nil || fragments[name] == nil {
			return nil, fmt.Errorf("@include %s: no such fragment", m.Value)
		}
		flat = append(flat, fragments[name]...)
	}
	for _, m := range flat {
		key := strings.ToLower(m.Name)
		if _, dup := s.index[key]; dup {
			return nil, fmt.Errorf("property %s listed twice", m.Name)
		}
		p := prop{Name: m.Name}
		var v any
		dec := json.NewDecoder(bytes.NewReader(m.Value))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("property %s: %w", m.Name, err)
		}
		typ, declared := f.Types[m.Name]
		switch x := v.(type) {
		case string:
			if fn, ok := strings.CutPrefix(x, "="); ok {
				if c, ok := computes[fn]; ok {
					p.compute = c
				} else {
					p.copyOf = fn
				}
				p.Type = tAny
				if declared {
					p.Type = propTypeNames[typ]
				}
				break
			}
			p.Type, p.def = tString, x
			if x == "Unlimited" || bytesDisplay().MatchString(x) {
				p.Type = tSize
				p.def, _ = parseByteQuantifiedSize(x)
			}
		case json.Number:
			p.Type = tInt
			p.def, _ = x.Int64()
		case bool:
			p.Type, p.def = tBool, x
		case []any:
			p.Type = tStrings
			list := make([]string, 0, len(x))
			for _, it := range x {
				s, _ := it.(string)
				list = append(list, s)
			}
			p.def = list
		case nil:
			p.Type = tString
		default:
			p.Type, p.def = tAny, x
		}
		if declared && p.Stored() {
			t, ok := propTypeNames[typ]
			if !ok {
				return nil, fmt.Errorf("property %s: unknown type %q", m.Name, typ)
			}
			p.Type, p.intKind = t, intKinds[typ]
			if p.def != nil {
				if p.def, err = p.storedValue(p.def); err != nil {
					return nil, fmt.Errorf("property %s: default: %w", m.Name, err)
				}
			}
		}
		p.Values = f.Enums[m.Name]
		p.out = p.property(p.def)
		s.index[key] = len(s.Props)
		s.Props = append(s.Props, p)
	}
	s.stored = map[string]int{}
	s.exact = make(map[string]int, len(s.Props))
	for i := range s.Props {
		p := &s.Props[i]
		s.exact[p.Name] = i
		s.defaults = append(s.defaults, p.out)
		if p.Stored() {
			s.stored[p.Name] = i
		} else {
			s.computed = append(s.computed, i)
		}
	}
	for n := range f.Types {
		if _, ok := s.index[strings.ToLower(n)]; !ok {
			return nil, fmt.Errorf("types names %s, which is not a property", n)
		}
	}
	for n := range f.Enums {
		if _, ok := s.index[strings.ToLower(n)]; !ok {
			return nil, fmt.Errorf("enums names %s, which is not a property", n)
		}
	}
	return s, nil
}

// property prints a stored value (as JSON decoding or a handler left it) as the type says.
func (p *prop) property(v any) Property {
	if v == nil {
		return Null(p.Name)
	}
	switch p.Type {
	case tString:
		s, ok := v.(string)
		if !ok {
			return Any(p.Name, v)
		}
		return Str(p.Name, s)
	case tInt:
		if n, ok := asInt(v); ok {
			out := Int(p.Name, n)
			out.kind = p.intKind
			return out
		}
	case tBool:
		if b, ok := v.(bool); ok {
			return Bool(p.Name, b)
		}
	case tStrings:
		return Strings(p.Name, asStrings(v))
	case tSize:
		if n, ok := asInt(v); ok {
			return Str(p.Name, formatSize(n))
		}
		if s, ok := v.(string); ok {
			return Str(p.Name, s)
		}
	case tDate:
		if t, ok := asTime(v); ok {
			if strings.HasSuffix(p.Name, "UTC") {
				return DateUTC(p.Name, t)
			}
			return Date(p.Name, t)
		}
	case tGUID:
		if s, ok := v.(string); ok {
			return GUID(p.Name, s)
		}
	}
	return Any(p.Name, v)
}

// storedValue converts a value (a bound parameter or a fixture's JSON) to the property's
// stored form: string, int64, bool, []string, bytes for sizes, RFC 3339 text for dates.
func (p *prop) storedValue(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch p.Type {
	case tString, tGUID:
		switch x := v.(type) {
		case time.Duration:
			return timeSpan(x), nil
		case ResultSize:
			if x.Unlimited {
				return "Unlimited", nil
			}
			return fmt.Sprint(x.N), nil
		case Duration:
			if x.Unlimited {
				return "Unlimited", nil
			}
			return timeSpan(x.D), nil
		case float64:
			return fmt.Sprint(x), nil
		case string:
			if len(p.Values) > 0 {
				for _, a := range p.Values {
					if strings.EqualFold(a, strings.TrimSpace(x)) {
						return a, nil
					}
				}
				return nil, fmt.Errorf("%q is not one of %s", x, strings.Join(p.Values, ", "))
			}
			return x, nil
		case []string:
			return strings.Join(x, ","), nil
		}
		if s, ok := scalarText(v); ok {
			return s, nil
		}
		if n, ok := asInt(v); ok {
			return fmt.Sprint(n), nil
		}
	case tInt:
		if n, ok := asInt(v); ok {
			return n, nil
		}
		if s, ok := v.(string); ok {
			var n int64
			if _, err := fmt.Sscan(strings.TrimSpace(s), &n); err == nil {
				return n, nil
			}
		}
	case tBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "$true", "1":
				return true, nil
			case "false", "$false", "0":
				return false, nil
			}
		}
	case tStrings:
		return asStrings(v), nil
	case tSize:
		switch x := v.(type) {
		case ByteSize:
			if x.Unlimited {
				return int64(-1), nil
			}
			return x.Bytes, nil
		case string:
			if n, ok := parseByteQuantifiedSize(x); ok {
				return n, nil
			}
			return nil, fmt.Errorf("%q is not a byte quantity", x)
		}
		if n, ok := asInt(v); ok {
			return n, nil
		}
	case tDate:
		if t, ok := asTime(v); ok {
			return opath.FormatTime(t), nil
		}
	case tAny:
		return v, nil
	}
	return nil, fmt.Errorf("%v (%T) does not convert", v, v)
}

// timeSpan renders a duration as .NET prints a TimeSpan: [d.]hh:mm:ss.
func timeSpan(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	s := fmt.Sprintf("%02d:%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second))
	if days > 0 {
		s = fmt.Sprintf("%d.%s", days, s)
	}
	if neg {
		s = "-" + s
	}
	return s
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		return int64(x), x == float64(int64(x))
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

func asStrings(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, it := range x {
			if s, ok := scalarText(it); ok {
				out = append(out, s)
			}
		}
		return out
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	}
	return nil
}

func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, !x.IsZero()
	case string:
		if t, ok := opath.ParseTime(x); ok {
			return t, true
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// sameValue reports whether two stored values are equal (a Set that changes nothing).
func sameValue(a, b any) bool {
	if a == nil || b == nil {
		return isEmptyValue(a) && isEmptyValue(b)
	}
	if x, ok := asInt(a); ok {
		y, ok := asInt(b)
		return ok && x == y
	}
	if _, ok := a.([]string); ok || isSlice(a) {
		return slices.Equal(asStrings(a), asStrings(b))
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func isSlice(v any) bool { _, ok := v.([]any); return ok }

func isEmptyValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []string:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// scalarText renders a scalar as PowerShell converts it to a string.
func scalarText(x any) (string, bool) {
	switch v := x.(type) {
	case string:
		return v, true
	case bool:
		if v {
			return "True", true
		}
		return "False", true
	case int64, int, float64, json.Number:
		return fmt.Sprint(v), true
	}
	return "", false
}
