package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// eachAll collects what ListEach hands out, decoding RawProps, and the next cursor it gave.
func eachAll(t *testing.T, s store.Objects, q store.ListQuery) ([]store.Object, string) {
	t.Helper()
	var got []store.Object
	next, started := "", 0
	err := s.ListEach(context.Background(), q, func(n string) error {
		if started++; started > 1 || len(got) > 0 {
			t.Errorf("start called %d times, after %d objects", started, len(got))
		}
		next = n
		return nil
	}, func(o *store.Object) error {
		if started != 1 {
			t.Errorf("object %s before start", o.Name)
		}
		if o.Props != nil {
			t.Errorf("ListEach gave %s with Props set", o.Name)
		}
		props, err := store.DecodeProps(o.RawProps)
		if err != nil {
			return fmt.Errorf("RawProps of %s: %w", o.Name, err)
		}
		if o.Keys != nil || o.Refs != nil {
			t.Errorf("ListEach gave %s with Keys or Refs", o.Name)
		}
		c := *o
		c.Props, c.RawProps = props, ""
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatalf("ListEach %+v: %v", q, err)
	}
	if started != 1 {
		t.Errorf("start called %d times", started)
	}
	return got, next
}

func noStart(string) error { return nil }

// testListEach: ListEach hands out, object by object, exactly the page List returns (the
// same objects in the same order, without their keys and references, the same next cursor) for pages larger than any batch a
// store reads at a time, with every kind of condition and order; it holds no connection
// while it calls back, and a callback's error ends it.
func testListEach(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 450
	base := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	kinds := []string{"UserMailbox", "SharedMailbox", "RoomMailbox"}
	if err := s.CreateMany(ctx, func(yield func(store.Object) bool) {
		for i := range n {
			name := fmt.Sprintf("%c-each %03d", "bAcD"[i%4], (i*211)%n)
			o := recipient(TenantA, name, fmt.Sprintf("each%03d", i), fmt.Sprintf("each%03d@contoso.com", i))
			o.Props["RecipientTypeDetails"] = kinds[i%len(kinds)]
			o.Props["N"] = int64(i)
			o.Props["Text"] = fmt.Sprintf("line <%d> & \"quoted\" ünï\u2028", i)
			o.Props["List"] = []any{"x", int64(i), nil, true, 1.5}
			if i%7 == 0 {
				delete(o.Props, "N")
			}
			o.WhenCreated = base.Add(time.Duration((i*37)%n) * time.Minute)
			if !yield(o) {
				return
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, recipient(TenantB, "other tenant", "other"))
	mustCreate(t, s, store.Object{TenantID: TenantA, Type: "AcceptedDomain", Name: "contoso.com"})

	shared := eq("RecipientTypeDetails", "SharedMailbox")
	big := gt("N", 200)
	for _, q := range []store.ListQuery{
		{},
		{Types: []string{"Recipient"}},
		{Types: []string{"Recipient"}, Limit: 1000},
		{Types: []string{"Recipient"}, Limit: 250},
		{Types: []string{"Recipient"}, Limit: 1},
		{Types: []string{"Recipient", "AcceptedDomain"}, Limit: 333, Desc: true},
		{In: []store.PropIn{{Prop: "RecipientTypeDetails", Values: []string{"usermailbox", "RoomMailbox"}}}, Limit: 120},
		{Filter: shared.filter(true), Limit: 90},
		{Filter: shared.filter(false), Limit: 90},
		{Filter: big.filter(false)},
		{OrderBy: "N", Limit: 170},
		{OrderBy: "N", Desc: true, Limit: 170},
		{OrderBy: store.FieldWhenCreated, Limit: 101},
	} {
		q.TenantID = TenantA
		for page := 0; ; page++ {
			want, wantNext, err := s.List(ctx, q)
			if err != nil {
				t.Fatalf("List %+v: %v", q, err)
			}
			got, next := eachAll(t, s, q)
			if next != wantNext || len(got) != len(want) {
				t.Fatalf("query %+v page %d: ListEach gave %d objects and next %q, List %d and %q", q, page, len(got), next, len(want), wantNext)
			}
			for i := range want {
				want[i].Keys, want[i].Refs = nil, nil
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("query %+v page %d object %d: ListEach gave\n%#v\nList\n%#v", q, page, i, got[i], want[i])
				}
			}
			if next == "" {
				break
			}
			q.After = next
		}
	}

	// The callback may use the store, also one with a single connection.
	calls := 0
	err := s.ListEach(ctx, store.ListQuery{TenantID: TenantA, Types: []string{"Recipient"}, Limit: 300}, noStart, func(o *store.Object) error {
		calls++
		got, err := s.Get(ctx, TenantA, o.ID)
		if err != nil || got.Name != o.Name {
			return fmt.Errorf("Get %s inside ListEach: %v, %v", o.ID, got.Name, err)
		}
		return nil
	})
	if err != nil || calls != 300 {
		t.Errorf("ListEach calling the store: %d calls, %v", calls, err)
	}
	// Inside a transaction, through it.
	err = s.Tx(ctx, func(tx store.Objects) error {
		got, _ := eachAll(t, tx, store.ListQuery{TenantID: TenantA, Types: []string{"Recipient"}})
		if len(got) != n {
			return fmt.Errorf("ListEach in a Tx: %d objects", len(got))
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}

	// A callback's error stops the listing and comes back as it is.
	stop := errors.New("client went away")
	calls = 0
	err = s.ListEach(ctx, store.ListQuery{TenantID: TenantA, Limit: 400}, noStart, func(*store.Object) error {
		if calls++; calls == 150 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 150 {
		t.Errorf("ListEach after the callback failed: %d calls, %v", calls, err)
	}
	err = s.ListEach(ctx, store.ListQuery{TenantID: TenantA, Limit: 400}, func(string) error { return stop }, func(*store.Object) error {
		t.Error("an object after start failed")
		return nil
	})
	if err != stop {
		t.Errorf("ListEach after start failed: %v", err)
	}
	// The store's own errors are List's, before start.
	for _, q := range []store.ListQuery{{TenantID: TenantA, After: "not a cursor"}, {TenantID: TenantA, After: "not a cursor", Limit: 10}} {
		if err := s.ListEach(ctx, q, func(string) error { t.Error("start with a bad cursor"); return nil }, func(*store.Object) error { return nil }); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("ListEach with a bad cursor: %v", err)
		}
	}
	if err := s.ListEach(ctx, store.ListQuery{TenantID: TenantA, OrderBy: "@Nope", Limit: 5}, noStart, func(*store.Object) error { return nil }); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("ListEach ordered by @Nope: %v", err)
	}
	// An empty listing starts and calls nothing.
	for _, limit := range []int{0, 10} {
		got, next := eachAll(t, s, store.ListQuery{TenantID: TenantB, Types: []string{"AcceptedDomain"}, Limit: limit})
		if len(got) != 0 || next != "" {
			t.Errorf("empty ListEach: %v, %q", names(got), next)
		}
	}

	// The page ends where start said, whatever is written meanwhile: an object created
	// beyond its end during the listing comes with the next page, one inside it is not lost.
	q := store.ListQuery{TenantID: TenantA, Types: []string{"Recipient"}, Limit: 250}
	want, wantNext, err := s.List(ctx, q)
	if err != nil || wantNext == "" {
		t.Fatal(err)
	}
	last := want[len(want)-1].Name
	var got []string
	err = s.ListEach(ctx, q, noStart, func(o *store.Object) error {
		if len(got) == 0 {
			mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Recipient", Name: last + " beyond"})
			mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Recipient", Name: want[200].Name + " within"})
		}
		got = append(got, o.Name)
		return nil
	})
	if err != nil || !slices.Contains(got, want[200].Name+" within") || slices.Contains(got, last+" beyond") || got[len(got)-1] != last {
		t.Errorf("ListEach while objects were created: %d objects, ending %q, %v", len(got), got[len(got)-1], err)
	}
	q.After = wantNext
	if rest, _ := eachAll(t, s, q); len(rest) == 0 || rest[0].Name != last+" beyond" {
		t.Errorf("the next page starts with %v", names(rest[:min(len(rest), 1)]))
	}
	if got, _ := eachAll(t, s, store.ListQuery{TenantID: TenantB}); !slices.EqualFunc(got, []string{"other tenant"}, func(o store.Object, n string) bool { return o.Name == n }) {
		t.Errorf("tenant B: %v", names(got))
	}
}
