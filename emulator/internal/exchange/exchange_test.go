package exchange

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
)

// TestInvokeByHand sends the request of PROTOCOL.md §1 with net/http and checks the answer's
// headers and envelope byte for byte where the protocol fixes them.
func TestInvokeByHand(t *testing.T) {
	e := newEnv(t, nil)
	a := e.do(call{cmdlet: "Get-AcceptedDomain", params: map[string]any{}, page: 1000})
	if a.status != http.StatusOK {
		t.Fatalf("answer %s", a)
	}
	h := a.header
	if got := h.Get("Content-Type"); got != contentTypeJSON {
		t.Errorf("Content-Type = %q", got)
	}
	if got := h.Get("OData-Version"); got != "4.0" {
		t.Errorf("OData-Version = %q", got)
	}
	if _, err := uuid.Parse(h.Get("request-id")); err != nil {
		t.Errorf("request-id = %q: %v", h.Get("request-id"), err)
	}
	if got := h.Get("X-CalculatedBETarget"); got != DefaultBackend {
		t.Errorf("X-CalculatedBETarget = %q", got)
	}
	if h.Get("Rate-Limit-Limit") != "30000" || h.Get("Rate-Limit-Remaining") != "29999" {
		t.Errorf("Rate-Limit-Limit/Remaining = %q/%q", h.Get("Rate-Limit-Limit"), h.Get("Rate-Limit-Remaining"))
	}
	if _, err := time.Parse(time.RFC3339, h.Get("Rate-Limit-Reset")); err != nil || !strings.HasSuffix(h.Get("Rate-Limit-Reset"), "Z") {
		t.Errorf("Rate-Limit-Reset = %q", h.Get("Rate-Limit-Reset"))
	}
	wantStart := `{"@odata.context":"` + e.srv.URL + `/adminapi/beta/contoso.onmicrosoft.com/$metadata#Collection(Exchange.GenericHashTable)","adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":[],"value":[{"DomainName":`
	if !strings.HasPrefix(string(a.raw), wantStart) {
		t.Errorf("answer starts\n%.300s\nwant\n%s", a.raw, wantStart)
	}
	vals := a.values()
	if len(vals) != 2 {
		t.Fatalf("%d accepted domains, want 2", len(vals))
	}
	names := map[string]bool{}
	for _, v := range vals {
		names[v["DomainName"].(string)] = v["Default"].(bool)
	}
	if d, ok := names["contoso.com"]; !ok || !d {
		t.Errorf("domains %v: want contoso.com default", names)
	}
	if a.nextLink() != "" {
		t.Errorf("unexpected nextLink %q", a.nextLink())
	}
	if !bytes.Contains(a.raw, []byte(`"Guid@data.type":"System.Guid","Guid@odata.type":"#Guid","Guid":"`)) ||
		!bytes.Contains(a.raw, []byte(`"WhenCreated@data.type":"System.DateTime","WhenCreated":"`)) {
		t.Errorf("missing per-property annotations: %.500s", a.raw)
	}
	if bytes.Contains(a.raw, []byte(`"@odata.type":"#Exchange`)) {
		t.Errorf("object-level @odata.type present")
	}
}

// TestPaging walks all 250 mailboxes in pages of 37, following nextLink by POSTing the same
// body and by GET, alternately: every mailbox exactly once.
func TestPaging(t *testing.T) {
	e := newEnv(t, nil)
	seen := map[string]int{}
	c := call{cmdlet: "Get-Mailbox", params: map[string]any{"ResultSize": "Unlimited"}, page: 37}
	pages := 0
	for {
		a := e.do(c)
		if a.status != http.StatusOK {
			t.Fatalf("page %d: %s", pages, a)
		}
		pages++
		vals := a.values()
		if next := a.nextLink(); next != "" && len(vals) != 37 {
			t.Errorf("page %d has %d records", pages, len(vals))
		}
		for _, v := range vals {
			seen[v["Guid"].(string)]++
			if v["RecipientType"] != "UserMailbox" {
				t.Errorf("Get-Mailbox returned a %v", v["RecipientTypeDetails"])
			}
		}
		if len(a.warnings()) != 0 {
			t.Errorf("warnings %v", a.warnings())
		}
		next := a.nextLink()
		if next == "" {
			break
		}
		if !strings.HasPrefix(next, e.srv.URL+"/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand?") {
			t.Fatalf("nextLink %q is not absolute", next)
		}
		c.url = next
		if pages%2 == 1 {
			c.method = http.MethodGet
		} else {
			c.method = http.MethodPost
		}
	}
	if len(seen) != demoMailboxes {
		t.Errorf("%d distinct mailboxes, want %d", len(seen), demoMailboxes)
	}
	for g, n := range seen {
		if n != 1 {
			t.Errorf("mailbox %s seen %d times", g, n)
		}
	}
	if want := (demoMailboxes + 36) / 37; pages != want {
		t.Errorf("%d pages, want %d", pages, want)
	}
}

// TestResultSize checks the three ResultSize cases and the module's warning. The page that
// reaches ResultSize while more exist has the warning and still a next link, as the service's
// (exo/testdata/captures/invoke-get-mailbox-more); the client stops there, as the module does.
func TestResultSize(t *testing.T) {
	e := newEnv(t, nil)
	follow := func(c call, limit int) (records int, pages int, last answer) {
		for {
			a := e.do(c)
			if a.status != http.StatusOK {
				t.Fatalf("%s", a)
			}
			pages++
			records += len(a.values())
			last = a
			if a.nextLink() == "" || records >= limit {
				return
			}
			if len(a.warnings()) > 0 {
				t.Errorf("warning on a page that is not the last: %v", a.warnings())
			}
			c.url = a.nextLink()
		}
	}
	for _, tc := range []struct {
		name          string
		resultSize    any
		page          int
		records       int
		pages         int
		warning, next bool
	}{
		{"five", 5, 0, 5, 1, true, true},
		{"string number", "7", 0, 7, 1, true, true},
		{"sixty over pages of 25", 60, 25, 60, 3, true, true},
		{"more than exist", 5000, 100, demoMailboxes, 3, false, false},
		{"exactly all", demoMailboxes, 100, demoMailboxes, 3, false, false},
		{"unlimited", "Unlimited", 0, demoMailboxes, 1, false, false},
		{"unlimited any case", "unLIMITED", 100, demoMailboxes, 3, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limit := math.MaxInt
			if n, err := strconv.Atoi(fmt.Sprint(tc.resultSize)); err == nil {
				limit = n
			}
			n, pages, last := follow(call{cmdlet: "Get-Mailbox", params: map[string]any{"ResultSize": tc.resultSize}, page: tc.page}, limit)
			if n != tc.records || pages != tc.pages {
				t.Errorf("%d records in %d pages, want %d in %d", n, pages, tc.records, tc.pages)
			}
			w := last.warnings()
			if tc.warning != (len(w) == 1 && w[0] == moreResultsWarning) {
				t.Errorf("warnings %q", w)
			}
			if tc.next != (last.nextLink() != "") {
				t.Errorf("next link %q on the last page", last.nextLink())
			}
		})
	}
	t.Run("absent", func(t *testing.T) {
		a := e.do(call{cmdlet: "Get-Mailbox", page: 100})
		if len(a.values()) != 100 || a.nextLink() == "" || len(a.warnings()) != 0 {
			t.Errorf("%d records, nextLink %q, warnings %v", len(a.values()), a.nextLink(), a.warnings())
		}
	})
}

// TestSelect keeps only the listed properties, in the listed order, across pages.
func TestSelect(t *testing.T) {
	e := newEnv(t, nil)
	a := e.do(call{url: e.invokeURL(store.DemoTenantName) + "?$select=name,PrimarySmtpAddress,GUID,NoSuchProperty",
		cmdlet: "Get-Mailbox", params: map[string]any{"ResultSize": 4}, page: 2})
	if a.status != 200 {
		t.Fatal(a)
	}
	re := regexp.MustCompile(`^\{"Name":"[^"]+","PrimarySmtpAddress":"[^"]+","Guid@data.type":"System.Guid","Guid@odata.type":"#Guid","Guid":"[0-9a-f-]{36}"\}$`)
	check := func(a answer) {
		var page struct{ Value []json.RawMessage }
		json.Unmarshal(a.raw, &page)
		if len(page.Value) != 2 {
			t.Fatalf("%d records", len(page.Value))
		}
		for _, v := range page.Value {
			if !re.Match(v) {
				t.Errorf("selected object %s", v)
			}
		}
	}
	check(a)
	b := e.do(call{method: http.MethodGet, url: a.nextLink()})
	check(b)
}

func TestIdentity(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.do(call{cmdlet: "Get-Mailbox", params: map[string]any{"Identity": "admin@contoso.onmicrosoft.com"}})
	if admin.status != 200 || len(admin.values()) != 1 {
		t.Fatalf("by UPN: %s", admin)
	}
	m := admin.values()[0]
	for _, id := range []any{m["Name"], m["Alias"], strings.ToUpper(m["PrimarySmtpAddress"].(string)), m["Guid"], m["ExternalDirectoryObjectId"],
		"smtp:" + m["PrimarySmtpAddress"].(string)} {
		a := e.do(call{cmdlet: "get-mailbox", params: map[string]any{"identity": id}})
		if a.status != 200 || len(a.values()) != 1 || a.values()[0]["Guid"] != m["Guid"] {
			t.Errorf("Identity %v: %.200s", id, a)
		}
	}
	// Get-Recipient finds a contact; Get-Mailbox does not.
	contacts := e.do(call{cmdlet: "Get-Recipient", params: map[string]any{"RecipientTypeDetails": "MailContact", "ResultSize": 1}})
	if len(contacts.values()) != 1 || contacts.values()[0]["RecipientTypeDetails"] != "MailContact" {
		t.Fatalf("contacts: %s", contacts)
	}
	contact := contacts.values()[0]["Name"].(string)
	a := e.do(call{cmdlet: "Get-Mailbox", params: map[string]any{"Identity": contact}})
	if a.status != 404 {
		t.Errorf("Get-Mailbox of a contact: %s", a)
	}
	a = e.do(call{cmdlet: "Get-Recipient", params: map[string]any{"Identity": contact}})
	if a.status != 200 || a.values()[0]["Name"] != contact {
		t.Errorf("Get-Recipient of a contact: %s", a)
	}
	a = e.do(call{cmdlet: "Get-AcceptedDomain", params: map[string]any{"Identity": "CONTOSO.COM"}})
	if a.status != 200 || len(a.values()) != 1 {
		t.Errorf("Get-AcceptedDomain contoso.com: %s", a)
	}
	a = e.do(call{cmdlet: "Get-OrganizationConfig"})
	if a.status != 200 || len(a.values()) != 1 || a.values()[0]["Name"] != store.DemoTenantName || a.values()[0]["DisplayName"] != "Contoso" {
		t.Errorf("Get-OrganizationConfig: %.300s", a)
	}
}

func TestRecipientTypeFilter(t *testing.T) {
	e := newEnv(t, nil)
	a := e.do(call{cmdlet: "Get-Mailbox", params: map[string]any{"RecipientTypeDetails": []string{"roommailbox", "EquipmentMailbox"}, "ResultSize": "Unlimited"}})
	if a.status != 200 || len(a.values()) == 0 {
		t.Fatal(a)
	}
	for _, v := range a.values() {
		if d := v["RecipientTypeDetails"]; d != "RoomMailbox" && d != "EquipmentMailbox" {
			t.Errorf("got a %v", d)
		}
	}
	all := e.do(call{cmdlet: "Get-Recipient", params: map[string]any{"ResultSize": "Unlimited"}})
	kinds := map[string]bool{}
	for _, v := range all.values() {
		kinds[v["RecipientTypeDetails"].(string)] = true
	}
	for _, k := range []string{"UserMailbox", "SharedMailbox", "MailUser", "MailContact", "MailUniversalDistributionGroup"} {
		if !kinds[k] {
			t.Errorf("Get-Recipient lists no %s (got %v)", k, kinds)
		}
	}
	if len(all.values()) <= demoMailboxes {
		t.Errorf("Get-Recipient lists %d, want more than the %d mailboxes", len(all.values()), demoMailboxes)
	}
}

// TestErrors checks each error status and the error shape.
func TestErrors(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBody = 64 << 10 })
	type tc struct {
		name   string
		c      call
		status int
		code   string
		detail string // details[0].message, or a prefix of it ending in "*"
	}
	for _, x := range []tc{
		{"not found", call{cmdlet: "Get-Mailbox", params: map[string]any{"Identity": "bob"}}, 404, "NotFound",
			"Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'bob' couldn't be found on 'AM7PR01A001DC01.EURPR01A001.prod.outlook.com'."},
		{"unknown parameter", call{cmdlet: "Get-Mailbox", params: map[string]any{"Foo": 1}}, 400, "BadRequest",
			"|Microsoft.Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException|Parameter set cannot be resolved using the specified named parameters. Invalid cmdlet parameters specified. Foo"},
		{"ambiguous parameter", call{cmdlet: "Get-Mailbox", params: map[string]any{"R": 1}}, 400, "BadRequest",
			"AmbiguousParameter|System.Management.Automation.ParameterBindingException|Parameter cannot be processed because the parameter name 'R' is ambiguous. Possible matches include: -RecipientTypeDetails -ResultSize."},
		{"parameter twice", call{cmdlet: "Get-Mailbox", params: map[string]any{"identity": "a", "IDENTITY": "b"}}, 400, "BadRequest",
			"ParameterAlreadyBound|*"},
		// A conversion failure has no details: its class and text are in innererror.
		{"bad ResultSize", call{cmdlet: "Get-Mailbox", params: map[string]any{"ResultSize": "lots"}}, 400, "BadRequest",
			"|Microsoft.Exchange.AdminApi.CommandInvocation.ParameterTransformationException|Cannot process argument transformation on parameter 'ResultSize'. Cannot convert value \"lots\" to type \"Microsoft.Exchange.Data.Unlimited`1[System.UInt32]\"."},
		{"array for a string", call{cmdlet: "Get-Mailbox", params: map[string]any{"Identity": []string{"a", "b"}}}, 400, "BadRequest",
			"|Microsoft.Exchange.AdminApi.CommandInvocation.ParameterTransformationException|*"},
		{"null identity", call{cmdlet: "Get-Mailbox", params: map[string]any{"Identity": nil}}, 400, "BadRequest",
			"ParameterArgumentValidationErrorNullNotAllowed|*"},
		{"bad enum", call{cmdlet: "Get-Mailbox", params: map[string]any{"RecipientTypeDetails": "MailContact"}}, 400, "BadRequest",
			"|Microsoft.Exchange.AdminApi.CommandInvocation.ParameterTransformationException|*"},
		{"unknown cmdlet", call{cmdlet: "Get-Foo"}, 403, "Forbidden",
			"CommandNotFoundException|System.Management.Automation.CommandNotFoundException|The term 'Get-Foo' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."},
		{"malformed JSON", call{body: `{"CmdletInput":`}, 400, "BadRequest", "BadRequest|*"},
		{"no cmdlet name", call{body: `{"CmdletInput":{}}`}, 400, "BadRequest", "BadRequest|*"},
		{"too large", call{body: `{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"Identity":"` + strings.Repeat("x", 70<<10) + `"}}}`}, 413, "RequestEntityTooLarge", "*"},
		{"GET without skip token", call{method: http.MethodGet}, 405, "MethodNotAllowed", "*"},
		{"bad skip token", call{url: e.invokeURL(store.DemoTenantName) + "?$skiptoken=abc.def", cmdlet: "Get-Mailbox"}, 400, "BadRequest", "*"},
		{"unknown operation", call{url: e.srv.URL + "/adminapi/beta/contoso.onmicrosoft.com/Nope", cmdlet: "Get-Mailbox"}, 404, "NotFound", "*"},
		{"unknown version", call{url: e.srv.URL + "/adminapi/v9/contoso.onmicrosoft.com/InvokeCommand", cmdlet: "Get-Mailbox"}, 404, "NotFound", "*"},
	} {
		t.Run(x.name, func(t *testing.T) {
			a := e.do(x.c)
			if a.status != x.status {
				t.Fatalf("status %s, want %d", a, x.status)
			}
			checkErrorShape(t, a, x.code)
			d := a.detail()
			if p, ok := strings.CutSuffix(x.detail, "*"); ok {
				if !strings.HasPrefix(d, p) {
					t.Errorf("detail %q, want prefix %q", d, p)
				}
			} else if d != x.detail {
				t.Errorf("detail\n%q\nwant\n%q", d, x.detail)
			}
		})
	}
}

// checkErrorShape checks the error body key by key, in the form captured answers of the
// service have (exo/testdata/captures): error.message repeated by innererror.message, details
// unless the binder could not convert an argument, and the warnings inside error unless the
// binder found an unknown parameter.
func checkErrorShape(t *testing.T, a answer, code string) {
	t.Helper()
	if a.header.Get("Content-Type") != contentTypeJSON || a.header.Get("request-id") == "" || a.header.Get("X-CalculatedBETarget") == "" {
		t.Errorf("headers %v", a.header)
	}
	if !bytes.HasPrefix(a.raw, []byte(`{"error":{"code":"`+code+`","message":"`)) {
		t.Errorf("error body %s", a.raw)
	}
	errObj := a.body["error"].(map[string]any)
	inner, ok := errObj["innererror"].(map[string]any)
	if !ok {
		t.Fatalf("no innererror: %s", a.raw)
	}
	if inner["type"] != classODataError || inner["message"] != errObj["message"] {
		t.Errorf("innererror type %v, message %v (error.message %v)", inner["type"], inner["message"], errObj["message"])
	}
	ie, ok := inner["internalexception"].(map[string]any)
	if !ok || ie["message"] == "" {
		t.Errorf("internalexception %v", inner["internalexception"])
	}
	if _, ok := errObj["details"]; !ok {
		if ie["type"] != classTransformation {
			t.Errorf("no details for a %v", ie["type"])
		}
	} else if parts := strings.SplitN(a.detail(), "|", 3); len(parts) != 3 || parts[2] != ie["message"] {
		t.Errorf("details[0].message %q vs internalexception %v", a.detail(), ie["message"])
	}
	_, warned := errObj["@adminapi.warnings"]
	if warned == (ie["type"] == classParameterSet) || !bytes.HasSuffix(a.raw, []byte(`}}`)) {
		t.Errorf("warnings in error %v for a %v: %s", warned, ie["type"], a.raw)
	}
}

func TestTokenFailures(t *testing.T) {
	e := newEnv(t, nil)
	good := appClaims(store.DemoTenantID)
	expired := good
	expired.IssuedAt, expired.NotBefore, expired.Expires = time.Now().Add(-3*time.Hour).Unix(), time.Now().Add(-3*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
	wrongAud := good
	wrongAud.Audience = "https://graph.microsoft.com"
	otherTenant := good
	otherTenant.TenantID = fabrikamID
	noRole := good
	noRole.Roles = nil
	noExp := good
	noExp.Expires = 0
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	payload, _ := json.Marshal(good)
	algNone := header + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
	valid := sign(t, testKeys, good)
	parts := strings.Split(valid, ".")
	hs := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2]

	for _, tc := range []struct{ name, token, url string }{
		{"no token", "-", ""},
		{"garbage", "not-a-jwt", ""},
		{"bad signature", sign(t, otherKeys, good), ""},
		{"tampered payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString(append(payload[:len(payload)-1], []byte(`,"x":1}`)...)) + "." + parts[2], ""},
		{"wrong audience", sign(t, testKeys, wrongAud), ""},
		{"expired", sign(t, testKeys, expired), ""},
		{"no exp", sign(t, testKeys, noExp), ""},
		{"other tenant", sign(t, testKeys, otherTenant), ""},
		{"alg none", algNone, ""},
		{"alg HS256", hs, ""},
		{"unknown tenant in URL", valid, e.invokeURL("nowhere.onmicrosoft.com")},
		{"tenant of URL is another tenant", valid, e.invokeURL(fabrikamName)},
		{"no Exchange.ManageAsApp", sign(t, testKeys, noRole), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := call{cmdlet: "Get-AcceptedDomain", token: tc.token, url: tc.url}
			if tc.token == "-" {
				c.token, c.headers = "x", map[string]string{"Authorization": ""}
			}
			a := e.do(c)
			if a.status != http.StatusUnauthorized {
				t.Fatalf("status %s, want 401", a)
			}
			if w := a.header.Get("WWW-Authenticate"); !strings.HasPrefix(w, "Bearer ") || !strings.Contains(w, `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate %q", w)
			}
			checkErrorShape(t, a, "Unauthorized")
		})
	}
	// The tenant may be named by GUID or any accepted domain, in any case.
	for _, tenant := range []string{store.DemoTenantID, strings.ToUpper(store.DemoTenantID), "CONTOSO.com", store.DemoTenantName} {
		a := e.do(call{cmdlet: "Get-AcceptedDomain", url: e.invokeURL(tenant), token: valid})
		if a.status != 200 {
			t.Errorf("tenant %s: %s", tenant, a)
		}
	}
	// The emulator's own URL is an accepted audience.
	own := good
	own.Audience = e.srv.URL + "/"
	if a := e.do(call{cmdlet: "Get-AcceptedDomain", token: sign(t, testKeys, own)}); a.status != 200 {
		t.Errorf("audience %s: %s", own.Audience, a)
	}
}

// testRegistry is the built-in registry plus state-changing test cmdlets.
func testRegistry() *Registry {
	r := Cmdlets()
	r.Add(&Cmdlet{Name: "Set-TestThing", ShouldProcess: true, Params: []Param{{Name: "Identity", Type: TypeIdentity, Mandatory: true},
		{Name: "Settings", Type: TypeHashtable}, {Name: "Count", Type: TypeInt}, {Name: "Enabled", Type: TypeSwitch}},
		Run: func(ctx context.Context, inv *Invocation) (*Result, error) {
			if !inv.ShouldProcess("Setting thing \"" + inv.Params.String("Identity") + "\".") {
				return nil, nil
			}
			b, _ := json.Marshal(inv.Params)
			return objects([]Object{{Str("Bound", string(b))}}, "", 0), nil
		}})
	r.Add(&Cmdlet{Name: "Remove-TestThing", ShouldProcess: true, HighImpact: true, Params: []Param{{Name: "Identity", Type: TypeIdentity, Mandatory: true}},
		Run: func(ctx context.Context, inv *Invocation) (*Result, error) {
			if !inv.ShouldProcess("Removing thing \"" + inv.Params.String("Identity") + "\".") {
				return nil, nil
			}
			return objects([]Object{{Str("Removed", inv.Params.String("Identity"))}}, "", 0), nil
		}})
	return r
}

func TestRBAC(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Registry = testRegistry() })
	user := func(upn string) string { return sign(t, testKeys, userClaims(upn)) }
	appNoWids := appClaims(store.DemoTenantID)
	appNoWids.WIDs = nil // falls back to the app's directory roles in the store
	fabApp := appClaims(fabrikamID)
	fabApp.AppID, fabApp.WIDs = fabrikamAppID, nil // an app with no directory role
	reader := appClaims(store.DemoTenantID)
	reader.WIDs = []string{store.RoleGlobalReader}
	set := map[string]any{"Identity": "x", "Confirm": false}
	for _, tc := range []struct {
		name      string
		token     string
		url       string
		get, setS int
	}{
		{"app, Exchange Administrator", e.appToken(), "", 200, 200},
		{"app, roles from the store", sign(t, testKeys, appNoWids), "", 200, 200},
		{"app, Global Reader", sign(t, testKeys, reader), "", 200, 403},
		{"app without a role", sign(t, testKeys, fabApp), e.invokeURL(fabrikamName), 403, 403},
		{"user, Exchange Administrator", user("admin@contoso.onmicrosoft.com"), "", 200, 200},
		{"user, Global Administrator", user("globaladmin@contoso.onmicrosoft.com"), "", 200, 200},
		{"user, Global Reader", user("megan.bowen@contoso.com"), "", 200, 403},
		{"user without a role", user("diego.siciliani@contoso.com"), "", 403, 403},
		{"user without PowerShell", user("lee.gu@contoso.com"), "", 403, 403},
		{"disabled user", user("alex.wilber@contoso.com"), "", 401, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.do(call{cmdlet: "Get-Mailbox", params: map[string]any{"ResultSize": 1}, token: tc.token, url: tc.url})
			if a.status != tc.get {
				t.Errorf("Get-Mailbox: %s, want %d", a, tc.get)
			}
			b := e.do(call{cmdlet: "Set-TestThing", params: set, token: tc.token, url: tc.url})
			if b.status != tc.setS {
				t.Errorf("Set-TestThing: %s, want %d", b, tc.setS)
			}
			if b.status == 403 && a.status == 200 {
				// Outside the caller's roles looks exactly like an unknown cmdlet.
				if !strings.Contains(b.detail(), "The term 'Set-TestThing' is not recognized") {
					t.Errorf("403 detail %q", b.detail())
				}
			}
		})
	}
	// A delegated token with a scope that doesn't reach the admin API.
	c := userClaims("admin@contoso.onmicrosoft.com")
	c.Scope = "User.Read"
	if a := e.do(call{cmdlet: "Get-Mailbox", token: sign(t, testKeys, c)}); a.status != 401 {
		t.Errorf("scope User.Read: %s", a)
	}
}

func TestModuleFile(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Registry = testRegistry() })
	get := func(tok string, names string) []string {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/adminapi/v1.0/"+store.DemoTenantName+"/EXOModuleFile?Version=3.9.2", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("CommandName", names)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Value []struct {
				ExportedCmdlets string `json:"exportedCmdlets"`
			} `json:"value"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || len(body.Value) != 1 {
			t.Fatalf("EXOModuleFile: %d %v %+v", resp.StatusCode, err, body)
		}
		if body.Value[0].ExportedCmdlets == "" {
			return nil
		}
		return strings.Split(body.Value[0].ExportedCmdlets, ",")
	}
	admin := get(e.appToken(), "*")
	for _, want := range []string{"Get-AcceptedDomain", "Get-Mailbox", "Get-OrganizationConfig", "Get-Recipient", "New-Mailbox", "Remove-Mailbox", "Remove-TestThing", "Set-Mailbox", "Set-TestThing"} {
		if !slices.Contains(admin, want) {
			t.Errorf("admin cmdlets %v lack %s", admin, want)
		}
	}
	reader := get(sign(t, testKeys, userClaims("megan.bowen@contoso.com")), "*")
	for _, n := range reader {
		if !strings.HasPrefix(n, "Get-") {
			t.Errorf("reader cmdlets %v hold %s", reader, n)
		}
	}
	if !slices.Contains(reader, "Get-Mailbox") {
		t.Errorf("reader cmdlets %v lack Get-Mailbox", reader)
	}
	if none := get(sign(t, testKeys, userClaims("diego.siciliani@contoso.com")), "*"); len(none) != 0 {
		t.Errorf("no-role cmdlets %v", none)
	}
	if some := get(e.appToken(), "get-mailbox, Set-TestThing"); strings.Join(some, ",") != "Get-Mailbox,Set-TestThing" {
		t.Errorf("filtered cmdlets %v", some)
	}
}

// TestBinding covers the binder and ShouldProcess through state-changing test cmdlets.
func TestBinding(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Registry = testRegistry() })
	bound := func(a answer) map[string]any {
		t.Helper()
		if a.status != 200 || len(a.values()) != 1 {
			t.Fatalf("answer %s", a)
		}
		var m map[string]any
		json.Unmarshal([]byte(a.values()[0]["Bound"].(string)), &m)
		return m
	}
	m := bound(e.do(call{cmdlet: "set-testthing", params: map[string]any{
		"IDENT":    "thing",
		"settings": map[string]any{"@odata.type": "#Exchange.GenericHashTable", "Add": "smtp:a@x", "Nested": map[string]any{"@odata.type": "#Exchange.GenericHashTable", "k": 1}},
		"Count":    "42", "Enabled": true, "ea": "Stop", "WarningAction": "SilentlyContinue", "Verbose": true, "Confirm": false,
	}}))
	if m["Identity"] != "thing" || m["Count"] != float64(42) || m["Enabled"] != true || m["ErrorAction"] != "Stop" {
		t.Errorf("bound %v", m)
	}
	settings, _ := m["Settings"].(map[string]any)
	nested, _ := settings["Nested"].(map[string]any)
	if settings["Add"] != "smtp:a@x" || settings["@odata.type"] != nil || nested["k"] != float64(1) || nested["@odata.type"] != nil {
		t.Errorf("hashtable %v", settings)
	}
	// A hashtable without its tag doesn't bind.
	a := e.do(call{cmdlet: "Set-TestThing", params: map[string]any{"Identity": "x", "Settings": map[string]any{"Add": "y"}, "Confirm": false}})
	if a.status != 400 || !strings.Contains(a.detail(), "System.Collections.Hashtable") {
		t.Errorf("untagged hashtable: %s", a)
	}
	a = e.do(call{cmdlet: "Set-TestThing", params: map[string]any{"Count": 1}})
	if a.status != 400 || !strings.HasPrefix(a.detail(), "MissingMandatoryParameter|") {
		t.Errorf("missing mandatory: %s", a)
	}
	a = e.do(call{cmdlet: "Set-TestThing", params: map[string]any{"Identity": "x", "Count": "many"}})
	if a.status != 400 || !strings.Contains(a.detail(), `Cannot convert value "many" to type "System.Int32"`) {
		t.Errorf("bad int: %s", a)
	}
	// Confirm and WhatIf.
	for _, tc := range []struct {
		cmdlet  string
		params  map[string]any
		confirm bool
	}{
		{"Remove-TestThing", map[string]any{"Identity": "x"}, true},
		{"Remove-TestThing", map[string]any{"Identity": "x", "Confirm": true}, true},
		{"Remove-TestThing", map[string]any{"Identity": "x", "Confirm": false}, false},
		{"Remove-TestThing", map[string]any{"Identity": "x", "Confirm": false, "WhatIf": true}, true},
		{"Set-TestThing", map[string]any{"Identity": "x"}, false},
		{"Set-TestThing", map[string]any{"Identity": "x", "Confirm": true}, true},
		{"Set-TestThing", map[string]any{"Identity": "x", "WhatIf": true}, true},
	} {
		a := e.do(call{cmdlet: tc.cmdlet, params: tc.params})
		msg, _ := a.body["@adminapi.confirmationmessage"].(string)
		if a.status != 200 || (msg != "") != tc.confirm || (tc.confirm && len(a.values()) != 0) || (!tc.confirm && len(a.values()) != 1) {
			t.Errorf("%s %v: %s", tc.cmdlet, tc.params, a)
		}
	}
}

func TestThrottling(t *testing.T) {
	now := time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	e := newEnv(t, func(c *Config) {
		c.RateLimit, c.RateWindow = 3, time.Minute
		c.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	tok := sign(t, testKeys, func() (c token.Claims) {
		c = appClaims(store.DemoTenantID)
		c.IssuedAt, c.NotBefore, c.Expires = now.Unix(), now.Unix(), now.Add(time.Hour).Unix()
		return c
	}())
	for i := 2; i >= 0; i-- {
		a := e.do(call{cmdlet: "Get-AcceptedDomain", token: tok})
		if a.status != 200 || a.header.Get("Rate-Limit-Remaining") != string(rune('0'+i)) {
			t.Fatalf("request: %s remaining %q", a, a.header.Get("Rate-Limit-Remaining"))
		}
		if a.header.Get("Rate-Limit-Reset") != "2025-03-14T10:01:00.000Z" {
			t.Errorf("Rate-Limit-Reset %q", a.header.Get("Rate-Limit-Reset"))
		}
	}
	mu.Lock()
	now = now.Add(20*time.Second + 500*time.Millisecond)
	mu.Unlock()
	a := e.do(call{cmdlet: "Get-AcceptedDomain", token: tok})
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "40" || a.header.Get("Rate-Limit-Remaining") != "0" {
		t.Fatalf("throttled: %s Retry-After %q", a, a.header.Get("Retry-After"))
	}
	checkErrorShape(t, a, "TooManyRequests")
	// Another tenant has its own budget.
	fab := appClaims(fabrikamID)
	fab.IssuedAt, fab.NotBefore, fab.Expires = now.Unix(), now.Unix(), now.Add(time.Hour).Unix()
	if b := e.do(call{cmdlet: "Get-AcceptedDomain", token: sign(t, testKeys, fab), url: e.invokeURL(fabrikamID)}); b.status == 429 {
		t.Errorf("fabrikam throttled by contoso's budget")
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if b := e.do(call{cmdlet: "Get-AcceptedDomain", token: tok}); b.status != 200 {
		t.Errorf("after the window: %s", b)
	}
}

func TestCaseInsensitiveAndLiberal(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		url     string
		body    string
		headers map[string]string
	}{
		{e.srv.URL + "/adminapi/v1.0/contoso.onmicrosoft.com/InvokeCommand", `{"CmdletInput":{"CmdletName":"GET-MAILBOX","Parameters":{"RESULTSIZE":2}}}`, nil},
		{e.srv.URL + "/adminapi/beta/contoso.com/invokecommand", `{"cmdletinput":{"cmdletname":"get-mailbox","parameters":{"resultsize":"2","erroraction":"Stop"}}}`,
			map[string]string{"X-AnchorMailbox": "UPN:admin@contoso.onmicrosoft.com", "X-ClientModuleVersion": "99.0.0-preview", "X-Something-New": "1"}},
		{e.invokeURL(store.DemoTenantID), `{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":2}}}`,
			map[string]string{"X-AnchorMailbox": "", "Prefer": "odata.continue-on-error, odata.maxpagesize=2"}},
		{e.invokeURL(store.DemoTenantID), `{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":2}}}`,
			map[string]string{"X-AnchorMailbox": "SMTP:someone@contoso.com", "Authorization": "bearer " + e.appToken()}},
	} {
		a := e.do(call{url: tc.url, body: tc.body, headers: tc.headers})
		if a.status != 200 || len(a.values()) != 2 {
			t.Errorf("%s %s: %s", tc.url, tc.body, a)
		}
	}
}

func TestBatch(t *testing.T) {
	e := newEnv(t, nil)
	inv := e.invokeURL(store.DemoTenantName)
	body := `{"requests":[
		{"id":"0","method":"POST","url":"` + inv + `","body":{"CmdletInput":{"CmdletName":"Get-AcceptedDomain"}},"headers":{}},
		{"id":"1","method":"POST","url":"` + inv + `","body":{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":3}}}},
		{"id":"2","method":"POST","url":"` + inv + `","body":{"CmdletInput":{"CmdletName":"Get-Foo"}}},
		{"id":"3","method":"POST","url":"` + inv + `","body":{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"Identity":"bob"}}}}]}`
	a := e.do(call{url: e.srv.URL + "/adminapi/beta/" + store.DemoTenantName + "/$batch", body: body, headers: map[string]string{"Prefer": "odata.continue-on-error"}})
	if a.status != 200 {
		t.Fatal(a)
	}
	resps, _ := a.body["responses"].([]any)
	if len(resps) != 4 {
		t.Fatalf("responses %s", a)
	}
	want := map[string]int{"0": 200, "1": 200, "2": 403, "3": 404}
	for _, r := range resps {
		m := r.(map[string]any)
		id := m["id"].(string)
		if int(m["status"].(float64)) != want[id] {
			t.Errorf("response %s: status %v", id, m["status"])
		}
		b, _ := m["body"].(map[string]any)
		if id == "1" {
			if v, _ := b["value"].([]any); len(v) != 3 {
				t.Errorf("response 1: %v", b)
			}
		}
		if id == "3" {
			if _, ok := b["error"]; !ok {
				t.Errorf("response 3: %v", b)
			}
		}
	}
	var many []string
	for i := 0; i < 11; i++ {
		many = append(many, `{"id":"`+string(rune('a'+i))+`","method":"POST","url":"`+inv+`","body":{"CmdletInput":{"CmdletName":"Get-AcceptedDomain"}}}`)
	}
	if a := e.do(call{url: e.srv.URL + "/adminapi/beta/" + store.DemoTenantName + "/$batch", body: `{"requests":[` + strings.Join(many, ",") + `]}`}); a.status != 400 {
		t.Errorf("11 requests: %s", a)
	}
}

// TestSkipTokenBinding: a nextLink only continues its own listing.
func TestSkipTokenBinding(t *testing.T) {
	e := newEnv(t, nil)
	a := e.do(call{cmdlet: "Get-Mailbox", params: map[string]any{"ResultSize": 10}, page: 5})
	next := a.nextLink()
	if next == "" {
		t.Fatal(a)
	}
	if b := e.do(call{url: next, cmdlet: "Get-Recipient", params: map[string]any{"ResultSize": 10}}); b.status != 400 {
		t.Errorf("other cmdlet: %s", b)
	}
	if b := e.do(call{url: next, cmdlet: "Get-Mailbox", params: map[string]any{"ResultSize": 11}}); b.status != 400 {
		t.Errorf("other parameters: %s", b)
	}
	fab := appClaims(fabrikamID)
	fab.AppID = fabrikamAppID
	if b := e.do(call{url: strings.Replace(next, store.DemoTenantName, fabrikamName, 1), token: sign(t, testKeys, fab), method: http.MethodGet}); b.status != 400 && b.status != 403 {
		t.Errorf("other tenant: %s", b)
	}
	i := strings.Index(next, "$skiptoken=") + len("$skiptoken=")
	tampered := next[:i] + string(next[i]^1) + next[i+1:]
	if b := e.do(call{url: tampered, method: http.MethodGet}); b.status != 400 {
		t.Errorf("tampered: %s", b)
	}
	if b := e.do(call{url: next, method: http.MethodGet}); b.status != 200 || len(b.values()) != 5 || len(b.warnings()) != 1 {
		t.Errorf("GET continuation: %s", b)
	}
}

// TestGoldenMailbox pins the wire form of one mailbox object (go test -update rewrites it).
func TestGoldenMailbox(t *testing.T) {
	e := newEnv(t, nil)
	tok := appClaims(fabrikamID)
	tok.AppID = fabrikamAppID
	a := e.do(call{url: e.invokeURL(fabrikamName), token: sign(t, testKeys, tok), cmdlet: "Get-Mailbox", params: map[string]any{"Identity": "golden"}})
	if a.status != 200 {
		t.Fatal(a)
	}
	var page struct{ Value []json.RawMessage }
	if err := json.Unmarshal(a.raw, &page); err != nil || len(page.Value) != 1 {
		t.Fatalf("%v %s", err, a)
	}
	var pretty bytes.Buffer
	json.Indent(&pretty, page.Value[0], "", "  ")
	pretty.WriteByte('\n')
	path := filepath.Join("testdata", "mailbox.golden.json")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("mailbox object differs from %s (go test -update rewrites it):\n%s", path, pretty.Bytes())
	}
}

// TestConcurrent pages through the mailboxes from many goroutines at once.
func TestConcurrent(t *testing.T) {
	e := newEnv(t, nil)
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			c := call{cmdlet: "Get-Mailbox", params: map[string]any{"ResultSize": "Unlimited"}, page: 100}
			n := 0
			for {
				a := e.do(c)
				if a.status != 200 {
					t.Errorf("%s", a)
					return
				}
				n += len(a.values())
				if a.nextLink() == "" {
					break
				}
				c.url = a.nextLink()
			}
			if n != demoMailboxes {
				t.Errorf("%d mailboxes", n)
			}
		})
	}
	wg.Wait()
}

func BenchmarkInvokeGetMailboxPage(b *testing.B) {
	e := newEnv(b, nil)
	tok := appClaims(fabrikamID)
	tok.AppID = fabrikamAppID
	tok.WIDs = []string{store.RoleExchangeAdministrator}
	c := call{url: e.invokeURL(fabrikamName), token: sign(b, testKeys, tok), cmdlet: "Get-Mailbox", params: map[string]any{"ResultSize": 1000}, page: 1000}
	if a := e.do(c); a.status != 200 || len(a.values()) != 1000 {
		b.Fatalf("%d records: %.300s", len(a.values()), a.raw)
	}
	body := `{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":1000}}}`
	client := e.srv.Client()
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, c.url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Prefer", "odata.maxpagesize=1000")
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("%v %v", err, resp)
		}
		n, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.ReportMetric(float64(n), "bytes/page")
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "records/s")
}
