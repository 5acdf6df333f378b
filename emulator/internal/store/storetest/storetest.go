package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// Tenants every subtest has.
const (
	TenantA = "11111111-1111-4111-8111-111111111111"
	TenantB = "22222222-2222-4222-8222-222222222222"
)

// Run runs the conformance suite. open returns a new, empty store for each subtest; Run
// closes it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CRUD", testCRUD},
		{"PropsRoundTrip", testPropsRoundTrip},
		{"NotFound", testNotFound},
		{"AlreadyExists", testAlreadyExists},
		{"CaseInsensitiveKeys", testCaseInsensitiveKeys},
		{"Resolve", testResolve},
		{"RecipientIdentity", testRecipientIdentity},
		{"ListOrderAndPaging", testListPaging},
		{"ListCursorStability", testCursorStability},
		{"ListOrderBy", testListOrderBy},
		{"ListHugeIn", testListHugeIn},
		{"ListEach", testListEach},
		{"FilterPushDown", testFilterPushDown},
		{"UpdateAtomicity", testUpdateAtomicity},
		{"Tx", testTx},
		{"Refs", testRefs},
		{"CreateMany", testCreateMany},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"ConcurrentCreates", testConcurrentCreates},
		{"ConcurrentProxyChanges", testConcurrentProxyChanges},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			ctx := context.Background()
			for _, tn := range []store.Tenant{
				{ID: TenantA, Name: "a.onmicrosoft.com", DisplayName: "A"},
				{ID: TenantB, Name: "b.onmicrosoft.com", DisplayName: "B"},
			} {
				if err := s.PutTenant(ctx, tn); err != nil {
					t.Fatal(err)
				}
			}
			tt.fn(t, s)
		})
	}
}

// Key spaces of the suite's recipients, as the exchange schemas use them.
const (
	spaceName  = "Recipient.Name"
	spaceAlias = "Recipient.Alias"
	spaceUPN   = "Recipient.UPN"
)

// recipient makes a recipient-like object with its keys derived from its properties.
func recipient(tenant, name, alias string, addrs ...string) store.Object {
	o := store.Object{TenantID: tenant, Type: "Recipient", Name: name, Props: map[string]any{
		"Alias": alias, "RecipientTypeDetails": "UserMailbox", "EmailAddresses": addrs,
	}}
	o.Keys = recipientKeys(name, alias, addrs)
	return o
}

func recipientKeys(name, alias string, addrs []string) []store.Key {
	keys := []store.Key{{Space: spaceName, Value: name}, {Space: spaceAlias, Value: alias}}
	for _, a := range addrs {
		keys = append(keys, store.ProxyKey(a))
	}
	return keys
}

func mustCreate(t *testing.T, s store.Objects, o store.Object) store.Object {
	t.Helper()
	got, err := s.Create(context.Background(), o)
	if err != nil {
		t.Fatalf("Create %s %q: %v", o.Type, o.Name, err)
	}
	return got
}

func mustGet(t *testing.T, s store.Objects, tenant, id string) store.Object {
	t.Helper()
	got, err := s.Get(context.Background(), tenant, id)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return got
}

func testCRUD(t *testing.T, s store.Store) {
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	o := recipient(TenantA, "Alice Smith", "alice", "SMTP:alice@contoso.com", "smtp:alice@a.onmicrosoft.com")
	o.Props["Department"] = "Sales"
	created := mustCreate(t, s, o)
	if uuid.Validate(created.ID) != nil || created.ID != strings.ToLower(created.ID) {
		t.Errorf("Create gave ID %q, want a lower-case GUID", created.ID)
	}
	if created.Version != 1 || created.WhenCreated.Before(before) || !created.WhenChanged.Equal(created.WhenCreated) {
		t.Errorf("created: version %d, created %v, changed %v", created.Version, created.WhenCreated, created.WhenChanged)
	}
	got := mustGet(t, s, TenantA, strings.ToUpper(created.ID))
	if got.ID != created.ID || got.Name != "Alice Smith" || got.Type != "Recipient" || got.TenantID != TenantA ||
		got.Props["Department"] != "Sales" || got.Version != 1 || !got.WhenCreated.Equal(created.WhenCreated) {
		t.Errorf("Get = %+v, want %+v", got, created)
	}
	if !reflect.DeepEqual(got.Keys, created.Keys) || len(got.Keys) != 4 {
		t.Errorf("keys = %v, want %v", got.Keys, created.Keys)
	}
	if got.Keys[2].Value != "alice@contoso.com" {
		t.Errorf("ProxyKey kept the smtp: prefix: %v", got.Keys[2])
	}

	updated, err := s.Update(ctx, TenantA, created.ID, func(o *store.Object) error {
		o.Props["Department"] = "Marketing"
		o.Name = "Alice Jones"
		o.Keys[0].Value = "Alice Jones"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Version != 2 || !updated.WhenChanged.After(created.WhenChanged) || !updated.WhenCreated.Equal(created.WhenCreated) {
		t.Errorf("updated: version %d, changed %v (was %v)", updated.Version, updated.WhenChanged, created.WhenChanged)
	}
	got = mustGet(t, s, TenantA, created.ID)
	if got.Name != "Alice Jones" || got.Props["Department"] != "Marketing" || got.Version != 2 || !got.WhenChanged.Equal(updated.WhenChanged) {
		t.Errorf("after Update: %+v", got)
	}
	// The old name is free, the new one taken.
	if found, _ := s.Resolve(ctx, TenantA, nil, []string{spaceName}, "Alice Smith"); len(found) != 0 {
		t.Errorf("old name still resolves: %v", found)
	}
	if found, _ := s.Resolve(ctx, TenantA, nil, []string{spaceName}, "alice jones"); len(found) != 1 {
		t.Errorf("new name resolves to %d objects", len(found))
	}
	mustCreate(t, s, recipient(TenantA, "Alice Smith", "alice2"))

	if err := s.Delete(ctx, TenantA, created.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, TenantA, created.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	// Its keys are free again.
	mustCreate(t, s, recipient(TenantA, "Alice Jones", "alice", "alice@contoso.com"))
	// Objects of one tenant are not another's.
	mustCreate(t, s, recipient(TenantB, "Alice Jones", "alice", "alice@contoso.com"))
	if n, err := s.Count(ctx, store.ListQuery{TenantID: TenantA}); err != nil || n != 2 {
		t.Errorf("Count(A) = %d, %v; want 2", n, err)
	}
}

func testPropsRoundTrip(t *testing.T, s store.Store) {
	props := map[string]any{
		"String": "text <&> \"quoted\" ünïcode", "Empty": "", "True": true, "False": false, "Nil": nil,
		"Int": 42, "Int64": int64(107374182400), "Negative": int64(-7), "Float": 1.5,
		"Strings": []string{"SMTP:a@b.com", "smtp:c@d.com"}, "Anys": []any{"x", int64(1), true, nil},
		"EmptyList": []string{}, "Map": map[string]any{"Add": []string{"x"}, "n": 3},
		"Time": "2024-05-06T07:08:09.123Z",
	}
	want := map[string]any{
		"String": "text <&> \"quoted\" ünïcode", "Empty": "", "True": true, "False": false, "Nil": nil,
		"Int": int64(42), "Int64": int64(107374182400), "Negative": int64(-7), "Float": 1.5,
		"Strings": []any{"SMTP:a@b.com", "smtp:c@d.com"}, "Anys": []any{"x", int64(1), true, nil},
		"EmptyList": []any{}, "Map": map[string]any{"Add": []any{"x"}, "n": int64(3)},
		"Time": "2024-05-06T07:08:09.123Z",
	}
	o := mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Thing", Name: "props", Props: props})
	if got := mustGet(t, s, TenantA, o.ID).Props; !reflect.DeepEqual(got, want) {
		t.Errorf("Props read back as\n%#v\nwant\n%#v", got, want)
	}
	// An Update's function sees them the same way, and a change to a nested value reaches
	// the store only through what the function leaves.
	_, err := s.Update(context.Background(), TenantA, o.ID, func(o *store.Object) error {
		if !reflect.DeepEqual(o.Props, want) {
			t.Errorf("Update saw\n%#v", o.Props)
		}
		o.Props["Anys"].([]any)[0] = "y"
		delete(o.Props, "Nil")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := mustGet(t, s, TenantA, o.ID).Props
	if got["Anys"].([]any)[0] != "y" {
		t.Errorf("nested change lost: %v", got["Anys"])
	}
	if _, ok := got["Nil"]; ok {
		t.Error("deleted property came back")
	}
	empty := mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Thing"})
	if got := mustGet(t, s, TenantA, empty.ID); got.Props == nil || len(got.Props) != 0 || got.Name != "" || got.Keys != nil || got.Refs != nil {
		t.Errorf("empty object read back as %+v", got)
	}
	if _, err := s.Create(context.Background(), store.Object{TenantID: TenantA, Type: "Thing", Props: map[string]any{"f": func() {}}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("unencodable property: %v, want ErrInvalid", err)
	}
}

func testNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := mustCreate(t, s, recipient(TenantA, "Bob", "bob"))
	missing := uuid.NewString()
	for _, c := range []struct{ tenant, id string }{{TenantA, missing}, {TenantB, o.ID}, {TenantA, "not-a-guid"}, {TenantA, ""}, {"nope", o.ID}} {
		if _, err := s.Get(ctx, c.tenant, c.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%q, %q) = %v, want ErrNotFound", c.tenant, c.id, err)
		}
		called := false
		if _, err := s.Update(ctx, c.tenant, c.id, func(*store.Object) error { called = true; return nil }); !errors.Is(err, store.ErrNotFound) || called {
			t.Errorf("Update(%q, %q) = %v (fn called: %v), want ErrNotFound", c.tenant, c.id, err, called)
		}
		if err := s.Delete(ctx, c.tenant, c.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Delete(%q, %q) = %v, want ErrNotFound", c.tenant, c.id, err)
		}
	}
	if found, err := s.Resolve(ctx, TenantA, nil, nil, "nobody"); err != nil || len(found) != 0 {
		t.Errorf("Resolve(nobody) = %v, %v", found, err)
	}
	if _, err := s.Create(ctx, store.Object{TenantID: uuid.NewString(), Type: "Thing"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Create in a tenant that does not exist: %v, want ErrNotFound", err)
	}
	if _, err := s.Create(ctx, store.Object{TenantID: TenantA, Name: "typeless"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Create without Type: %v, want ErrInvalid", err)
	}
	if _, err := s.Create(ctx, store.Object{TenantID: TenantA, Type: "Thing", ID: "not-a-guid"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Create with a bad ID: %v, want ErrInvalid", err)
	}
}

// conflict checks that err is a key conflict on space naming holder.
func conflict(t *testing.T, err error, space string, holder store.Object) {
	t.Helper()
	var ke *store.KeyConflictError
	if !errors.Is(err, store.ErrAlreadyExists) || !errors.As(err, &ke) {
		t.Errorf("error %v, want a *store.KeyConflictError wrapping ErrAlreadyExists", err)
		return
	}
	if ke.Key.Space != space || ke.ID != holder.ID || ke.Name != holder.Name || ke.Type != holder.Type {
		t.Errorf("conflict %+v, want space %s held by %s %q (%s)", ke, space, holder.Type, holder.Name, holder.ID)
	}
	if !strings.Contains(err.Error(), holder.Name) {
		t.Errorf("error %q does not name the holder %q", err, holder.Name)
	}
}

func testAlreadyExists(t *testing.T, s store.Store) {
	ctx := context.Background()
	alice := mustCreate(t, s, recipient(TenantA, "Alice", "alice", "SMTP:alice@contoso.com", "smtp:al@contoso.com"))
	for _, c := range []struct {
		o     store.Object
		space string
	}{
		{recipient(TenantA, "Alice", "other1", "other1@contoso.com"), spaceName},
		{recipient(TenantA, "Other2", "alice", "other2@contoso.com"), spaceAlias},
		{recipient(TenantA, "Other3", "other3", "SMTP:al@contoso.com"), store.SpaceProxy},
		{recipient(TenantA, "Other4", "other4", "alice@contoso.com"), store.SpaceProxy},
		{store.Object{TenantID: TenantA, Type: "Recipient", ID: strings.ToUpper(alice.ID), Name: "Other5"}, store.SpaceID},
	} {
		_, err := s.Create(ctx, c.o)
		conflict(t, err, c.space, alice)
	}
	// A refused Create leaves nothing behind: none of its free keys are taken.
	mustCreate(t, s, recipient(TenantA, "Other1", "other1", "other1@contoso.com"))
	if n, _ := s.Count(ctx, store.ListQuery{TenantID: TenantA}); n != 2 {
		t.Errorf("%d objects after refused creates, want 2", n)
	}
	// One space per uniqueness domain: another type's key in another space is free.
	mustCreate(t, s, store.Object{TenantID: TenantA, Type: "TransportRule", Name: "Alice", Keys: []store.Key{{Space: "TransportRule.Name", Value: "Alice"}}})
	// Keys are per tenant.
	mustCreate(t, s, recipient(TenantB, "Alice", "alice", "alice@contoso.com"))
	// An object may hold one value in several spaces, and list a key twice.
	self := recipient(TenantA, "same", "same", "same@x.com", "SMTP:same@x.com")
	self.Keys = append(self.Keys, store.Key{Space: spaceUPN, Value: "same"})
	mustCreate(t, s, self)
	// Update taking a held key fails the same way, and writes nothing.
	bob := mustCreate(t, s, recipient(TenantA, "Bob", "bob", "bob@contoso.com"))
	_, err := s.Update(ctx, TenantA, bob.ID, func(o *store.Object) error {
		o.Props["Alias"] = "alice"
		o.Keys = recipientKeys("Bob", "ALICE", []string{"bob@contoso.com"})
		return nil
	})
	conflict(t, err, spaceAlias, alice)
	if got := mustGet(t, s, TenantA, bob.ID); got.Props["Alias"] != "bob" || got.Version != 1 {
		t.Errorf("refused Update wrote %+v", got)
	}
	if found, _ := s.Resolve(ctx, TenantA, nil, []string{spaceAlias}, "bob"); len(found) != 1 {
		t.Errorf("refused Update lost Bob's alias key: %v", found)
	}
}

func testCaseInsensitiveKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, recipient(TenantA, "Ärger Ünal", "Aerger", "SMTP:Aerger@Contoso.COM"))
	for _, c := range []struct{ space, value string }{
		{spaceName, "ärger ünal"}, {spaceName, "ÄRGER ÜNAL"}, {spaceAlias, "AERGER"},
		{store.SpaceProxy, "aerger@contoso.com"}, {store.SpaceProxy, store.ProxyKey("smtp:AERGER@contoso.com").Value},
	} {
		found, err := s.Resolve(ctx, TenantA, nil, []string{c.space}, c.value)
		if err != nil || len(found) != 1 || found[0].ID != a.ID {
			t.Errorf("Resolve(%s, %q) = %v, %v", c.space, c.value, found, err)
		}
		_, err = s.Create(ctx, store.Object{TenantID: TenantA, Type: "Recipient", Name: "x" + c.value, Keys: []store.Key{{Space: c.space, Value: c.value}}})
		conflict(t, err, c.space, a)
	}
	// The key keeps the caller's spelling.
	if got := mustGet(t, s, TenantA, a.ID); got.Keys[0].Value != "Ärger Ünal" {
		t.Errorf("key spelling %q", got.Keys[0].Value)
	}
	// Changing only a key's case is no conflict with itself.
	if _, err := s.Update(ctx, TenantA, a.ID, func(o *store.Object) error {
		o.Keys[1].Value = "AERGER"
		return nil
	}); err != nil {
		t.Errorf("case-only key change: %v", err)
	}
	if got := mustGet(t, s, TenantA, a.ID); got.Keys[1].Value != "AERGER" {
		t.Errorf("key spelling after update %q", got.Keys[1].Value)
	}
}

func ids(os []store.Object) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = o.ID
	}
	return out
}

func names(os []store.Object) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = o.Name
	}
	return out
}

func testResolve(t *testing.T, s store.Store) {
	ctx := context.Background()
	// "sam" is one object's Name and another's alias: -Identity sam is ambiguous.
	sam := mustCreate(t, s, recipient(TenantA, "sam", "samuel", "samuel@contoso.com"))
	samantha := mustCreate(t, s, recipient(TenantA, "Samantha", "sam", "samantha@contoso.com"))
	rule := mustCreate(t, s, store.Object{TenantID: TenantA, Type: "TransportRule", Name: "sam", Keys: []store.Key{{Space: "TransportRule.Name", Value: "sam"}}})
	found, err := s.Resolve(ctx, TenantA, []string{"Recipient"}, []string{spaceName, spaceAlias, store.SpaceProxy, store.SpaceID}, "SAM")
	if err != nil || !slices.Equal(ids(found), []string{sam.ID, samantha.ID}) {
		t.Errorf("Resolve(sam) = %v, %v; want sam and Samantha in Name order", names(found), err)
	}
	if found, _ := s.Resolve(ctx, TenantA, nil, nil, "sam"); len(found) != 3 {
		t.Errorf("Resolve in every type and space = %v, want 3", names(found))
	}
	if found, _ := s.Resolve(ctx, TenantA, []string{"TransportRule"}, nil, "sam"); !slices.Equal(ids(found), []string{rule.ID}) {
		t.Errorf("Resolve of a TransportRule = %v", names(found))
	}
	if found, _ := s.Resolve(ctx, TenantA, []string{"Recipient"}, []string{spaceAlias}, "sam"); !slices.Equal(ids(found), []string{samantha.ID}) {
		t.Errorf("Resolve by alias = %v", names(found))
	}
	for _, spaces := range [][]string{{store.SpaceID}, nil, {spaceName, store.SpaceID}} {
		if found, _ := s.Resolve(ctx, TenantA, nil, spaces, strings.ToUpper(sam.ID)); !slices.Equal(ids(found), []string{sam.ID}) {
			t.Errorf("Resolve by ID in %v = %v", spaces, names(found))
		}
	}
	if found, _ := s.Resolve(ctx, TenantA, nil, []string{spaceName}, sam.ID); len(found) != 0 {
		t.Errorf("Resolve by ID outside SpaceID = %v", names(found))
	}
	if found, _ := s.Resolve(ctx, TenantB, nil, nil, "sam"); len(found) != 0 {
		t.Errorf("Resolve in another tenant = %v", names(found))
	}
	if found, _ := s.Resolve(ctx, TenantA, make([]string, hugeList), nil, "sam"); len(found) != 0 {
		t.Errorf("Resolve with %d empty types = %v", hugeList, names(found))
	}
}

// testRecipientIdentity: Exchange's -Identity for recipients (Name, Alias, any email address
// with or without smtp:, UPN, GUID, ExternalDirectoryObjectId, DistinguishedName, any case)
// is Keys + Resolve.
func testRecipientIdentity(t *testing.T, s store.Store) {
	ctx := context.Background()
	ext := uuid.NewString()
	dn := "CN=Adele Vance,OU=contoso.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=prod,DC=outlook,DC=com"
	o := recipient(TenantA, "Adele Vance", "adelev", "SMTP:adele.vance@contoso.com", "smtp:adelev@contoso.onmicrosoft.com", "X500:/o=ExchangeLabs/cn=Recipients/cn=adele")
	o.Keys = append(o.Keys, store.Key{Space: spaceUPN, Value: "adele.vance@contoso.com"},
		store.Key{Space: "Recipient.ExternalDirectoryObjectId", Value: ext},
		store.Key{Space: "Recipient.DistinguishedName", Value: dn})
	adele := mustCreate(t, s, o)
	spaces := []string{spaceName, spaceAlias, store.SpaceProxy, spaceUPN, "Recipient.ExternalDirectoryObjectId", "Recipient.DistinguishedName", store.SpaceID}
	for _, identity := range []string{"Adele Vance", "adele vance", "ADELEV", "adele.vance@contoso.com", "SMTP:adele.vance@contoso.com",
		"smtp:ADELEV@contoso.onmicrosoft.com", "x500:/o=exchangelabs/cn=recipients/cn=adele", strings.ToUpper(ext), strings.ToLower(dn), adele.ID} {
		v := identity
		if strings.Contains(v, "@") || strings.Contains(v, ":/") {
			v = store.ProxyKey(v).Value
		}
		found, err := s.Resolve(ctx, TenantA, []string{"Recipient"}, spaces, v)
		if err != nil || !slices.Equal(ids(found), []string{adele.ID}) {
			t.Errorf("-Identity %q resolves to %v, %v", identity, names(found), err)
		}
	}
}

// page lists q to the end, page by page.
func listAll(t *testing.T, s store.Objects, q store.ListQuery) []store.Object {
	t.Helper()
	var all []store.Object
	for range 100_000 {
		page, next, err := s.List(context.Background(), q)
		if err != nil {
			t.Fatalf("List %+v: %v", q, err)
		}
		if q.Limit > 0 && len(page) > q.Limit {
			t.Fatalf("page of %d, limit %d", len(page), q.Limit)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		if len(page) == 0 {
			t.Fatal("an empty page with a next cursor")
		}
		q.After = next
	}
	t.Fatal("List never ended")
	return nil
}

func testListPaging(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := range 57 {
		// Names out of order and in mixed case; ties broken by ID.
		name := fmt.Sprintf("%c-user %02d", "bAcD"[i%4], (i*37)%57)
		mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Recipient", Name: name, Props: map[string]any{"N": i}})
	}
	mustCreate(t, s, store.Object{TenantID: TenantA, Type: "AcceptedDomain", Name: "contoso.com"})
	mustCreate(t, s, store.Object{TenantID: TenantB, Type: "Recipient", Name: "other tenant"})
	all := listAll(t, s, store.ListQuery{TenantID: TenantA, Types: []string{"Recipient"}})
	if len(all) != 57 {
		t.Fatalf("%d recipients listed, want 57", len(all))
	}
	if !slices.IsSortedFunc(all, func(a, b store.Object) int {
		return strings.Compare(strings.ToLower(a.Name)+"\x00"+a.ID, strings.ToLower(b.Name)+"\x00"+b.ID)
	}) {
		t.Errorf("not in case-insensitive Name order: %v", names(all))
	}
	for _, limit := range []int{1, 7, 56, 57, 58} {
		got := listAll(t, s, store.ListQuery{TenantID: TenantA, Types: []string{"Recipient"}, Limit: limit})
		if !slices.Equal(ids(got), ids(all)) {
			t.Errorf("pages of %d give %v, want %v", limit, names(got), names(all))
		}
	}
	desc := listAll(t, s, store.ListQuery{TenantID: TenantA, Types: []string{"Recipient"}, Desc: true, Limit: 10})
	if slices.Reverse(desc); !slices.Equal(ids(desc), ids(all)) {
		t.Errorf("descending pages are not the reverse")
	}
	if n, err := s.Count(ctx, store.ListQuery{TenantID: TenantA, Types: []string{"Recipient"}, Limit: 3, After: "x"}); n != 57 || err != nil {
		t.Errorf("Count = %d, %v", n, err)
	}
	if got := listAll(t, s, store.ListQuery{TenantID: TenantA, Limit: 10}); len(got) != 58 {
		t.Errorf("all types: %d objects, want 58", len(got))
	}
	if got := listAll(t, s, store.ListQuery{TenantID: TenantA, Types: []string{"AcceptedDomain", "Recipient"}, Limit: 10}); len(got) != 58 {
		t.Errorf("two types: %d objects, want 58", len(got))
	}
	if got := listAll(t, s, store.ListQuery{TenantID: TenantA, Types: []string{"Nope"}}); len(got) != 0 {
		t.Errorf("unknown type lists %v", names(got))
	}
	if _, _, err := s.List(ctx, store.ListQuery{TenantID: TenantA, After: "garbage!"}); !errors.Is(err, store.ErrBadCursor) {
		t.Errorf("bad cursor: %v, want ErrBadCursor", err)
	}
}

// testCursorStability: objects created or deleted between pages neither repeat nor hide the
// objects that were there all along.
func testCursorStability(t *testing.T, s store.Store) {
	ctx := context.Background()
	var kept []string
	for i := range 40 {
		o := mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Recipient", Name: fmt.Sprintf("m%03d", i*10)})
		kept = append(kept, o.ID)
	}
	q := store.ListQuery{TenantID: TenantA, Limit: 6}
	seen := map[string]int{}
	for round := 0; ; round++ {
		page, next, err := s.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page {
			seen[o.ID]++
		}
		if next == "" {
			break
		}
		q.After = next
		// Between pages: a new object before the cursor, one after it, and a deletion ahead.
		mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Recipient", Name: fmt.Sprintf("a%03d", round)})
		mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Recipient", Name: fmt.Sprintf("m%03d", round*10+5)})
		if round == 2 {
			if err := s.Delete(ctx, TenantA, kept[39]); err != nil {
				t.Fatal(err)
			}
			kept = kept[:39]
		}
	}
	for _, id := range kept {
		if seen[id] != 1 {
			t.Errorf("object %s listed %d times", id, seen[id])
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("object %s listed %d times", id, n)
		}
	}
}

func testListOrderBy(t *testing.T, s store.Store) {
	ctx := context.Background()
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 30 {
		props := map[string]any{"Size": int64((i * 7) % 10)}
		if i%5 == 0 {
			props = map[string]any{} // no Size: first in ascending order
		}
		mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Recipient", Name: fmt.Sprintf("n%02d", i), Props: props,
			WhenCreated: base.Add(time.Duration((i*13)%30) * time.Hour)})
	}
	for _, desc := range []bool{false, true} {
		for _, by := range []string{"Size", store.FieldWhenCreated, store.FieldID, store.FieldName} {
			got := listAll(t, s, store.ListQuery{TenantID: TenantA, OrderBy: by, Desc: desc, Limit: 4})
			if len(got) != 30 {
				t.Errorf("order by %s: %d objects", by, len(got))
				continue
			}
			less := func(a, b store.Object) int {
				var c int
				switch by {
				case "Size":
					av, aok := a.Props["Size"].(int64)
					bv, bok := b.Props["Size"].(int64)
					c = compareBool(aok, bok)
					if c == 0 {
						c = int(av - bv)
					}
				case store.FieldWhenCreated:
					c = a.WhenCreated.Compare(b.WhenCreated)
				case store.FieldName:
					c = strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
				}
				if c == 0 {
					c = strings.Compare(a.ID, b.ID)
				}
				if desc {
					c = -c
				}
				return c
			}
			if !slices.IsSortedFunc(got, less) {
				t.Errorf("order by %s desc=%v: %v", by, desc, names(got))
			}
		}
	}
	for _, by := range []string{"@Nope", "Bad\"Name", "nul\x00"} {
		if _, _, err := s.List(ctx, store.ListQuery{TenantID: TenantA, OrderBy: by}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("order by %q: %v, want ErrInvalid", by, err)
		}
		if _, _, err := s.List(ctx, store.ListQuery{TenantID: TenantA, In: []store.PropIn{{Prop: by, Values: []string{"x"}}}}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("In on %q: %v, want ErrInvalid", by, err)
		}
	}
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// testListHugeIn: lists of any length, never one SQL variable per element.
func testListHugeIn(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Recipient", Name: "shared", Props: map[string]any{"RecipientTypeDetails": "SharedMailbox"}})
	mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Recipient", Name: "user", Props: map[string]any{"RecipientTypeDetails": "UserMailbox"}})
	many := make([]string, hugeList)
	for i := range many {
		many[i] = fmt.Sprintf("Type%d", i)
	}
	many[len(many)-1] = "sharedmailbox"
	page, _, err := s.List(ctx, store.ListQuery{TenantID: TenantA, In: []store.PropIn{{Prop: "RecipientTypeDetails", Values: many}}})
	if err != nil || len(page) != 1 || page[0].Name != "shared" {
		t.Errorf("In with %d values: %v, %v", len(many), names(page), err)
	}
	types := append(slices.Clone(many), "Recipient")
	page, _, err = s.List(ctx, store.ListQuery{TenantID: TenantA, Types: types})
	if err != nil || len(page) != 2 {
		t.Errorf("Types with %d values: %v, %v", len(types), names(page), err)
	}
	if n, err := s.Count(ctx, store.ListQuery{TenantID: TenantA, Types: types, In: []store.PropIn{{Prop: "RecipientTypeDetails", Values: many}}}); n != 1 || err != nil {
		t.Errorf("Count = %d, %v", n, err)
	}
	page, _, err = s.List(ctx, store.ListQuery{TenantID: TenantA, In: []store.PropIn{{Prop: "RecipientTypeDetails", Values: nil}}})
	if err != nil || len(page) != 0 {
		t.Errorf("In with no values: %v, %v", names(page), err)
	}
}

func testUpdateAtomicity(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := mustCreate(t, s, recipient(TenantA, "Carol", "carol", "carol@contoso.com"))
	refusal := errors.New("refused by the handler")
	_, err := s.Update(ctx, TenantA, o.ID, func(o *store.Object) error {
		o.Props["Alias"] = "changed"
		o.Keys = nil
		return refusal
	})
	if err != refusal {
		t.Errorf("fn's error came back as %v", err)
	}
	if got := mustGet(t, s, TenantA, o.ID); got.Props["Alias"] != "carol" || got.Version != 1 || len(got.Keys) != 3 {
		t.Errorf("a refused Update wrote %+v", got)
	}
	for name, change := range map[string]func(*store.Object){
		"ID":       func(o *store.Object) { o.ID = uuid.NewString() },
		"Type":     func(o *store.Object) { o.Type = "Other" },
		"TenantID": func(o *store.Object) { o.TenantID = TenantB },
	} {
		if _, err := s.Update(ctx, TenantA, o.ID, func(o *store.Object) error { change(o); return nil }); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("changing %s: %v, want ErrInvalid", name, err)
		}
	}
	// Case of the ID is no change.
	if _, err := s.Update(ctx, TenantA, o.ID, func(o *store.Object) error { o.ID = strings.ToUpper(o.ID); return nil }); err != nil {
		t.Errorf("upper-case ID: %v", err)
	}
	// Keys dropped by an Update are free; keys added are taken.
	_, err = s.Update(ctx, TenantA, o.ID, func(o *store.Object) error {
		o.Keys = recipientKeys("Carol", "carol", []string{"carol.new@contoso.com"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, recipient(TenantA, "Other", "other", "carol@contoso.com"))
	_, err = s.Create(ctx, recipient(TenantA, "Other2", "other2", "carol.new@contoso.com"))
	conflict(t, err, store.SpaceProxy, mustGet(t, s, TenantA, o.ID))
}

func testTx(t *testing.T, s store.Store) {
	ctx := context.Background()
	group := mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Recipient", Name: "Group"})
	member := mustCreate(t, s, recipient(TenantA, "Member", "member"))
	// Add-DistributionGroupMember: the member exists, then the group changes.
	err := s.Tx(ctx, func(tx store.Objects) error {
		found, err := tx.Resolve(ctx, TenantA, []string{"Recipient"}, []string{spaceAlias}, "MEMBER")
		if err != nil || len(found) != 1 {
			return fmt.Errorf("resolve member: %v, %v", found, err)
		}
		_, err = tx.Update(ctx, TenantA, group.ID, func(o *store.Object) error {
			o.Refs = append(o.Refs, store.Ref{Name: "Member", ID: found[0].ID})
			return nil
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if g := mustGet(t, s, TenantA, group.ID); len(g.Refs) != 1 || g.Refs[0].ID != member.ID {
		t.Errorf("group refs %v", g.Refs)
	}
	// A failing transaction keeps none of its writes; its reads saw them.
	refusal := errors.New("later step failed")
	err = s.Tx(ctx, func(tx store.Objects) error {
		o := mustCreate(t, tx, recipient(TenantA, "Temp", "temp", "temp@contoso.com"))
		if got := mustGet(t, tx, TenantA, o.ID); got.Name != "Temp" {
			t.Errorf("tx does not see its own create")
		}
		if page, _, err := tx.List(ctx, store.ListQuery{TenantID: TenantA}); err != nil || len(page) != 3 {
			t.Errorf("tx List = %v, %v", names(page), err)
		}
		if err := tx.Delete(ctx, TenantA, member.ID); err != nil {
			t.Error(err)
		}
		return refusal
	})
	if err != refusal {
		t.Errorf("Tx returned %v, want fn's error", err)
	}
	if found, _ := s.Resolve(ctx, TenantA, nil, nil, "temp"); len(found) != 0 {
		t.Errorf("rolled-back create kept: %v", names(found))
	}
	mustGet(t, s, TenantA, member.ID)
	if g := mustGet(t, s, TenantA, group.ID); len(g.Refs) != 1 {
		t.Errorf("rolled-back delete changed the group: %v", g.Refs)
	}
	// A key conflict inside a transaction fails it.
	err = s.Tx(ctx, func(tx store.Objects) error {
		mustCreate(t, tx, recipient(TenantA, "Fresh", "fresh"))
		_, err := tx.Create(ctx, recipient(TenantA, "Member", "member2"))
		return err
	})
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("conflict in Tx: %v", err)
	}
	if found, _ := s.Resolve(ctx, TenantA, nil, nil, "fresh"); len(found) != 0 {
		t.Errorf("create before the conflict kept: %v", names(found))
	}
}

func testRefs(t *testing.T, s store.Store) {
	ctx := context.Background()
	mailbox := mustCreate(t, s, recipient(TenantA, "Mailbox", "mbx"))
	trustee := mustCreate(t, s, recipient(TenantA, "Trustee", "trustee"))
	other := mustCreate(t, s, recipient(TenantB, "Elsewhere", "elsewhere"))
	if _, err := s.Create(ctx, store.Object{TenantID: TenantA, Type: "Permission", Refs: []store.Ref{{Name: "Mailbox", ID: uuid.NewString(), Cascade: true}}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("reference to a missing object: %v, want ErrNotFound", err)
	}
	if _, err := s.Create(ctx, store.Object{TenantID: TenantA, Type: "Permission", Refs: []store.Ref{{Name: "Mailbox", ID: other.ID}}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("reference to another tenant's object: %v, want ErrNotFound", err)
	}
	if _, err := s.Create(ctx, store.Object{TenantID: TenantA, Type: "Permission", Refs: []store.Ref{{Name: "", ID: mailbox.ID}}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("reference without a name: %v, want ErrInvalid", err)
	}
	perm := func(m, tr store.Object) store.Object {
		return mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Permission", Name: m.Name + "/" + tr.Name,
			Props: map[string]any{"AccessRights": []string{"FullAccess"}},
			Refs:  []store.Ref{{Name: "Mailbox", ID: strings.ToUpper(m.ID), Cascade: true}, {Name: "Trustee", ID: tr.ID, Cascade: true}}})
	}
	p1 := perm(mailbox, trustee)
	p2 := perm(trustee, mailbox)
	if p1.Refs[0].ID != mailbox.ID {
		t.Errorf("ref ID not canonical: %v", p1.Refs)
	}
	group := mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Recipient", Name: "Group",
		Refs: []store.Ref{{Name: "Member", ID: mailbox.ID}, {Name: "Member", ID: trustee.ID}, {Name: "ManagedBy", ID: mailbox.ID}}})
	// A permission on a permission: cascades follow chains.
	note := mustCreate(t, s, store.Object{TenantID: TenantA, Type: "Note", Name: "note", Refs: []store.Ref{{Name: "On", ID: p1.ID, Cascade: true}}})

	on := listAll(t, s, store.ListQuery{TenantID: TenantA, Types: []string{"Permission"}, RefersTo: &store.RefQuery{Name: "Mailbox", ID: mailbox.ID}})
	if !slices.Equal(ids(on), []string{p1.ID}) {
		t.Errorf("permissions on the mailbox: %v", names(on))
	}
	memberOf := listAll(t, s, store.ListQuery{TenantID: TenantA, RefersTo: &store.RefQuery{ID: strings.ToUpper(mailbox.ID)}})
	if !slices.Equal(names(memberOf), []string{"Group", "Mailbox/Trustee", "Trustee/Mailbox"}) {
		t.Errorf("everything naming the mailbox: %v", names(memberOf))
	}
	if n, _ := s.Count(ctx, store.ListQuery{TenantID: TenantA, RefersTo: &store.RefQuery{Name: "Member", ID: mailbox.ID}}); n != 1 {
		t.Errorf("groups of the mailbox: %d", n)
	}

	if err := s.Delete(ctx, TenantA, mailbox.ID); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []store.Object{p1, p2, note} {
		if _, err := s.Get(ctx, TenantA, gone.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s %q outlived the mailbox: %v", gone.Type, gone.Name, err)
		}
	}
	g := mustGet(t, s, TenantA, group.ID)
	if len(g.Refs) != 1 || g.Refs[0].ID != trustee.ID || g.Version != 2 {
		t.Errorf("group after its member's deletion: refs %v, version %d", g.Refs, g.Version)
	}
	mustGet(t, s, TenantA, trustee.ID)
	if n, _ := s.Count(ctx, store.ListQuery{TenantID: TenantA, RefersTo: &store.RefQuery{ID: mailbox.ID}}); n != 0 {
		t.Errorf("%d objects still refer to the deleted mailbox", n)
	}
	// Refs changed by Update are checked and indexed like those of Create.
	if _, err := s.Update(ctx, TenantA, group.ID, func(o *store.Object) error {
		o.Refs = append(o.Refs, store.Ref{Name: "Member", ID: mailbox.ID})
		return nil
	}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Update adding a reference to a deleted object: %v", err)
	}
	if _, err := s.Update(ctx, TenantA, group.ID, func(o *store.Object) error {
		o.Refs = []store.Ref{{Name: "Owner", ID: trustee.ID}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Count(ctx, store.ListQuery{TenantID: TenantA, RefersTo: &store.RefQuery{Name: "Member", ID: trustee.ID}}); n != 0 {
		t.Errorf("a removed reference still lists")
	}
	if n, _ := s.Count(ctx, store.ListQuery{TenantID: TenantA, RefersTo: &store.RefQuery{Name: "Owner", ID: trustee.ID}}); n != 1 {
		t.Errorf("an added reference does not list")
	}
}

func testCreateMany(t *testing.T, s store.Store) {
	ctx := context.Background()
	seq := func(n int, prefix string) func(func(store.Object) bool) {
		return func(yield func(store.Object) bool) {
			for i := range n {
				o := recipient(TenantA, fmt.Sprintf("%s%04d", prefix, i), fmt.Sprintf("%s%04d", prefix, i), fmt.Sprintf("%s%04d@contoso.com", prefix, i))
				if !yield(o) {
					return
				}
			}
		}
	}
	if err := s.CreateMany(ctx, seq(700, "bulk")); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Count(ctx, store.ListQuery{TenantID: TenantA}); n != 700 {
		t.Errorf("%d objects after CreateMany, want 700", n)
	}
	found, err := s.Resolve(ctx, TenantA, nil, []string{store.SpaceProxy}, "BULK0699@contoso.com")
	if err != nil || len(found) != 1 || found[0].Version != 1 {
		t.Errorf("bulk object by address: %v, %v", found, err)
	}
	// Into a store that has objects, and all or none.
	dup := func(yield func(store.Object) bool) {
		for o := range seq(10, "more") {
			if !yield(o) {
				return
			}
		}
		yield(recipient(TenantA, "late", "late", "bulk0001@contoso.com"))
	}
	if err := s.CreateMany(ctx, dup); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("CreateMany with a taken address: %v", err)
	}
	if n, _ := s.Count(ctx, store.ListQuery{TenantID: TenantA}); n != 700 {
		t.Errorf("%d objects after a failed CreateMany, want 700", n)
	}
	if err := s.CreateMany(ctx, seq(10, "more")); err != nil {
		t.Fatal(err)
	}
	// Duplicates within one load into an empty store are refused too.
	s2tenant := TenantB
	twice := func(yield func(store.Object) bool) {
		if yield(recipient(s2tenant, "one", "one", "x@b.com")) {
			yield(recipient(s2tenant, "two", "two", "X@B.COM"))
		}
	}
	if err := s.CreateMany(ctx, twice); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("CreateMany with one address twice: %v", err)
	}
	if n, _ := s.Count(ctx, store.ListQuery{TenantID: TenantB}); n != 0 {
		t.Errorf("%d objects after a failed CreateMany", n)
	}
}

// The concurrency cases. They run the operations side by side and check the outcome; they
// time nothing.

func testConcurrentUpdates(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := mustCreate(t, s, recipient(TenantA, "Busy", "busy"))
	const n = 50
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Update(ctx, TenantA, o.ID, func(o *store.Object) error {
				o.Props[fmt.Sprintf("CustomAttribute%d", i)] = fmt.Sprintf("value %d", i)
				return nil
			})
		})
	}
	wg.Wait()
	got := mustGet(t, s, TenantA, o.ID)
	present := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("update %d: %v", i, errs[i])
		}
		if got.Props[fmt.Sprintf("CustomAttribute%d", i)] == fmt.Sprintf("value %d", i) {
			present++
		}
	}
	t.Logf("%d concurrent Updates of one object, each a different property: %d of %d present, version %d", n, present, n, got.Version)
	if present != n || got.Version != n+1 {
		t.Errorf("%d of %d changes present, version %d; want all, version %d", present, n, got.Version, n+1)
	}
}

func testConcurrentCreates(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Create(ctx, recipient(TenantA, "Same Name", fmt.Sprintf("alias%d", i), fmt.Sprintf("a%d@contoso.com", i)))
		})
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, store.ErrAlreadyExists):
			t.Errorf("a losing Create failed with %v, want ErrAlreadyExists", err)
		}
	}
	count, _ := s.Count(ctx, store.ListQuery{TenantID: TenantA})
	t.Logf("%d concurrent Creates of one Name: %d created, %d objects stored", n, created, count)
	if created != 1 || count != 1 {
		t.Errorf("%d created, %d stored; want exactly 1", created, count)
	}
}

// testConcurrentProxyChanges: two objects keep trying to take one address from each other;
// at no point do both hold it.
func testConcurrentProxyChanges(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, recipient(TenantA, "A", "a", "a@contoso.com"))
	b := mustCreate(t, s, recipient(TenantA, "B", "b", "b@contoso.com"))
	const contested = "shared@contoso.com"
	withAddr := func(self store.Object, take bool) func(*store.Object) error {
		return func(o *store.Object) error {
			addrs := []string{"SMTP:" + strings.ToLower(self.Name) + "@contoso.com"}
			if take {
				addrs = append(addrs, "smtp:"+contested)
			}
			o.Props["EmailAddresses"] = addrs
			o.Keys = recipientKeys(self.Name, strings.ToLower(self.Name), addrs)
			return nil
		}
	}
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	unexpected := 0
	for w := range workers {
		wg.Go(func() {
			self := a
			if w%2 == 1 {
				self = b
			}
			for i := range rounds {
				_, err := s.Update(ctx, TenantA, self.ID, withAddr(self, i%2 == 0))
				if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
					mu.Lock()
					unexpected++
					mu.Unlock()
					t.Errorf("update: %v", err)
				}
				found, err := s.Resolve(ctx, TenantA, nil, []string{store.SpaceProxy}, contested)
				if err != nil || len(found) > 1 {
					t.Errorf("address on %d objects: %v, %v", len(found), names(found), err)
				}
			}
		})
	}
	wg.Wait()
	holders := 0
	for _, o := range []store.Object{mustGet(t, s, TenantA, a.ID), mustGet(t, s, TenantA, b.ID)} {
		keys := map[string]bool{}
		for _, k := range o.Keys {
			keys[k.Space+"\x00"+strings.ToLower(k.Value)] = true
		}
		addrs := fmt.Sprint(o.Props["EmailAddresses"])
		if keys[store.SpaceProxy+"\x00"+contested] {
			holders++
			if !strings.Contains(addrs, contested) {
				t.Errorf("%s holds the key but its addresses are %s", o.Name, addrs)
			}
		} else if strings.Contains(addrs, contested) {
			t.Errorf("%s lists the address without its key", o.Name)
		}
	}
	found, _ := s.Resolve(ctx, TenantA, nil, []string{store.SpaceProxy}, contested)
	t.Logf("%d workers × %d address moves between two objects: %d holder(s) at the end (unexpected errors %d)", workers, rounds, len(found), unexpected)
	if len(found) != holders || holders > 1 {
		t.Errorf("%d objects resolve by the address, %d hold it", len(found), holders)
	}
}
