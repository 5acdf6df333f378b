package tokencache

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func TestMerge3(t *testing.T) {
	tests := []struct {
		name               string
		base, ours, theirs string
		want               string
	}{
		{"both add",
			`{"AccessToken":{"s":1}}`,
			`{"AccessToken":{"s":1,"a":1}}`,
			`{"AccessToken":{"s":1,"b":1}}`,
			`{"AccessToken":{"a":1,"b":1,"s":1}}`},
		{"we remove, they add",
			`{"AccessToken":{"s":1,"x":1}}`,
			`{"AccessToken":{"s":1}}`,
			`{"AccessToken":{"s":1,"x":1,"b":1}}`,
			`{"AccessToken":{"b":1,"s":1}}`},
		{"they remove what we did not touch",
			`{"AccessToken":{"s":1,"x":1}}`,
			`{"AccessToken":{"s":1,"x":1,"a":1}}`,
			`{"AccessToken":{"s":1}}`,
			`{"AccessToken":{"a":1,"s":1}}`},
		{"both change one entry: ours wins",
			`{"RefreshToken":{"r":1}}`,
			`{"RefreshToken":{"r":2}}`,
			`{"RefreshToken":{"r":3}}`,
			`{"RefreshToken":{"r":2}}`},
		{"they change, we do not",
			`{"RefreshToken":{"r":1}}`,
			`{"RefreshToken":{"r":1},"Account":{"u":1}}`,
			`{"RefreshToken":{"r":3}}`,
			`{"RefreshToken":{"r":3},"Account":{"u":1}}`},
		{"no base: union, ours wins",
			``,
			`{"AccessToken":{"a":1,"s":2}}`,
			`{"AccessToken":{"b":1,"s":1}}`,
			`{"AccessToken":{"a":1,"b":1,"s":2}}`},
		{"file deleted: only our changes",
			`{"AccessToken":{"s":1}}`,
			`{"AccessToken":{"s":1,"a":1}}`,
			``,
			`{"AccessToken":{"a":1}}`},
		{"top-level scalars merge whole",
			`{"v":1}`,
			`{"v":1}`,
			`{"v":2,"w":true}`,
			`{"v":2,"w":true}`},
		{"theirs not JSON: ours",
			`{"AccessToken":{"s":1}}`,
			`{"AccessToken":{"a":1}}`,
			`not json`,
			`{"AccessToken":{"a":1}}`},
		{"section not an object: merged whole",
			`{"AccessToken":[1]}`,
			`{"AccessToken":[1,2]}`,
			`{"AccessToken":{"b":1}}`,
			`{"AccessToken":[1,2]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var base []byte
			if tt.base != "" {
				base = []byte(tt.base)
			}
			var theirs []byte
			if tt.theirs != "" {
				theirs = []byte(tt.theirs)
			}
			got := merge3(base, []byte(tt.ours), theirs)
			if !jsonEqual(got, []byte(tt.want)) {
				t.Errorf("merge3 = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMerge3KeepsMSALSectionOrder(t *testing.T) {
	got := merge3(nil,
		[]byte(`{"AppMetadata":{},"Account":{"a":1},"IdToken":{},"RefreshToken":{},"AccessToken":{},"zz":1}`),
		[]byte(`{"AccessToken":{"b":1}}`))
	want := `{"AccessToken":{"b":1},"RefreshToken":{},"IdToken":{},"Account":{"a":1},"AppMetadata":{},"zz":1}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(x, y)
}

func FuzzOpen(f *testing.F) {
	key := bytes.Repeat([]byte{1}, keyLen)
	good, _ := seal(key, []byte(`{"AccessToken":{}}`))
	f.Add(good)
	f.Add([]byte("EXOCTLTC\x01"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, file []byte) {
		plain, err := open(key, file)
		if err == nil {
			again, err := seal(key, plain)
			if err != nil {
				t.Fatal(err)
			}
			if back, err := open(key, again); err != nil || !bytes.Equal(back, plain) {
				t.Fatalf("reseal round trip failed: %v", err)
			}
		}
	})
}

func FuzzMerge3(f *testing.F) {
	f.Add([]byte(`{"AccessToken":{"s":1}}`), []byte(`{"AccessToken":{"a":1}}`), []byte(`{"AccessToken":{"b":1}}`))
	f.Add([]byte(``), []byte(`{}`), []byte(`null`))
	f.Fuzz(func(t *testing.T, base, ours, theirs []byte) {
		out := merge3(base, ours, theirs)
		if json.Valid(ours) && !json.Valid(out) {
			t.Fatalf("merge of valid JSON produced invalid %q", out)
		}
	})
}
