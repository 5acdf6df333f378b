package opath

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse checks that no filter text makes Parse, Eval or ToSQL panic, that every refusal is an
// *Error, and that a parsed filter's stored form parses back to itself. Its seeds are in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, filter string) {
		for _, schema := range []Schema{nil, testSchema} {
			e, err := Parse(filter, schema)
			if err != nil {
				var oe *Error
				if !errors.As(err, &oe) {
					t.Fatalf("Parse(%q) = %T %v, want an *Error", filter, err, err)
				}
				if oe.Kind == SyntaxError && (oe.Position < 1 || oe.Position > len(filter)+1) {
					t.Fatalf("Parse(%q): position %d outside the filter", filter, oe.Position)
				}
				_ = oe.Bind("Filter")
				continue
			}
			again, err := Parse(e.String(), schema)
			if err != nil || again.String() != e.String() {
				t.Fatalf("Parse(%q) = %s, which parses back as %v, %v", filter, e, again, err)
			}
			for _, o := range []object{shared, alice, bob, {}} {
				if _, err := e.Eval(o.get); err != nil && schema != nil {
					t.Fatalf("%s: Eval: %v", e, err)
				}
			}
			where, args, ok := ToSQL(e, func(p string) (string, Kind, bool) {
				prop, found := testSchema.Property(p)
				if !found {
					return "props", String, true
				}
				return "c", prop.Kind, true
			})
			if ok && strings.Count(where, "?") != len(args) {
				t.Fatalf("%s: SQL %s has %d placeholders for %d args", e, where, strings.Count(where, "?"), len(args))
			}
		}
	})
}
