package opath

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

var sqlSchema = Properties(
	Property{Name: "Name", Kind: String},
	Property{Name: "Alias", Kind: String},
	Property{Name: "Department", Kind: String},
	Property{Name: "RecipientTypeDetails", Kind: String, Values: recipientTypes},
	Property{Name: "EmailAddresses", Kind: String | Multi},
	Property{Name: "Enabled", Kind: Bool},
	Property{Name: "CountryCode", Kind: Int},
	Property{Name: "WhenCreated", Kind: Date},
)

// resolveSQL addresses Name as a column and the rest inside the props JSON, as the store does.
func resolveSQL(prop string) (string, Kind, bool) {
	p, ok := sqlSchema.Property(prop)
	if !ok {
		return "", 0, false
	}
	if p.Name == "Name" {
		return "name", p.Kind, true
	}
	return "json_extract(props, '$." + p.Name + "')", p.Kind, true
}

var pieces = []string{"a", "A", "b", "B", "ab", "Ab", "_", "%", `\`, " ", "'", `"`, "é", "É", "x@contoso.com", "-", "0"}

func randText(r *rand.Rand) string {
	n := r.IntN(4)
	var b strings.Builder
	for range n {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func randTime(r *rand.Rand) time.Time {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	switch r.IntN(3) {
	case 0:
		return base.Add(time.Duration(r.IntN(5)) * 24 * time.Hour)
	case 1:
		return base.Add(time.Duration(r.IntN(5)) * time.Millisecond)
	}
	return base.Add(time.Duration(r.Int64N(int64(5 * 24 * time.Hour))))
}

// randObject makes an object with some properties missing, $null or empty.
func randObject(r *rand.Rand) map[string]any {
	o := map[string]any{}
	maybe := func(name string, v func() any) {
		switch r.IntN(6) {
		case 0: // missing
		case 1:
			o[name] = nil
		default:
			o[name] = v()
		}
	}
	maybe("Name", func() any { return randText(r) })
	maybe("Alias", func() any { return randText(r) })
	maybe("Department", func() any { return randText(r) })
	maybe("RecipientTypeDetails", func() any { return recipientTypes[r.IntN(3)] })
	maybe("EmailAddresses", func() any {
		var l []string
		for range r.IntN(4) {
			l = append(l, randText(r))
		}
		return l
	})
	maybe("Enabled", func() any { return r.IntN(2) == 0 })
	maybe("CountryCode", func() any { return int64(r.IntN(5) - 1) })
	maybe("WhenCreated", func() any { return randTime(r) })
	return o
}

// randFilter writes a random filter in OPATH text, as a user might.
func randFilter(r *rand.Rand, depth int) string {
	if depth > 0 {
		switch r.IntN(5) {
		case 0:
			return "(" + randFilter(r, depth-1) + ") -and (" + randFilter(r, depth-1) + ")"
		case 1:
			return randFilter(r, depth-1) + " -or " + randFilter(r, depth-1)
		case 2:
			return "-not (" + randFilter(r, depth-1) + ")"
		}
	}
	props := sqlSchema.Names()
	prop := props[r.IntN(len(props))]
	p, _ := sqlSchema.Property(prop)
	ops := []string{"-eq", "-ne", "-lt", "-gt", "-le", "-ge"}
	if p.Kind.Base() == String {
		ops = append(ops, "-like", "-notlike", "-like", "-notlike")
	}
	op := ops[r.IntN(len(ops))]
	if r.IntN(8) == 0 {
		return prop + " " + op + " $null"
	}
	var lit string
	switch p.Kind.Base() {
	case Bool:
		lit = []string{"$true", "$false", "'True'", "'false'"}[r.IntN(4)]
	case Int:
		lit = fmt.Sprint(r.IntN(5) - 1)
	case Date:
		lit = quote(randTime(r).Format(time.RFC3339Nano))
	default:
		if len(p.Values) > 0 && !strings.Contains(op, "like") {
			lit = quote(recipientTypes[r.IntN(3)])
			break
		}
		s := randText(r)
		if strings.Contains(op, "like") {
			s = strings.Repeat("*", r.IntN(2)) + s + strings.Repeat("*", r.IntN(2))
		}
		lit = quote(s)
	}
	return strings.ToLower(prop[:1]) + prop[1:] + " " + op + " " + lit
}

// TestSQLMatchesEval checks that the SQL a filter becomes selects exactly the objects that the
// in-memory evaluator matches, over a real SQLite table.
func TestSQLMatchesEval(t *testing.T) {
	seed := uint64(13)
	t.Parallel()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE obj (id INTEGER PRIMARY KEY, name TEXT, props TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 6))
	var objects []map[string]any
	for i := range 80 {
		o := randObject(r)
		objects = append(objects, o)
		stored := map[string]any{}
		for k, v := range o {
			if tm, ok := v.(time.Time); ok {
				v = FormatTime(tm)
			}
			stored[k] = v
		}
		js, err := json.Marshal(stored)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO obj (id, name, props) VALUES (?, ?, ?)`, i, o["Name"], string(js)); err != nil {
			t.Fatal(err)
		}
	}
	pushed, partial := 0, 0
	filters := 600
	if raceEnabled {
		filters = 100
	}
	for range filters {
		filter := randFilter(r, 3)
		e, err := Parse(filter, sqlSchema)
		if err != nil {
			t.Fatalf("Parse(%s): %v", filter, err)
		}
		where, args, ok := ToSQL(e, resolveSQL)
		if !ok {
			continue
		}
		pushed++
		rows, err := db.Query(`SELECT id FROM obj WHERE `+where+` ORDER BY id`, args...)
		if err != nil {
			t.Fatalf("%s: SQL %s: %v", filter, where, err)
		}
		var fromSQL []int
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			fromSQL = append(fromSQL, id)
		}
		rows.Close()
		var inMemory []int
		for i, o := range objects {
			m, err := e.Eval(func(p string) (any, bool) { v, ok := o[p]; return v, ok })
			if err != nil {
				t.Fatalf("%s: Eval: %v", filter, err)
			}
			if m {
				inMemory = append(inMemory, i)
			}
		}
		if len(inMemory) > 0 && len(inMemory) < len(objects) {
			partial++
		}
		if !slices.Equal(fromSQL, inMemory) {
			t.Fatalf("%s\nSQL %s %q\nselects %v\nEval matches %v", filter, where, args, fromSQL, inMemory)
		}
	}
	if pushed < filters/2 {
		t.Errorf("only %d of %d filters were pushed down", pushed, filters)
	}
	if partial < pushed/3 {
		t.Errorf("only %d of %d filters selected some but not all objects; the test is too weak", partial, pushed)
	}
	t.Logf("%d of %d filters pushed down to SQL, %d selected some but not all", pushed, filters, partial)
}

func TestToSQLRefuses(t *testing.T) {
	t.Parallel()
	for _, filter := range []string{
		`Name -eq 'é'`,           // SQLite does not fold non-ASCII case
		`Unknown -eq 'x'`,        // not addressable
		`CountryCode -like '1*'`, // -like on a number
		`Name -eq 'x' -or Alias -eq 'É'`,
	} {
		e, err := Parse(filter, nil)
		if strings.HasPrefix(filter, "CountryCode") {
			e, err = Parse(filter, sqlSchema)
		}
		if err != nil {
			t.Fatal(err)
		}
		resolve := resolveSQL
		if strings.HasPrefix(filter, "Unknown") {
			resolve = func(string) (string, Kind, bool) { return "", 0, false }
		}
		if where, _, ok := ToSQL(e, resolve); ok {
			t.Errorf("ToSQL(%s) = %s, want it refused", filter, where)
		}
	}
}

func TestToSQLBounds(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("Name -eq 'x' -and ", 250) + "Name -eq 'y'"
	e, err := Parse(deep, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := ToSQL(e, resolveSQL); ok {
		t.Error("a filter nested 250 deep was translated; SQLite refuses such an expression")
	}
	var balanced func(n int) string
	balanced = func(n int) string {
		if n == 1 {
			return "Name -eq 'x'"
		}
		return "(" + balanced(n/2) + ") -or (" + balanced(n-n/2) + ")"
	}
	if e, err = Parse(balanced(1500), nil); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := ToSQL(e, resolveSQL); ok {
		t.Error("a filter with 1500 literals was translated")
	}
	if e, err = Parse(balanced(100), nil); err != nil {
		t.Fatal(err)
	}
	if _, args, ok := ToSQL(e, resolveSQL); !ok || len(args) != 100 {
		t.Errorf("a filter with 100 literals: ok %v, %d args", ok, len(args))
	}
	if _, err := Parse(strings.Repeat("(", 300)+"Name -eq 'x'"+strings.Repeat(")", 300), nil); err == nil {
		t.Error("a filter nested 300 deep parsed")
	}
}
