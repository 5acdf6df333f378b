package capture

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	t.Parallel()
	want := `{"a":1,"b@data.type":"System.Guid","b":"g","c":[{"x":true,"y":null}],"d":null,"e":[]}`
	for _, tc := range []struct {
		name, got string
		opts      []Option
		diffs     []string
	}{
		{"same shape, other values", `{"a":2,"b@data.type":"System.Guid","b":"h","c":[{"x":false,"y":"set"},{"x":true,"y":null}],"d":"now set","e":["s"]}`, nil, nil},
		{"missing and extra keys", `{"a":1,"b@data.type":"System.Guid","b":"g","c":[],"z":0}`, nil,
			[]string{`$: missing "d"`, `$: missing "e"`, `$: extra "z"`}},
		{"another type", `{"a":"1","b@data.type":"System.Guid","b":"g","c":[{"x":1,"y":null}],"d":null,"e":{}}`, nil,
			[]string{`$.a: string, want number`, `$.c[0].x: number, want boolean`, `$.e: object, want array`}},
		{"another order", `{"b@data.type":"System.Guid","b":"g","a":1,"c":[],"d":null,"e":[]}`, nil,
			[]string{`$: "a" comes after "b@data.type", want before`}},
		{"order ignored", `{"b@data.type":"System.Guid","b":"g","a":1,"c":[],"d":null,"e":[]}`, []Option{Unordered()}, nil},
		{"no annotation for a null", `{"a":1,"b":null,"c":[],"d":null,"e":[]}`, nil, nil},
		{"annotation missing for a value", `{"a":1,"b":"g","c":[],"d":null,"e":[]}`, nil, []string{`$: missing "b@data.type"`}},
		{"an element of another shape", `{"a":1,"b@data.type":"System.Guid","b":"g","c":[{"x":true,"y":null},{"y":1}],"d":null,"e":[]}`, nil,
			[]string{`$.c[1]: missing "x"`}},
		{"skipped part", `{"a":1,"b@data.type":"System.Guid","b":"g","c":[{"q":1}],"d":null,"e":[]}`, []Option{Skip("$.c[0]")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Diff([]byte(want), []byte(tc.got), tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.diffs) {
				t.Errorf("Diff:\n got %q\nwant %q", got, tc.diffs)
			}
		})
	}
	if _, err := Diff([]byte(want), []byte(`{"a":`)); err == nil {
		t.Error("Diff of a cut answer: no error")
	}
}

// notJSON are the captures whose body the service sent as something else than JSON.
var notJSON = map[string]bool{"invoke-error-forbidden-nul": true}

// TestCapturesLoad reads every capture: a status, and a body that is one JSON value (what the
// other tests compare) unless notJSON says otherwise, with no Content-Length left to contradict
// a replayed body.
func TestCapturesLoad(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(Dir(), "*.http"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures in %s: %v", Dir(), err)
	}
	readme, err := os.ReadFile(filepath.Join(Dir(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".http")
		a, err := Load(name)
		if err != nil {
			t.Error(err)
			continue
		}
		if a.Status < 200 || a.Status > 599 || json.Valid(a.Body) == notJSON[name] || a.Header.Get("Content-Length") != "" {
			t.Errorf("%s: status %d, valid JSON %v, Content-Length %q", name, a.Status, json.Valid(a.Body), a.Header.Get("Content-Length"))
		}
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("%s is not described in %s/README.md (source, what was scrubbed, what it proves)", name, Dir())
		}
	}
}
