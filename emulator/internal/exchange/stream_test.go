package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// streamTenantMailboxes is the size of the tenant the streamed pages are checked on: several
// pages of 1000, generated as the large seed generates its mailboxes.
const streamTenantMailboxes = 4500

// largeTenantStore is a store whose demo tenant holds n mailboxes made by the seed's own
// generator (past the demo's fixed mix, as in the large seed), its mail users, contacts and
// groups, and the odd mailboxes.
func largeTenantStore(t *testing.T, n int) *store.SQLite {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "large.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := store.Seed(ctx, s, store.SeedOptions{}); err != nil {
		t.Fatal(err)
	}
	raw, err := fixtureFiles.ReadFile("fixtures/demo.json")
	if err != nil {
		t.Fatal(err)
	}
	var f demoFixture
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	tn, err := s.Tenant(ctx, store.DemoTenantID)
	if err != nil {
		t.Fatal(err)
	}
	g := newSeedGenerator(&f, tn, time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
	objs := func(yield func(store.Object) bool) {
		if !yield(store.Object{TenantID: tn.ID, Type: defaultsMarker, Name: "Recipient", Keys: []store.Key{{Space: defaultsMarker, Value: "Recipient"}}}) {
			return
		}
		for o := range g.objects(n) {
			if !yield(o) {
				return
			}
		}
		for _, o := range oddMailboxes(tn.ID) {
			if !yield(o) {
				return
			}
		}
	}
	if err := s.CreateMany(ctx, objs); err != nil {
		t.Fatal(err)
	}
	return s
}

// oddMailboxes store values that take every path of a streamed object: text with escapes,
// markup, non-ASCII and U+2028, values of another type than their property's, nulls, empty
// lists and GUIDs, nested values, dates, sizes as numbers and as text, names the schema does
// not have (or has in another case), and what computed properties read.
func oddMailboxes(tenantID string) []store.Object {
	variants := []map[string]any{
		{"DisplayName": "Ünïcode Müller \u2028 line\u2029", "Office": "<b>R&D</b>", "Title": "tab\there \"quoted\" back\\slash",
			"Department": "", "City": "東京", "Notes": "ctl\x01\x1f", "CustomAttribute1": nil},
		{"ExchangeGuid": "", "ResourceCapacity": "12", "ProhibitSendQuota": 1.5, "IssueWarningQuota": "Unlimited",
			"ProhibitSendReceiveQuota": "49 GB (52,613,349,376 bytes)", "HiddenFromAddressListsEnabled": "true", "UMEnabled": int64(1)},
		{"EmailAddresses": []any{"SMTP:odd2@contoso.com", int64(5), nil, true, "smtp:Odd2 <x>@contoso.com"}, "Languages": []string{},
			"ProtocolSettings": []string{"a", "b \u00e9", `c"d`}, "MailTip": map[string]any{"a": []any{"b"}, "n": int64(1), "f": 2.5}},
		{"RecipientTypeDetails": "RoomMailbox", "ResourceType": "Room", "DistinguishedName": "CN=Odd\\, Three,OU=x",
			"LitigationHoldDate": "2024-05-06T07:08:09.123Z", "StartDateForRetentionHold": "not a date", "ExchangeGuid": "7c1d9a0e-1f2b-4c3d-9e8f-0a1b2c3d4e5f",
			"alias": "lower case name", "NotInSchema": []any{"x", 1.5}, "ResourceCustom": "one"},
		{"RecipientTypeDetails": "SharedMailbox", "Database": nil, "RetainDeletedItemsFor": int64(-7), "RecipientLimits": false,
			"ForwardingSmtpAddress": "smtp:fwd@example.com", "ExtensionCustomAttribute1": []string{"x,y", ""}, "Alias": "odd4"},
		{"RecipientType": "MailUser", "ExternalEmailAddress": "", "PrimarySmtpAddress": "odd5@contoso.com", "LitigationHoldEnabled": nil,
			"MaxSendSize": int64(36700160), "EndDateForRetentionHold": time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC).Format(time.RFC3339Nano)},
		{"ExternalDirectoryObjectId": "", "ArchiveGuid": nil, "Office": true, "Title": int64(12), "ResourceCapacity": true, "Languages": "en-US",
			"IsMailboxEnabled": false, "SingleItemRecoveryEnabled": "False", "SeniorityIndex": "x", "EmailAddresses": ""},
		{"ExternalDirectoryObjectId": "A1B2C3D4-0000-4000-8000-000000000001", "ArchiveGuid": int64(3), "Office": false, "Title": nil,
			"ResourceCapacity": int64(-0), "Languages": []string{"en-US", "de-DE"}, "IsMailboxEnabled": "yes", "MailboxRegionLastUpdateTime": int64(5),
			"LastExchangeChangedTime": "2025-01-01T00:00:00", "EmailAddresses": []any{}},
	}
	var out []store.Object
	for i, v := range variants {
		alias := fmt.Sprintf("odd%d", i)
		o := store.Object{TenantID: tenantID, Type: "Recipient", ID: fmt.Sprintf("0dd0dd00-0000-4000-8000-%012d", i), Name: fmt.Sprintf("Odd %d", i),
			WhenCreated: time.Date(2023, 1, 2, 3, 4, 5, 600_000_000, time.UTC), WhenChanged: time.Date(2024, 2, 3, 4, 5, 6, 789_000_000, time.UTC),
			Props: map[string]any{"Alias": alias, "RecipientType": "UserMailbox", "RecipientTypeDetails": "UserMailbox",
				"PrimarySmtpAddress": alias + "@contoso.com", "EmailAddresses": []string{"SMTP:" + alias + "@contoso.com"}}}
		for k, x := range v {
			o.Props[k] = x
		}
		o.Keys = classOf(o.Type).keys(&o)
		out = append(out, o)
	}
	return out
}

// TestStreamedPageEqualsBuiltPage: on a large tenant, every page a listing streams is byte
// for byte the page built in memory the way pages were built before: every page of an
// unlimited Get-Mailbox, a -ResultSize page that ends with the warning, $select, a filter the
// database runs and one run object by object, other recipient cmdlets.
func TestStreamedPageEqualsBuiltPage(t *testing.T) {
	t.Parallel()
	n := streamTenantMailboxes
	if raceEnabled {
		n = 400
	}
	s := largeTenantStore(t, n)
	e := newEnv(t, func(c *Config) { c.Store = s })
	for _, c := range []struct {
		cmdlet string
		params map[string]any
		page   int
		sel    string
		pages  int // at least
	}{
		{"Get-Mailbox", map[string]any{"ResultSize": "Unlimited"}, 1000, "", 5},
		{"Get-Mailbox", map[string]any{"ResultSize": 1500}, 1000, "", 2},
		{"Get-Mailbox", map[string]any{"ResultSize": 1000}, 0, "", 1},
		{"Get-Mailbox", map[string]any{"ResultSize": "Unlimited"}, 700, "Name,EmailAddresses,ProhibitSendQuota,IsShared,Guid,NotInSchema", 7},
		{"Get-Mailbox", map[string]any{"ResultSize": "Unlimited", "Filter": "RecipientTypeDetails -eq 'SharedMailbox'"}, 100, "", 2},
		{"Get-Mailbox", map[string]any{"ResultSize": "Unlimited", "Filter": "IsShared -eq $true -or Name -like 'Odd*'"}, 100, "", 2},
		{"Get-Mailbox", map[string]any{"ResultSize": 10, "Identity": "odd3"}, 0, "", 1},
		{"Get-Recipient", map[string]any{"ResultSize": 2500}, 1000, "", 3},
		{"Get-User", map[string]any{"ResultSize": 1200}, 1000, "", 2},
		{"Get-CASMailbox", map[string]any{"ResultSize": 1000}, 1000, "", 1},
		{"Get-MailUser", nil, 0, "", 1},
		{"Get-DistributionGroup", nil, 0, "", 1},
	} {
		name := fmt.Sprintf("%s %v page %d select %q", c.cmdlet, c.params, c.page, c.sel)
		u := e.invokeURL(store.DemoTenantName)
		if c.sel != "" {
			u += "?$select=" + url.QueryEscape(c.sel)
		}
		pages := 0
		for u != "" {
			get := func(built bool) []byte {
				e.ex.builtPages = built
				defer func() { e.ex.builtPages = false }()
				return e.fetch(call{url: u, cmdlet: c.cmdlet, params: c.params, page: c.page})
			}
			want, got := get(true), get(false)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s, page %d: streamed (%d bytes)\n%.600s\nbuilt (%d bytes)\n%.600s\nfirst difference at %d", name, pages+1,
					len(got), got, len(want), want, firstDiff(got, want))
			}
			pages++
			u = pageNextLink(t, got)
		}
		if pages < c.pages && !raceEnabled {
			t.Errorf("%s: %d pages, want at least %d", name, pages, c.pages)
		}
	}
}

// fetch is do for large pages: the body as it came, after checking it is a 200.
func (e *env) fetch(c call) []byte {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": c.cmdlet, "Parameters": c.params}})
	req, err := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.appToken())
	if c.page > 0 {
		req.Header.Set("Prefer", fmt.Sprintf("odata.maxpagesize=%d", c.page))
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		e.t.Fatalf("%s: %d %v %.300s", c.cmdlet, resp.StatusCode, err, raw)
	}
	return raw
}

// pageNextLink is a page's @odata.nextLink, which comes right after its @odata.context.
func pageNextLink(t *testing.T, page []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(page))
	var link string
	for i := 0; i < 5; i++ {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("page starts %.200q: %v", page, err)
		}
		if tok == "@odata.nextLink" {
			if err := dec.Decode(&link); err != nil {
				t.Fatal(err)
			}
			return link
		}
	}
	return ""
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestRawPrinterEqualsObject: every stored object printed from its stored JSON through any
// schema is what Schema.Object and appendObject make of its decoded properties, with and
// without $select.
func TestRawPrinterEqualsObject(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := largeTenantStore(t, 300)
	tn, err := s.Tenant(ctx, store.DemoTenantID)
	if err != nil {
		t.Fatal(err)
	}
	g := New(Config{Store: s}).org(tn)
	var raws []store.Object
	if err := s.ListEach(ctx, store.ListQuery{TenantID: tn.ID}, func(string) error { return nil }, func(o *store.Object) error {
		raws = append(raws, *o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(raws) < 300 {
		t.Fatalf("%d objects", len(raws))
	}
	for _, sc := range mustSchemas().All() {
		for _, sel := range []selection{nil, parseSelect("Name,Identity,EmailAddresses,nope,ProhibitSendQuota")} {
			pr := newRawPrinter(sc, g, sel)
			var buf Object
			for i := range raws {
				o := &raws[i]
				if raceEnabled && i%20 != 0 && o.Name[:3] != "Odd" {
					continue
				}
				got, err := pr.append(nil, o)
				if err != nil {
					t.Fatalf("%s: %s: %v", sc.Name, o.Name, err)
				}
				m := *o
				if m.Props, err = store.DecodeProps(o.RawProps); err != nil {
					t.Fatal(err)
				}
				m.RawProps = ""
				buf = sc.Object(buf[:0], &m, g)
				if want := appendObject(nil, buf, sel); !bytes.Equal(got, want) {
					t.Fatalf("%s, select %v, %s:\nstreamed %s\nbuilt    %s\nfirst difference at %d", sc.Name, sel, o.Name, got, want, firstDiff(got, want))
				}
			}
		}
	}
}

// TestStreamedPageErrors: a listing the store refuses before the first object gets its
// error answer, as a built page did.
func TestStreamedPageErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := e.do(call{cmdlet: "Get-Mailbox", params: map[string]any{"ResultSize": "Unlimited", "Filter": "Name -eq 'x' -and"}})
	if a.status != 400 {
		t.Errorf("a bad filter: %s", a)
	}
	first := e.do(call{cmdlet: "Get-Mailbox", params: map[string]any{"ResultSize": "Unlimited"}, page: 10})
	if first.status != 200 || first.nextLink() == "" {
		t.Fatalf("%s", first)
	}
	u, _ := url.Parse(first.nextLink())
	q := u.Query()
	q.Set("$skiptoken", q.Get("$skiptoken")+"x")
	u.RawQuery = q.Encode()
	if a := e.do(call{url: u.String(), cmdlet: "Get-Mailbox", params: map[string]any{"ResultSize": "Unlimited"}, page: 10}); a.status != 400 {
		t.Errorf("a tampered nextLink: %s", a)
	}
}

// TestDerivedGUID: derivedGUID is uuid.NewSHA1 of the kind and the lower-case GUID.
func TestDerivedGUID(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ kind, id string }{{"ExchangeGuid", "91DAF6A9-03F5-4050-9BEE-B88FD5A4F019"}, {"", ""}, {"k", "ÄÖ-ü"}} {
		want := uuid.NewSHA1(exoNamespace, []byte(c.kind+"\x00"+strings.ToLower(c.id))).String()
		if got := derivedGUID(c.kind, c.id); got != want {
			t.Errorf("derivedGUID(%q, %q) = %s, want %s", c.kind, c.id, got, want)
		}
	}
}
