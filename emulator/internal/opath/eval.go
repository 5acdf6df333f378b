package opath

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Eval implements Expr.
func (e *And) Eval(get func(string) (any, bool)) (bool, error) {
	l, err := e.L.Eval(get)
	if err != nil || !l {
		return false, err
	}
	return e.R.Eval(get)
}

// Eval implements Expr.
func (e *Or) Eval(get func(string) (any, bool)) (bool, error) {
	l, err := e.L.Eval(get)
	if err != nil || l {
		return l, err
	}
	return e.R.Eval(get)
}

// Eval implements Expr.
func (e *Not) Eval(get func(string) (any, bool)) (bool, error) {
	x, err := e.X.Eval(get)
	return !x && err == nil, err
}

// Eval implements Expr. A multi-valued property matches when any element does (-ne and -notlike:
// when none does); an empty string counts as $null; strings compare without regard to case; dates
// compare to the millisecond.
func (e *Compare) Eval(get func(string) (any, bool)) (bool, error) {
	raw, _ := get(e.Prop.Name)
	vals, err := values(e.Prop, raw)
	if err != nil {
		return false, err
	}
	switch e.Op {
	case Ne:
		return !e.any(vals, Eq), nil
	case NotLike:
		return !e.any(vals, Like), nil
	}
	return e.any(vals, e.Op), nil
}

func (e *Compare) any(vals []any, op Op) bool {
	if e.Value == nil {
		return op == Eq && len(vals) == 0
	}
	for _, v := range vals {
		if match(v, op, e.Value) {
			return true
		}
	}
	return false
}

func match(v any, op Op, lit any) bool {
	if op == Like {
		pat, _ := lit.(string)
		return wildcard(fold(text(v)), fold(pat))
	}
	var c int
	switch l := lit.(type) {
	case string:
		s, ok := v.(string)
		if !ok {
			s = text(v)
		}
		if op == Eq {
			return strings.EqualFold(s, l)
		}
		c = strings.Compare(fold(s), fold(l))
	case int64:
		n, ok := v.(int64)
		if !ok {
			return false
		}
		c = cmp(n, l)
	case bool:
		b, ok := v.(bool)
		if !ok {
			return false
		}
		c = cmp(b2i(b), b2i(l))
	case time.Time:
		t, ok := v.(time.Time)
		if !ok {
			return false
		}
		c = cmp(t.UnixMilli(), l.Truncate(time.Millisecond).UnixMilli())
	default:
		return false
	}
	switch op {
	case Eq:
		return c == 0
	case Lt:
		return c < 0
	case Gt:
		return c > 0
	case Le:
		return c <= 0
	case Ge:
		return c >= 0
	}
	return false
}

func cmp[T int64 | int](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func fold(s string) string { return strings.ToLower(s) }

// text is a value as -like sees it.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case time.Time:
		return x.UTC().Format("1/2/2006 3:04:05 PM")
	default:
		return fmt.Sprint(x)
	}
}

// wildcard matches s against pattern p in which * stands for any run of characters.
func wildcard(s, p string) bool {
	// Iterative matching with one backtrack point: linear in practice, never exponential.
	si, pi := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		if pi < len(p) && p[pi] == '*' {
			star, mark = pi, si
			pi++
			continue
		}
		if pi < len(p) && p[pi] == s[si] {
			pi++
			si++
			continue
		}
		if star >= 0 {
			pi = star + 1
			_, n := utf8.DecodeRuneInString(s[mark:])
			mark += n
			si = mark
			continue
		}
		return false
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// values normalises a property's value to its non-empty elements in the property's kind.
func values(prop Property, raw any) ([]any, error) {
	var in []any
	switch x := raw.(type) {
	case nil:
		return nil, nil
	case []string:
		for _, s := range x {
			in = append(in, s)
		}
	case []any:
		in = x
	default:
		in = []any{x}
	}
	out := make([]any, 0, len(in))
	for _, v := range in {
		c, err := scalar(prop, v)
		if err != nil {
			return nil, err
		}
		if c != nil {
			out = append(out, c)
		}
	}
	return out, nil
}

func scalar(prop Property, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := fmt.Errorf("opath: property %s holds %T %v, which is not a %s", prop.Name, v, v, prop.Kind.Base())
	switch prop.Kind.Base() {
	case Int:
		switch n := v.(type) {
		case int:
			return int64(n), nil
		case int32:
			return int64(n), nil
		case int64:
			return n, nil
		case uint32:
			return int64(n), nil
		case float64:
			if n != math.Trunc(n) || math.Abs(n) > 1<<62 {
				return nil, bad
			}
			return int64(n), nil
		case json.Number:
			i, err := n.Int64()
			if err != nil {
				return nil, bad
			}
			return i, nil
		case string:
			if n == "" {
				return nil, nil
			}
			i, err := strconv.ParseInt(n, 10, 64)
			if err != nil {
				return nil, bad
			}
			return i, nil
		}
	case Bool:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			switch strings.ToLower(b) {
			case "":
				return nil, nil
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		case int64:
			return b != 0, nil
		case int:
			return b != 0, nil
		}
	case Date:
		switch t := v.(type) {
		case time.Time:
			if t.IsZero() {
				return nil, nil
			}
			return t.UTC(), nil
		case string:
			if t == "" {
				return nil, nil
			}
			if p, ok := ParseTime(t); ok {
				return p, nil
			}
		}
	default:
		switch s := v.(type) {
		case string:
			if s == "" {
				return nil, nil
			}
			return s, nil
		case fmt.Stringer:
			if str := s.String(); str != "" {
				return str, nil
			}
			return nil, nil
		case bool, int, int64, float64, json.Number:
			return text(s), nil
		}
	}
	return nil, bad
}
