package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// pred is a small condition language with a meaning (match) and an SQL form, standing in for
// OPATH: the suite checks that the store gives the same answer whether it pushes a filter
// down or evaluates it object by object.
type pred struct {
	text  string
	match func(o *store.Object) bool
	sql   func(col func(string) (string, bool)) (string, []any, bool)
}

func (p pred) filter(push bool) *store.Filter {
	f := &store.Filter{Match: func(o *store.Object) (bool, error) { return p.match(o), nil }}
	if push {
		f.SQL = func(col func(string) (string, bool)) (string, []any, bool) { return p.sql(col) }
	}
	return f
}

// leaf wraps an SQL condition so that NULL counts as false, like match.
func leaf(text string, match func(o *store.Object) bool, where func(c string) string, prop string, args ...any) pred {
	return pred{text: text, match: match, sql: func(col func(string) (string, bool)) (string, []any, bool) {
		c, ok := col(prop)
		if !ok {
			return "", nil, false
		}
		return "coalesce((" + where(c) + "), 0)", args, true
	}}
}

func propString(o *store.Object, p string) (string, bool) {
	s, ok := o.Props[p].(string)
	return s, ok
}

func eq(p, v string) pred {
	return leaf(p+" -eq "+v, func(o *store.Object) bool {
		s, ok := propString(o, p)
		return ok && strings.EqualFold(s, v)
	}, func(c string) string { return "lower(" + c + ") = lower(?)" }, p, v)
}

func gt(p string, n int64) pred {
	return leaf(fmt.Sprintf("%s -gt %d", p, n), func(o *store.Object) bool {
		v, ok := o.Props[p].(int64)
		return ok && v > n
	}, func(c string) string { return c + " > ?" }, p, n)
}

func isTrue(p string) pred {
	return leaf(p+" -eq $true", func(o *store.Object) bool {
		v, ok := o.Props[p].(bool)
		return ok && v
	}, func(c string) string { return c + " = 1" }, p)
}

func absent(p string) pred {
	return pred{text: p + " -eq $null", match: func(o *store.Object) bool { return o.Props[p] == nil },
		sql: func(col func(string) (string, bool)) (string, []any, bool) {
			c, ok := col(p)
			return c + " IS NULL", nil, ok
		}}
}

func contains(p, v string) pred {
	return leaf(p+" -eq "+v+" (any element)", func(o *store.Object) bool {
		list, _ := o.Props[p].([]any)
		return slices.ContainsFunc(list, func(x any) bool { s, ok := x.(string); return ok && strings.EqualFold(s, v) })
	}, func(c string) string {
		return "EXISTS (SELECT 1 FROM json_each(" + c + ") WHERE lower(value) = lower(?))"
	}, p, v)
}

func namePrefix(v string) pred {
	return leaf("Name -like "+v+"*", func(o *store.Object) bool {
		return strings.HasPrefix(strings.ToLower(o.Name), strings.ToLower(v))
	}, func(c string) string { return "lower(" + c + ") LIKE lower(?) || '%'" }, store.FieldName, v)
}

// createdSince compares WhenCreated as fixed-width UTC text to the millisecond.
func createdSince(t time.Time) pred {
	text := t.UTC().Format("2006-01-02T15:04:05.000Z")
	return leaf("WhenCreated -ge "+text, func(o *store.Object) bool {
		return o.WhenCreated.UTC().Format("2006-01-02T15:04:05.000Z") >= text
	}, func(c string) string { return c + " >= ?" }, store.FieldWhenCreated, text)
}

func and(a, b pred) pred {
	return pred{text: "(" + a.text + ") -and (" + b.text + ")", match: func(o *store.Object) bool { return a.match(o) && b.match(o) },
		sql: func(col func(string) (string, bool)) (string, []any, bool) {
			aw, aa, aok := a.sql(col)
			bw, ba, bok := b.sql(col)
			return "(" + aw + ") AND (" + bw + ")", append(aa, ba...), aok && bok
		}}
}

func or(a, b pred) pred {
	return pred{text: "(" + a.text + ") -or (" + b.text + ")", match: func(o *store.Object) bool { return a.match(o) || b.match(o) },
		sql: func(col func(string) (string, bool)) (string, []any, bool) {
			aw, aa, aok := a.sql(col)
			bw, ba, bok := b.sql(col)
			return "(" + aw + ") OR (" + bw + ")", append(aa, ba...), aok && bok
		}}
}

func not(a pred) pred {
	return pred{text: "-not (" + a.text + ")", match: func(o *store.Object) bool { return !a.match(o) },
		sql: func(col func(string) (string, bool)) (string, []any, bool) {
			w, args, ok := a.sql(col)
			return "NOT (" + w + ")", args, ok
		}}
}

// inMemoryOnly is a condition the store cannot push down.
func inMemoryOnly(a pred) pred {
	return pred{text: a.text + " (in memory)", match: a.match,
		sql: func(func(string) (string, bool)) (string, []any, bool) { return "", nil, false }}
}

func testFilterPushDown(t *testing.T, s store.Store) {
	ctx := context.Background()
	base := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	depts := []any{"Sales", "sales", "IT", nil, "Finance"}
	var objs []store.Object
	for i := range 60 {
		props := map[string]any{"Size": int64(i % 10), "Enabled": i%3 == 0, "Tags": []string{fmt.Sprintf("t%d", i%4), "all"}}
		if d := depts[i%len(depts)]; d != nil {
			props["Department"] = d
		}
		if i%7 == 0 {
			delete(props, "Size")
		}
		created := base.Add(time.Duration(i) * 1500 * time.Microsecond) // sub-millisecond steps
		o := mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Recipient", Name: fmt.Sprintf("User %03d", (i*37)%60), Props: props, WhenCreated: created})
		objs = append(objs, o)
	}
	mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Other", Name: "User 999", Props: map[string]any{"Department": "Sales"}})
	all := listAll(t, s, store.ListQuery{TenantID: TenantA, Types: []string{"Recipient"}})
	preds := []pred{
		eq("Department", "SALES"), gt("Size", 4), isTrue("Enabled"), absent("Department"), absent("Size"),
		contains("Tags", "T2"), namePrefix("user 0"), createdSince(base.Add(30 * 1500 * time.Microsecond)),
		createdSince(base.Add(45*1500*time.Microsecond + 400*time.Microsecond)),
		and(eq("Department", "it"), not(gt("Size", 3))), or(isTrue("Enabled"), absent("Size")),
		not(eq("Department", "sales")), and(contains("Tags", "all"), not(absent("Department"))),
		inMemoryOnly(eq("Department", "finance")), and(inMemoryOnly(gt("Size", 2)), eq("Department", "sales")),
	}
	for _, p := range preds {
		var want []string
		for _, o := range all {
			if p.match(&o) {
				want = append(want, o.ID)
			}
		}
		for _, push := range []bool{true, false} {
			for _, limit := range []int{0, 7} {
				q := store.ListQuery{TenantID: TenantA, Types: []string{"Recipient"}, Filter: p.filter(push), Limit: limit}
				if got := listAll(t, s, q); !slices.Equal(ids(got), want) {
					t.Errorf("%s (push %v, limit %d): %d objects %v, want %d", p.text, push, limit, len(got), names(got), len(want))
				}
				if n, err := s.Count(ctx, q); err != nil || n != len(want) {
					t.Errorf("Count %s (push %v) = %d, %v; want %d", p.text, push, n, err, len(want))
				}
			}
		}
	}
	// A filter whose Match fails fails the List, with its own error.
	boom := fmt.Errorf("cannot compare")
	_, _, err := s.List(ctx, store.ListQuery{TenantID: TenantA, Filter: &store.Filter{Match: func(*store.Object) (bool, error) { return false, boom }}})
	if err != boom {
		t.Errorf("List with a failing filter: %v", err)
	}
	_ = objs
}
