package exchange

import (
	"strings"
	"testing"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// TestSchemas: every schema and tenant default loads, and every default prints through its
// schema with the properties in schema order, the computed ones filled in.
func TestSchemas(t *testing.T) {
	t.Parallel()
	ss, err := builtinSchemas()
	if err != nil {
		t.Fatal(err)
	}
	defs, err := tenantDefaults()
	if err != nil {
		t.Fatal(err)
	}
	tenant := store.Tenant{ID: fabrikamID, Name: fabrikamName, DisplayName: "Fabrikam"}
	srv := New(Config{Store: testStore})
	g := srv.org(tenant)
	n := 0
	for cls, list := range defs {
		for _, d := range list {
			o, err := d.object(tenant, g)
			if err != nil {
				t.Fatalf("%s: %v", cls, err)
			}
			obj := d.schema.Object(nil, &o, g)
			if len(obj) != len(d.schema.Props) {
				t.Fatalf("%s %s: %d properties, schema has %d", d.schema.Name, o.Name, len(obj), len(d.schema.Props))
			}
			if v, _ := obj.Get("Name"); v != o.Name {
				t.Errorf("%s %s: Name %v", d.schema.Name, o.Name, v)
			}
			if v, ok := obj.Get("DistinguishedName"); ok && !strings.HasPrefix(v.(string), "CN=") {
				t.Errorf("%s %s: DistinguishedName %v", d.schema.Name, o.Name, v)
			}
			n++
		}
	}
	if n < 40 || len(ss.All()) < 30 {
		t.Errorf("%d tenant defaults, %d schemas", n, len(ss.All()))
	}
	if d, _ := defs["DkimSigningConfig"]; len(d) != 1 {
		t.Fatal("no DKIM default")
	} else if o, _ := d[0].object(tenant, g); o.Props["Selector1CNAME"] != "selector1-fabrikam-onmicrosoft-com._domainkey.fabrikam.onmicrosoft.com" {
		t.Errorf("DKIM selector %v", o.Props["Selector1CNAME"])
	}
}

// TestWords: confirmation messages spell type names as the service does.
func TestWords(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"TransportRule": "transport rule", "AcceptedDomain": "accepted domain",
		"HostedContentFilterPolicy": "hosted content filter policy", "DkimSigningConfig": "dkim signing config"} {
		if got := words(in); got != want {
			t.Errorf("words(%s) = %q, want %q", in, got, want)
		}
	}
}
