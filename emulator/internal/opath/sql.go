package opath

import (
	"strings"
	"time"
)

// ToSQL translates e into a SQLite WHERE condition with ? placeholders for args. resolve gives,
// for a property's canonical name, the SQL expression holding it and how it is kept there (see
// FormatTime for dates; a Multi kind is a JSON array). ok is false when some part cannot be
// translated exactly (a property resolve does not know, a kind it keeps differently, a string
// literal with non-ASCII letters, which SQLite does not fold); the caller then evaluates e in
// memory. The condition is never NULL, so -not is exact.
func ToSQL(e Expr, resolve func(prop string) (sqlExpr string, kind Kind, ok bool)) (where string, args []any, ok bool) {
	t := &translator{resolve: resolve}
	var b strings.Builder
	if !t.expr(&b, e) {
		return "", nil, false
	}
	return b.String(), t.args, true
}

type translator struct {
	resolve func(string) (string, Kind, bool)
	args    []any
	depth   int
}

// SQLite refuses an expression nested deeper than 1000 or with more than 32766 parameters; a
// filter past these bounds is evaluated in memory.
const (
	maxSQLDepth = 200
	maxSQLArgs  = 1000
)

func (t *translator) expr(b *strings.Builder, e Expr) bool {
	t.depth++
	defer func() { t.depth-- }()
	if t.depth > maxSQLDepth || len(t.args) > maxSQLArgs {
		return false
	}
	switch x := e.(type) {
	case *And:
		return t.binary(b, x.L, "AND", x.R)
	case *Or:
		return t.binary(b, x.L, "OR", x.R)
	case *Not:
		b.WriteString("(NOT ")
		ok := t.expr(b, x.X)
		b.WriteByte(')')
		return ok
	case *Compare:
		return t.compare(b, x)
	}
	return false
}

func (t *translator) binary(b *strings.Builder, l Expr, op string, r Expr) bool {
	b.WriteByte('(')
	if !t.expr(b, l) {
		return false
	}
	b.WriteString(" " + op + " ")
	if !t.expr(b, r) {
		return false
	}
	b.WriteByte(')')
	return true
}

func (t *translator) compare(b *strings.Builder, c *Compare) bool {
	col, kind, ok := t.resolve(c.Prop.Name)
	if !ok || kind.Base() != c.Prop.Kind.Base() {
		return false
	}
	if s, isStr := c.Value.(string); isStr && !ascii(s) {
		return false
	}
	if (c.Op == Like || c.Op == NotLike) && kind.Base() != String {
		return false
	}
	op := c.Op
	negate := op == Ne || op == NotLike
	if op == Ne {
		op = Eq
	} else if op == NotLike {
		op = Like
	}
	if negate {
		b.WriteString("(NOT ")
	}
	if c.Value == nil && op != Eq {
		b.WriteString("0") // an ordering against $null holds for nothing
	} else if kind.IsMulti() {
		// An element condition over json_each; for $null: no element that has a value.
		if c.Value == nil {
			b.WriteString("(NOT EXISTS (SELECT 1 FROM json_each(" + col + ") AS je WHERE " + present("je.value", kind) + "))")
		} else {
			b.WriteString("EXISTS (SELECT 1 FROM json_each(" + col + ") AS je WHERE ")
			t.element(b, "je.value", kind, op, c.Value)
			b.WriteByte(')')
		}
	} else if c.Value == nil {
		b.WriteString("(NOT " + present(col, kind) + ")")
	} else {
		t.element(b, col, kind, op, c.Value)
	}
	if negate {
		b.WriteByte(')')
	}
	return true
}

// present is the condition that v has a value (” counts as none for text).
func present(v string, kind Kind) string {
	switch kind.Base() {
	case String, Date:
		return "(" + v + " IS NOT NULL AND " + v + " <> '')"
	}
	return "(" + v + " IS NOT NULL)"
}

var sqlOps = map[Op]string{Eq: "=", Lt: "<", Gt: ">", Le: "<=", Ge: ">="}

// element writes the condition that the single value v matches op lit; it is false, never NULL,
// when v is NULL.
func (t *translator) element(b *strings.Builder, v string, kind Kind, op Op, lit any) {
	b.WriteString("(" + present(v, kind) + " AND ")
	switch l := lit.(type) {
	case string:
		if op == Like {
			b.WriteString(v + ` LIKE ? ESCAPE '\'`)
			t.args = append(t.args, likePattern(l))
		} else {
			b.WriteString(v + " " + sqlOps[op] + " ? COLLATE NOCASE")
			t.args = append(t.args, l)
		}
	case int64:
		b.WriteString(v + " " + sqlOps[op] + " ?")
		t.args = append(t.args, l)
	case bool:
		b.WriteString(v + " " + sqlOps[op] + " ?")
		t.args = append(t.args, int64(b2i(l)))
	case time.Time:
		b.WriteString(v + " " + sqlOps[op] + " ?")
		t.args = append(t.args, FormatTime(l))
	}
	b.WriteByte(')')
}

// likePattern turns an OPATH wildcard pattern into a LIKE pattern with \ as the escape.
func likePattern(p string) string {
	var b strings.Builder
	for _, r := range p {
		switch r {
		case '*':
			b.WriteByte('%')
		case '%', '_', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
