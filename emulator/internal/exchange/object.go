package exchange

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/exoctl/exoctl/internal/jsontext"
)

// kind says how a property is annotated and encoded on the wire.
type kind uint8

const (
	kindPlain       kind = iota // no annotation
	kindCollection              // "X@odata.type":"#Collection(String)"
	kindGUID                    // "X@data.type":"System.Guid","X@odata.type":"#Guid"
	kindDateTime                // "X@data.type":"System.DateTime", 2022-09-21T08:07:47.0000000+00:00
	kindDateTimeUTC             // "X@data.type":"System.DateTime", 2022-09-21T08:07:47.0000000Z
	kindInt16                   // "X@data.type":"System.Int16","X@odata.type":"#Int16"
	kindInt32                   // "X@data.type":"System.Int32"
)

// Property is one PowerShell property of an output object. Objects are ordered slices of
// properties so that the wire order is stable and matches the service's. Common value types
// are held unboxed so that building a page of objects allocates little.
type Property struct {
	Name string
	kind kind
	vt   valueType
	b    bool
	n    int64
	str  string
	list []string
	tm   time.Time
	v    any
}

// valueType says which field of a Property holds its value.
type valueType uint8

const (
	vNull valueType = iota
	vString
	vBool
	vInt
	vStrings
	vTime
	vAny
)

// Value returns the property's value: nil, string, bool, int64, []string, time.Time or the
// value given to Any.
func (p Property) Value() any {
	switch p.vt {
	case vString:
		return p.str
	case vBool:
		return p.b
	case vInt:
		return p.n
	case vStrings:
		return p.list
	case vTime:
		return p.tm
	case vAny:
		return p.v
	}
	return nil
}

// Object is one output record: its properties in wire order.
type Object []Property

// Str, Bool, Int, Strings, GUID, Date, DateUTC and Null build properties.
func Str(name, v string) Property       { return Property{Name: name, vt: vString, str: v} }
func Bool(name string, v bool) Property { return Property{Name: name, vt: vBool, b: v} }
func Int(name string, v int64) Property { return Property{Name: name, vt: vInt, n: v} }
func Null(name string) Property         { return Property{Name: name} }
func GUID(name, v string) Property {
	if v == "" {
		return Property{Name: name}
	}
	return Property{Name: name, kind: kindGUID, vt: vString, str: v}
}
func Strings(name string, v []string) Property {
	return Property{Name: name, kind: kindCollection, vt: vStrings, list: v}
}
func Date(name string, t time.Time) Property {
	if t.IsZero() {
		return Property{Name: name}
	}
	return Property{Name: name, kind: kindDateTime, vt: vTime, tm: t}
}
func DateUTC(name string, t time.Time) Property {
	if t.IsZero() {
		return Property{Name: name}
	}
	return Property{Name: name, kind: kindDateTimeUTC, vt: vTime, tm: t}
}

// OptStr is a string property that is null when v is empty.
func OptStr(name, v string) Property {
	if v == "" {
		return Null(name)
	}
	return Str(name, v)
}

// Any builds a property from a value of unknown type (a store Extra value), choosing the
// annotation the service would give it.
func Any(name string, v any) Property {
	switch x := v.(type) {
	case nil:
		return Null(name)
	case string:
		return Str(name, x)
	case bool:
		return Bool(name, x)
	case []string:
		return Strings(name, x)
	case []any:
		return Property{Name: name, kind: kindCollection, vt: vAny, v: x}
	case time.Time:
		if strings.HasSuffix(name, "UTC") {
			return DateUTC(name, x)
		}
		return Date(name, x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return Int(name, int64(x))
		}
	case int:
		return Int(name, int64(x))
	case int64:
		return Int(name, x)
	}
	return Property{Name: name, vt: vAny, v: v}
}

// Get returns the value of the named property (case-insensitive).
func (o Object) Get(name string) (any, bool) {
	for _, p := range o {
		if strings.EqualFold(p.Name, name) {
			return p.Value(), true
		}
	}
	return nil, false
}

// selection is a parsed $select: the wanted property names in the caller's order.
type selection []string

func parseSelect(s string) selection {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var sel selection
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			sel = append(sel, f)
		}
	}
	return sel
}

// appendObject encodes o as a JSON object with per-property annotations, keeping only the
// properties of sel (in sel's order) when sel is not empty.
func appendObject(b []byte, o Object, sel selection) []byte {
	b = append(b, '{')
	first := true
	emit := func(p Property) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendProperty(b, p)
	}
	if len(sel) == 0 {
		for _, p := range o {
			emit(p)
		}
	} else {
		for _, name := range sel {
			for _, p := range o {
				if strings.EqualFold(p.Name, name) {
					emit(p)
					break
				}
			}
		}
	}
	return append(b, '}')
}

func appendProperty(b []byte, p Property) []byte {
	if p.vt != vNull {
		switch p.kind {
		case kindCollection:
			b = appendKey(b, p.Name, "@odata.type")
			b = append(b, `:"#Collection(String)",`...)
		case kindGUID:
			b = appendKey(b, p.Name, "@data.type")
			b = append(b, `:"System.Guid",`...)
			b = appendKey(b, p.Name, "@odata.type")
			b = append(b, `:"#Guid",`...)
		case kindDateTime, kindDateTimeUTC:
			b = appendKey(b, p.Name, "@data.type")
			b = append(b, `:"System.DateTime",`...)
		case kindInt16:
			b = appendKey(b, p.Name, "@data.type")
			b = append(b, `:"System.Int16",`...)
			b = appendKey(b, p.Name, "@odata.type")
			b = append(b, `:"#Int16",`...)
		case kindInt32:
			b = appendKey(b, p.Name, "@data.type")
			b = append(b, `:"System.Int32",`...)
		}
	}
	b = jsontext.AppendString(b, p.Name)
	b = append(b, ':')
	switch p.vt {
	case vString:
		return jsontext.AppendString(b, p.str)
	case vBool:
		return strconv.AppendBool(b, p.b)
	case vInt:
		return strconv.AppendInt(b, p.n, 10)
	case vStrings:
		b = append(b, '[')
		for i, s := range p.list {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsontext.AppendString(b, s)
		}
		return append(b, ']')
	case vTime:
		b = append(b, '"')
		b = p.tm.UTC().AppendFormat(b, "2006-01-02T15:04:05.0000000")
		if p.kind == kindDateTimeUTC {
			return append(b, 'Z', '"')
		}
		return append(b, `+00:00"`...)
	case vAny:
		j, err := json.Marshal(p.v)
		if err != nil {
			return append(b, "null"...)
		}
		return append(b, j...)
	}
	return append(b, "null"...)
}

// appendKey appends the annotation key name+suffix as a JSON string.
func appendKey(b []byte, name, suffix string) []byte {
	b = jsontext.AppendString(b, name)
	b = b[:len(b)-1]
	return append(append(b, suffix...), '"')
}

// formatDate renders a DateTime as the service does for local-time properties (its servers
// run on UTC): 2022-09-21T08:07:47.0000000+00:00.
func formatDate(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.0000000") + "+00:00"
}

// formatDateUTC renders a *UTC DateTime property: 2022-09-21T08:07:47.0000000Z.
func formatDateUTC(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.0000000") + "Z"
}

// formatSize renders a byte count like Exchange's ByteQuantifiedSize:
// "99 GB (106,300,440,576 bytes)"; a negative count is "Unlimited".
func formatSize(n int64) string {
	if s, ok := commonSizes()[n]; ok {
		return s
	}
	return byteQuantifiedSize(n)
}

// commonSizes are the quotas nearly every mailbox has, formatted once (on first use).
var commonSizes = sync.OnceValue(func() map[int64]string {
	m := map[int64]string{}
	for _, gb := range []int64{0, 20, 30, 49, 50, 90, 98, 99, 100} {
		m[gb<<30] = byteQuantifiedSize(gb << 30)
	}
	return m
})

func byteQuantifiedSize(n int64) string {
	if n < 0 {
		return "Unlimited"
	}
	units := []string{"B", "KB", "MB", "GB", "TB", "PB"}
	u := 0
	v := float64(n)
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	num := strconv.FormatFloat(math.Floor(v*1000)/1000, 'f', -1, 64)
	return num + " " + units[u] + " (" + groupThousands(n) + " bytes)"
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}
