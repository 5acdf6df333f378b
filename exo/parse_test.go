package exo

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// mailboxPage is a 1000-record InvokeCommand page built from the emulator's golden mailbox.
func mailboxPage(tb testing.TB) []byte {
	tb.Helper()
	one, err := os.ReadFile("../emulator/exchange/testdata/mailbox.golden.json")
	if err != nil {
		tb.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, one); err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString(`{"@odata.context":"https://x/adminapi/beta/t/$metadata#Collection(Exchange.GenericHashTable)","adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":[],"value":[`)
	for i := range 1000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(compact.Bytes())
	}
	b.WriteString(`],"@odata.nextLink":"https://x/next"}`)
	return b.Bytes()
}

func BenchmarkDecodePage(b *testing.B) {
	data := mailboxPage(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		page, next, err := decodePage(bytes.NewReader(data))
		if err != nil || len(page.Records) != 1000 || next == "" {
			b.Fatalf("%v %d %q", err, len(page.Records), next)
		}
	}
}

// plain turns parsed values into what encoding/json gives, to compare the two parsers.
func plain(v any) any {
	switch x := v.(type) {
	case *Record:
		m := map[string]any{}
		for _, f := range x.Fields {
			m[f.Name] = plain(f.Value)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

func dropAnnotations(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.Contains(k, "@") {
				delete(x, k)
			} else {
				x[k] = dropAnnotations(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = dropAnnotations(e)
		}
	}
	return v
}

func checkAgainstEncodingJSON(t *testing.T, data []byte) {
	rec, err := parseRecord(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var want any
	werr := dec.Decode(&want)
	if werr == nil && !json.Valid(data) {
		werr = errorString("not valid JSON")
	}
	_, isObj := want.(map[string]any)
	if werr != nil || !isObj {
		if err == nil {
			t.Fatalf("parseRecord accepted %q, encoding/json did not (%v)", data, werr)
		}
		return
	}
	if err != nil {
		t.Fatalf("parseRecord refused %q: %v", data, err)
	}
	// Duplicate keys: encoding/json keeps the last; compare only when there are none.
	if got := plain(rec); !reflect.DeepEqual(got, dropAnnotations(want)) && !hasDuplicateKeys(rec) {
		t.Fatalf("parseRecord(%q) = %#v, want %#v", data, got, want)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

func hasDuplicateKeys(r *Record) bool {
	seen := map[string]bool{}
	for _, f := range r.Fields {
		if seen[f.Name] {
			return true
		}
		seen[f.Name] = true
		if sub, ok := f.Value.(*Record); ok && hasDuplicateKeys(sub) {
			return true
		}
	}
	return false
}

func TestParseRecordMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":"x\"y\\z\u00e9\n","b":[1,2.5e3,-0.1,true,false,null,{"c":{}}],"d@odata.type":"t"}`,
		`{"é":"ü","emoji":"\ud83d\ude00"}`, ` { "a" : [ ] } `, `{"a":1,}`, `{"a"}`, `[1]`, `{"a":01}`, `{"a":"\x01"}`,
		`{"a":1} x`, `{"a":tru}`, `{"a":"unterminated}`, `{"a":-}`, `{"big":123456789012345678901234567890}`,
	} {
		checkAgainstEncodingJSON(t, []byte(s))
	}
}

func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":"x\"y","b":[1,{"c":null}],"d@x":1}`, `{"a":1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstEncodingJSON(t, data)
	})
}
