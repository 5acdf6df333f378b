package exchange

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The fixture: one real SQLite store, seeded with the demo tenant and a second tenant
// (Fabrikam) whose recipients have fixed values (golden files, benchmark), shared by the
// tests (which only read it) and one signing key.
var (
	testStore *store.SQLite
	testKeys  *token.Keys
	otherKeys *token.Keys
)

const (
	fabrikamID     = "0b6e2f1c-3d4a-4e5b-8c9d-0a1b2c3d4e5f"
	fabrikamName   = "fabrikam.onmicrosoft.com"
	fabrikamAppID  = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
	fabrikamMBoxes = 1200
	goldenGUID     = "8a1f6c3e-2b7d-4e90-a5c4-3d2e1f0a9b8c"
	demoMailboxes  = 250
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "exchange-test-")
	if err != nil {
		panic(err)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		ctx := context.Background()
		s, err := store.Open(ctx, filepath.Join(dir, "emulator.db"))
		if err != nil {
			panic(err)
		}
		defer s.Close()
		if _, err := store.Seed(ctx, s, store.SeedOptions{}); err != nil {
			panic(err)
		}
		if err := Seed(ctx, s, store.SeedDemo); err != nil {
			panic(err)
		}
		if err := seedFabrikam(ctx, s); err != nil {
			panic(err)
		}
		testStore = s
		k1, _ := rsa.GenerateKey(rand.Reader, 2048)
		k2, _ := rsa.GenerateKey(rand.Reader, 2048)
		testKeys, otherKeys = token.NewKeys(k1), token.NewKeys(k2)
		return m.Run()
	}()
	os.Exit(code)
}

func seedFabrikam(ctx context.Context, s store.Store) error {
	created := time.Date(2022, 9, 21, 8, 7, 47, 0, time.UTC)
	if err := s.PutTenant(ctx, store.Tenant{ID: fabrikamID, Name: fabrikamName, DisplayName: "Fabrikam", CreatedAt: created}); err != nil {
		return err
	}
	if err := s.PutAcceptedDomain(ctx, store.AcceptedDomain{TenantID: fabrikamID, GUID: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
		Name: fabrikamName, DomainName: fabrikamName, DomainType: "Authoritative", Default: true, Initial: true,
		WhenCreated: created, WhenChanged: created}); err != nil {
		return err
	}
	if err := s.PutApp(ctx, store.App{TenantID: fabrikamID, AppID: fabrikamAppID, ObjectID: uuid.NewString(), DisplayName: "fabrikam app",
		AppRoles: []string{store.AppRoleManageAsApp}}); err != nil {
		return err
	}
	mk := func(i int, guid string) store.Object {
		alias := fmt.Sprintf("user%04d", i)
		primary := alias + "@fabrikam.com"
		o := store.Object{TenantID: fabrikamID, Type: "Recipient", ID: guid, Name: fmt.Sprintf("User %04d", i),
			WhenCreated: created, WhenChanged: created.Add(36 * time.Hour),
			Props: map[string]any{
				"ExternalDirectoryObjectId": uuid.NewSHA1(uuid.NameSpaceOID, []byte("ext"+alias)).String(),
				"Alias":                     alias, "DisplayName": fmt.Sprintf("User %04d", i), "FirstName": "User", "LastName": fmt.Sprintf("%04d", i),
				"UserPrincipalName": primary, "PrimarySmtpAddress": primary,
				"EmailAddresses": []string{"SMTP:" + primary, "smtp:" + alias + "@" + fabrikamName},
				"RecipientType":  "UserMailbox", "RecipientTypeDetails": "UserMailbox", "Database": "EURPR01DG123-db456",
				"DistinguishedName": "CN=" + alias + ",OU=" + fabrikamName + ",OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=PROD,DC=OUTLOOK,DC=COM",
				"Department":        "Finance",
			}}
		return o
	}
	golden := mk(0, goldenGUID)
	golden.Name = "Golden Mailbox"
	for k, v := range map[string]any{"Alias": "golden", "DisplayName": "Golden <Mailbox> & Co",
		"PrimarySmtpAddress": "golden@fabrikam.com", "UserPrincipalName": "golden@fabrikam.com",
		"EmailAddresses":    []string{"SMTP:golden@fabrikam.com", "smtp:golden@" + fabrikamName},
		"DistinguishedName": "CN=Golden Mailbox,OU=" + fabrikamName + ",OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=PROD,DC=OUTLOOK,DC=COM"} {
		golden.Props[k] = v
	}
	objs := []store.Object{golden}
	for i := 1; i < fabrikamMBoxes; i++ {
		objs = append(objs, mk(i, uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint("mbx", i))).String()))
	}
	for i := range objs {
		objs[i].Keys = recipientClass.keys(&objs[i])
	}
	return s.CreateMany(ctx, slices.Values(objs))
}

// env is one emulator Exchange server over the shared store.
type env struct {
	t   testing.TB
	srv *httptest.Server
	ex  *Server
}

func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	e := &env{t: t}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	cfg := Config{Store: testStore, Keys: testKeys, BaseURL: e.srv.URL}
	if mod != nil {
		mod(&cfg)
	}
	e.ex = New(cfg)
	mux.Handle("/adminapi/", e.ex)
	return e
}

// appClaims are an app-only token's claims for the demo tenant's app.
func appClaims(tenantID string) token.Claims {
	now := time.Now()
	return token.Claims{
		Audience: "https://outlook.office365.com", Issuer: token.Issuer(tenantID), TenantID: tenantID,
		IssuedAt: now.Unix(), NotBefore: now.Unix(), Expires: now.Add(time.Hour).Unix(),
		ObjectID: uuid.NewString(), Subject: uuid.NewString(), AppID: store.DemoAppID, AppIDACR: "2",
		Roles: []string{store.AppRoleManageAsApp}, WIDs: []string{store.RoleExchangeAdministrator},
	}
}

// userClaims are a delegated token's claims for a demo user.
func userClaims(upn string) token.Claims {
	c := appClaims(store.DemoTenantID)
	c.AppID, c.Roles, c.WIDs, c.AppIDACR = store.ModulePublicAppID, nil, nil, "0"
	c.UPN, c.UniqueName, c.Scope = upn, upn, "AdminApi.AccessAsUser.All"
	c.ObjectID = uuid.NewSHA1(uuid.MustParse(store.DemoTenantID), []byte("user/"+upn)).String()
	return c
}

func sign(t testing.TB, k *token.Keys, c token.Claims) string {
	t.Helper()
	s, err := k.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) appToken() string { return sign(e.t, testKeys, appClaims(store.DemoTenantID)) }

// call is one InvokeCommand request, made by hand as PROTOCOL.md §1 shows.
type call struct {
	method  string // default POST
	url     string // absolute; default the demo tenant's InvokeCommand
	token   string // default an app-only token for the demo tenant
	body    string // raw body; default built from cmdlet and params
	cmdlet  string
	params  map[string]any
	page    int // Prefer: odata.maxpagesize
	headers map[string]string
}

type answer struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (e *env) invokeURL(tenant string) string {
	return e.srv.URL + "/adminapi/beta/" + tenant + "/InvokeCommand"
}

func (e *env) do(c call) answer {
	e.t.Helper()
	if c.method == "" {
		c.method = http.MethodPost
	}
	if c.url == "" {
		c.url = e.invokeURL(store.DemoTenantName)
	}
	if c.token == "" {
		c.token = e.appToken()
	}
	body := c.body
	if body == "" && c.cmdlet != "" {
		in := map[string]any{"CmdletInput": map[string]any{"CmdletName": c.cmdlet, "Parameters": c.params}}
		if c.params == nil {
			in = map[string]any{"CmdletInput": map[string]any{"CmdletName": c.cmdlet}}
		}
		b, _ := json.Marshal(in)
		body = string(b)
	}
	var rd io.Reader
	if c.method != http.MethodGet {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(c.method, c.url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.page > 0 {
		req.Header.Set("Prefer", fmt.Sprintf("odata.maxpagesize=%d", c.page))
	}
	req.Header.Set("X-AnchorMailbox", "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@"+store.DemoTenantName)
	req.Header.Set("X-CmdletName", c.cmdlet)
	req.Header.Set("client-request-id", uuid.NewString())
	req.Header.Set("connection-id", uuid.NewString())
	req.Header.Set("X-ClientApplication", "ExoManagementModule")
	req.Header.Set("X-ClientModuleVersion", "3.9.2")
	req.Header.Set("X-ResponseFormat", "json")
	req.Header.Set("X-SerializationLevel", "Partial")
	req.Header.Set("Accept-Language", "en-US")
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			e.t.Fatalf("answer is not JSON: %v\n%s", err, raw)
		}
	}
	return a
}

func (a answer) values() []map[string]any {
	var out []map[string]any
	list, _ := a.body["value"].([]any)
	for _, v := range list {
		out = append(out, v.(map[string]any))
	}
	return out
}

func (a answer) warnings() []string {
	var out []string
	list, _ := a.body["@adminapi.warnings"].([]any)
	for _, v := range list {
		out = append(out, v.(string))
	}
	return out
}

func (a answer) nextLink() string { s, _ := a.body["@odata.nextLink"].(string); return s }

// detail is details[0].message, "ErrorId|Class|text"; for an answer without details (the
// binder could not convert an argument) the same form of innererror.internalexception, where a
// client then reads the class and text.
func (a answer) detail() string {
	errObj, _ := a.body["error"].(map[string]any)
	details, _ := errObj["details"].([]any)
	if len(details) == 0 {
		in, _ := errObj["innererror"].(map[string]any)
		ie, _ := in["internalexception"].(map[string]any)
		if class, _ := ie["type"].(string); class != "" {
			text, _ := ie["message"].(string)
			return "|" + class + "|" + text
		}
		return ""
	}
	d, _ := details[0].(map[string]any)
	s, _ := d["message"].(string)
	return s
}

func (a answer) String() string { return fmt.Sprintf("%d %s", a.status, bytes.TrimSpace(a.raw)) }
