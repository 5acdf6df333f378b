package store

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
)

func schemaOf(t *testing.T, s *SQLite) map[string]string {
	t.Helper()
	rows, err := s.db.Query(`SELECT name, coalesce(sql, '') FROM sqlite_master`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var name, sql string
		if err := rows.Scan(&name, &sql); err != nil {
			t.Fatal(err)
		}
		m[name] = sql
	}
	return m
}

func mustPutTenant(t *testing.T, s Store) {
	t.Helper()
	if err := s.PutTenant(context.Background(), Tenant{ID: DemoTenantID, Name: DemoTenantName, DisplayName: "Contoso"}); err != nil {
		t.Fatal(err)
	}
}

// FuzzJSONColumns holds the column encoder and decoders to encoding/json.
func FuzzJSONColumns(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"b","n":1.5,"t":true,"f":false,"z":null,"l":["x","y"],"o":{"k":[1,{"q":"r"}]}}`,
		`["SMTP:a@b","smtp:c@d"]`, `[]`, `null`, `{"a":"\u00e9\n"}`, `{"a":1,"a":2}`, `{"a":1e400}`, `{"a":-0}`,
		`{"a":"é"}`, "{\"a\":\"\xff\"}", `{"a":01}`, `{"a":1.}`, `[1]`, ` { "a" : [ ] } `, `{"<&>":"<&>"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want map[string]any
		werr := json.Unmarshal([]byte(s), &want)
		got, gerr := decodeExtra(s, interner{})
		if (werr == nil) != (gerr == nil) || werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeExtra(%q) = %#v, %v; encoding/json: %#v, %v", s, got, gerr, want, werr)
		}
		if werr == nil {
			j, jerr := json.Marshal(want)
			a, aerr := appendJSON(nil, want)
			if (jerr == nil) != (aerr == nil) || string(j) != string(a) {
				t.Fatalf("appendJSON(%#v) = %s, %v; encoding/json: %s, %v", want, a, aerr, j, jerr)
			}
		}
		var wantList []string
		werr = json.Unmarshal([]byte(s), &wantList)
		gotList, gerr := decodeStrings(s, nil)
		if (werr == nil) != (gerr == nil) || werr == nil && !reflect.DeepEqual(gotList, wantList) {
			t.Fatalf("decodeStrings(%q) = %#v, %v; encoding/json: %#v, %v", s, gotList, gerr, wantList, werr)
		}
		if werr == nil {
			j, _ := json.Marshal(wantList)
			a, _ := appendJSON(nil, wantList)
			if string(j) != string(a) {
				t.Fatalf("appendJSON(%#v) = %s; encoding/json: %s", wantList, a, j)
			}
		}
	})
}

// TestBulkLoadObjectsSchema: CreateMany into empty tables leaves the schema the migrations
// make, and a sound database.
func TestBulkLoadObjectsSchema(t *testing.T) {
	ctx := context.Background()
	fresh := openTemp(t)
	want := schemaOf(t, fresh)
	for _, ix := range objectIndexes {
		if want[ix.name] != ix.sql {
			t.Errorf("index %s: migrations say\n%s\nthe bulk load says\n%s", ix.name, want[ix.name], ix.sql)
		}
	}
	loaded := openTemp(t)
	mustPutTenant(t, loaded)
	var tenant string
	if ts, err := loaded.Tenants(ctx); err != nil || len(ts) != 1 {
		t.Fatal(ts, err)
	} else {
		tenant = ts[0].ID
	}
	objs := func(yield func(Object) bool) {
		first := Object{TenantID: tenant, Type: "Recipient", ID: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", Name: "first",
			Keys: []Key{{Space: "Recipient.Name", Value: "first"}}}
		if !yield(first) {
			return
		}
		yield(Object{TenantID: tenant, Type: "Permission", Name: "on first", Refs: []Ref{{Name: "Mailbox", ID: first.ID, Cascade: true}}})
	}
	if err := loaded.CreateMany(ctx, objs); err != nil {
		t.Fatal(err)
	}
	if got := schemaOf(t, loaded); !reflect.DeepEqual(got, want) {
		t.Errorf("schema after a bulk load:\n%v\nwant\n%v", got, want)
	}
	var bad string
	if err := loaded.db.QueryRow(`PRAGMA integrity_check`).Scan(&bad); err != nil || bad != "ok" {
		t.Errorf("integrity_check = %q, %v", bad, err)
	}
	rows, err := loaded.db.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Error("foreign key violations after a bulk load")
	}
	if err := loaded.Delete(ctx, tenant, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"); err != nil {
		t.Fatal(err)
	}
	if n, _ := loaded.Count(ctx, ListQuery{TenantID: tenant}); n != 0 {
		t.Errorf("%d objects after deleting the one the other refers to with Cascade", n)
	}
}
