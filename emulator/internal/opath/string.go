package opath

import "strings"

func (e *And) String() string { return "(" + e.L.String() + " -and " + e.R.String() + ")" }

func (e *Or) String() string { return "(" + e.L.String() + " -or " + e.R.String() + ")" }

func (e *Not) String() string { return "(-not" + e.X.String() + ")" }

func (e *Compare) String() string {
	var lit string
	switch v := e.Value.(type) {
	case nil:
		lit = "$null"
	case bool:
		lit = "$false"
		if v {
			lit = "$true"
		}
	default:
		lit = quote(e.Raw)
	}
	return "(" + e.Prop.Name + " -" + string(e.Op) + " " + lit + ")"
}

// quote writes s as a single-quoted literal, doubling every character the lexer takes as a single
// quote.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		if quoteClass(r) == '\'' {
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}
