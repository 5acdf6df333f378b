package exo

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// mailboxPage is a 1000-record InvokeCommand page built from the emulator's golden mailbox.
func mailboxPage(tb testing.TB) []byte { return mailboxPageN(tb, 1000) }

// mailboxPageN is such a page of n records.
func mailboxPageN(tb testing.TB, n int) []byte {
	tb.Helper()
	one, err := os.ReadFile("../emulator/internal/exchange/testdata/mailbox.golden.json")
	if err != nil {
		tb.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, one); err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString(`{"@odata.context":"https://x/adminapi/beta/t/$metadata#Collection(Exchange.GenericHashTable)","adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":[],"value":[`)
	for i := range n {
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
		page, next, _, err := decodePage(bytes.NewReader(data), nil)
		if err != nil || len(page.Records) != 1000 || next == "" {
			b.Fatalf("%v %d %q", err, len(page.Records), next)
		}
	}
}

// BenchmarkDecodePageStream decodes record by record, as exoctl run does.
func BenchmarkDecodePageStream(b *testing.B) {
	data := mailboxPage(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		_, next, _, err := decodePage(bytes.NewReader(data), func(*Record) error { n++; return nil })
		if err != nil || n != 1000 || next == "" {
			b.Fatalf("%v %d %q", err, n, next)
		}
	}
}

// BenchmarkRawMessages is the baseline: encoding/json cutting the page into raw records.
func BenchmarkRawMessages(b *testing.B) {
	data := mailboxPage(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var page struct {
			Value []json.RawMessage `json:"value"`
			Next  string            `json:"@odata.nextLink"`
		}
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&page); err != nil || len(page.Value) != 1000 {
			b.Fatal(err)
		}
	}
}

// wholeRecords decodes a page the way exoctl did before it streamed: encoding/json cuts the
// records out, parseRecord reads each.
func wholeRecords(t *testing.T, data []byte) ([]*Record, string) {
	t.Helper()
	var page struct {
		Value []json.RawMessage `json:"value"`
		Next  string            `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(data, &page); err != nil {
		t.Fatal(err)
	}
	var recs []*Record
	for _, raw := range page.Value {
		r, err := parseRecord(raw)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs, page.Next
}

// TestDecodePageStreams decodes pages from readers that hand out one byte, or half of what
// is asked, at a time: the records, link and annotations are those of the whole page.
func TestDecodePageStreams(t *testing.T) {
	pages := [][]byte{
		mailboxPageN(t, 100),
		[]byte(`{"value":[]}`),
		[]byte(` {"@adminapi.warnings":["w1",{"A":1}] , "value" : [ {"a":1} , {"b":"x\"}y","c":[1,2,{"d":"}"}]} ] ,"@odata.nextLink":"n\u00e9","@adminapi.errors":["e"],"@adminapi.confirmationmessage":"c","other":{"x":[true,false,null,-1.5e3]}} `),
		[]byte(`{"value":[{"s":"` + strings.Repeat("\\", 40000) + `\"` + strings.Repeat("é", 50000) + `"}]}`),
	}
	for i, data := range pages {
		want, wantNext := wholeRecords(t, data)
		readers := map[string]func() io.Reader{
			"whole":   func() io.Reader { return bytes.NewReader(data) },
			"onebyte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
			"half":    func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
		}
		if len(data) > 100000 {
			delete(readers, "onebyte")
		}
		for name, rd := range readers {
			for _, stream := range []bool{false, true} {
				var got []*Record
				var each func(*Record) error
				if stream {
					each = func(r *Record) error { got = append(got, r); return nil }
				}
				page, next, n, err := decodePage(rd(), each)
				if err != nil {
					t.Fatalf("page %d, %s reader: %v", i, name, err)
				}
				if !stream {
					got = page.Records
				} else if len(page.Records) != 0 || n != len(got) {
					t.Fatalf("page %d, %s reader: streamed %d (counted %d), page holds %d", i, name, len(got), n, len(page.Records))
				}
				if !reflect.DeepEqual(plainAll(got), plainAll(want)) || next != wantNext {
					t.Fatalf("page %d, %s reader, stream %v: records or link differ (next %q, want %q)", i, name, stream, next, wantNext)
				}
				if i == 2 && (strings.Join(page.Warnings, "|") != `w1|{"A":1}` || strings.Join(page.Errors, "|") != "e" || page.ConfirmationMessage != "c") {
					t.Fatalf("page %d: annotations %q %q %q", i, page.Warnings, page.Errors, page.ConfirmationMessage)
				}
			}
		}
	}
}

func plainAll(recs []*Record) []any {
	out := make([]any, len(recs))
	for i, r := range recs {
		out[i] = plain(r)
	}
	return out
}

// TestDecodePageRefusesBrokenAnswers cuts a page at every byte and breaks it in typical ways:
// each is refused with an error, none panics or passes as a page.
func TestDecodePageRefusesBrokenAnswers(t *testing.T) {
	good := `{"@adminapi.warnings":[],"value":[{"a":"x,}]","b":[1,{"c":null}]},{"d":true}],"@odata.nextLink":"n"}`
	if _, _, _, err := decodePage(strings.NewReader(good), nil); err != nil {
		t.Fatal(err)
	}
	for i := range len(good) - 1 {
		if _, _, _, err := decodePage(iotest.OneByteReader(strings.NewReader(good[:i])), nil); err == nil {
			t.Errorf("a page cut at byte %d decoded: %q", i, good[:i])
		}
	}
	for _, bad := range []string{
		`[]`, `{"value":{}}`, `{"value":[1]}`, `{"value":[{"a":1}}`, `{"value":[{"a":1} {"b":2}]}`, `{"value":[]} x`,
		`{"value":[{"a":tru}]}`, `{"value":[{"a":""}]}`, `{value:[]}`, `{"value":[],}`, `{"a":1 "b":2}`,
		`{"@odata.nextLink":"n"x}`, `{"value":[{"a":1}]`,
	} {
		if _, _, _, err := decodePage(strings.NewReader(bad), nil); err == nil {
			t.Errorf("decodePage(%q) succeeded", bad)
		}
	}
	// The reader's own error is what is reported.
	_, _, _, err := decodePage(iotest.TimeoutReader(iotest.OneByteReader(strings.NewReader(good))), nil)
	if !errors.Is(err, iotest.ErrTimeout) {
		t.Errorf("a failing reader gave %v", err)
	}
	// each's error stops the page and comes back as it is.
	stop := errors.New("stop")
	n := 0
	_, _, delivered, err := decodePage(strings.NewReader(good), func(*Record) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 || delivered != 0 {
		t.Errorf("each failing: %v after %d calls, %d delivered", err, n, delivered)
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

// checkPageRecord puts data in a page as its one record: decoded from a stream one byte at a
// time it is what parseRecord makes of it, and refused when parseRecord refuses it.
func checkPageRecord(t *testing.T, data []byte) {
	want, werr := parseRecord(data)
	page := `{"value":[` + string(data) + `]}`
	var got *Record
	_, _, _, err := decodePage(iotest.OneByteReader(strings.NewReader(page)), func(r *Record) error { got = r; return nil })
	if werr != nil {
		if err == nil && !json.Valid([]byte(page)) {
			t.Fatalf("decodePage accepted %q, parseRecord did not (%v)", page, werr)
		}
		return
	}
	if err != nil {
		t.Fatalf("decodePage refused %q: %v", page, err)
	}
	if !reflect.DeepEqual(plain(got), plain(want)) {
		t.Fatalf("decodePage(%q) = %#v, want %#v", page, plain(got), plain(want))
	}
}

func TestParseRecordMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":"x\"y\\z\u00e9\n","b":[1,2.5e3,-0.1,true,false,null,{"c":{}}],"d@odata.type":"t"}`,
		`{"é":"ü","emoji":"\ud83d\ude00"}`, ` { "a" : [ ] } `, `{"a":1,}`, `{"a"}`, `[1]`, `{"a":01}`, `{"a":"\x01"}`,
		`{"a":1} x`, `{"a":tru}`, `{"a":"unterminated}`, `{"a":-}`, `{"big":123456789012345678901234567890}`,
	} {
		checkAgainstEncodingJSON(t, []byte(s))
		checkPageRecord(t, []byte(s))
	}
}

func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":"x\"y","b":[1,{"c":null}],"d@x":1}`, `{"a":1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstEncodingJSON(t, data)
		checkPageRecord(t, data)
	})
}
