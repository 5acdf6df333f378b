package exchange

import (
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// The Get-EXO* entity sets as CIPP and the module read them: GET with $select, $filter (OPATH),
// $top, @odata.nextLink paging, a key, a base64 key with isEncoded=true, a bound function.
func TestEntitySets(t *testing.T) {
	e := newEnv(t, nil)
	base := e.srv.URL + "/adminapi/beta/" + store.DemoTenantName
	get := func(path string, page int) answer {
		t.Helper()
		return e.do(call{method: http.MethodGet, url: base + path, page: page})
	}

	a := get("/Mailbox?$select=DisplayName,PrimarySmtpAddress", 100)
	if a.status != http.StatusOK || len(a.values()) != 100 || a.nextLink() == "" {
		t.Fatalf("first page: %s", short(a))
	}
	if ctx, _ := a.body["@odata.context"].(string); !strings.HasSuffix(ctx, "/$metadata#Mailbox") {
		t.Errorf("@odata.context %q", ctx)
	}
	if v := a.values()[0]; v["DisplayName"] == nil || v["PrimarySmtpAddress"] == nil || v["Alias"] != nil {
		t.Errorf("$select not applied: %v", v)
	}
	total := len(a.values())
	for next := a.nextLink(); next != ""; {
		p := e.do(call{method: http.MethodGet, url: next, page: 100})
		if p.status != http.StatusOK {
			t.Fatalf("next page: %s", short(p))
		}
		total += len(p.values())
		next = p.nextLink()
	}
	if total < demoMailboxes {
		t.Errorf("paged %d mailboxes, want at least %d", total, demoMailboxes)
	}

	if a := get("/Mailbox?$top=3", 0); a.status != http.StatusOK || len(a.values()) != 3 {
		t.Errorf("$top=3: %s", short(a))
	}
	one := get("/Mailbox('admin@contoso.onmicrosoft.com')", 0)
	if one.status != http.StatusOK || one.body["value"] != nil || one.body["Alias"] != "admin" {
		t.Errorf("one mailbox: %s", short(one))
	}
	enc := base64.StdEncoding.EncodeToString([]byte("admin@contoso.onmicrosoft.com"))
	if a := get("/Mailbox('"+enc+"')?isEncoded=true", 0); a.status != http.StatusOK || a.body["Alias"] != "admin" {
		t.Errorf("isEncoded key: %s", short(a))
	}
	if a := get("/Mailbox('nobody-here')", 0); a.status != http.StatusNotFound {
		t.Errorf("unknown key: %s", short(a))
	}
	if a := get("/Recipient/Exchange.BySmtpAddress(SmtpAddress='admin@contoso.onmicrosoft.com')", 0); a.status != http.StatusOK || a.body["Alias"] != "admin" {
		t.Errorf("BySmtpAddress: %s", short(a))
	}
	// A set whose cmdlet the emulator does not run yet answers as InvokeCommand does.
	for _, es := range EntitySets {
		if e.ex.reg.Lookup(es.Cmdlet) == nil {
			t.Errorf("%s: cmdlet %s is not in the registry", es.Path, es.Cmdlet)
		}
	}
	if a := e.do(call{method: http.MethodPost, url: base + "/Mailbox"}); a.status != http.StatusMethodNotAllowed {
		t.Errorf("POST to an entity set: %s", short(a))
	}
	if a := get("/NoSuchSet", 0); a.status != http.StatusNotFound {
		t.Errorf("unknown set: %s", short(a))
	}
}

// $metadata is a CSDL document naming the sets served and the types answers refer to.
func TestMetadata(t *testing.T) {
	e := newEnv(t, nil)
	resp, err := e.srv.Client().Get(e.srv.URL + "/adminapi/beta/" + store.DemoTenantName + "/$metadata")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var doc struct {
		Schemas []struct {
			Namespace string `xml:"Namespace,attr"`
			Complex   []struct {
				Name string `xml:"Name,attr"`
			} `xml:"ComplexType"`
			Container struct {
				Sets []struct {
					Name string `xml:"Name,attr"`
				} `xml:"EntitySet"`
			} `xml:"EntityContainer"`
		} `xml:"DataServices>Schema"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	if len(doc.Schemas) != 1 || doc.Schemas[0].Namespace != "Exchange" {
		t.Fatalf("schemas %+v", doc.Schemas)
	}
	want := map[string]bool{"GenericHashTable": false, "StringFieldDeltaUpdateData": false}
	for _, c := range doc.Schemas[0].Complex {
		if _, ok := want[c.Name]; ok {
			want[c.Name] = true
		}
	}
	sets := map[string]bool{}
	for _, s := range doc.Schemas[0].Container.Sets {
		sets[s.Name] = true
	}
	if !want["GenericHashTable"] || !want["StringFieldDeltaUpdateData"] || !sets["Mailbox"] || !sets["Recipient"] || !sets["CasMailbox"] {
		t.Errorf("types %v sets %v", want, sets)
	}
}

func short(a answer) string {
	s := a.String()
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}
