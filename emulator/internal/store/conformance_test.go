package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// testStore holds a Store implementation to the interface's contract. open returns the same
// store's data each time it is called for one test (after the previous one was closed), so the
// suite can check that data survive a reopen.
func testStore(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store, reopen func() Store)
	}{
		{"Tenants", testTenants},
		{"Apps", testApps},
		{"Certificates", testCertificates},
		{"Users", testUsers},
		{"AssertionIDs", testAssertionIDs},
		{"AcceptedDomains", testAcceptedDomains},
		{"RecipientsPaging", testRecipientsPaging},
		{"Reopen", testReopen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Store
			reopen := func() Store {
				if s != nil {
					if err := s.Close(); err != nil {
						t.Fatalf("Close: %v", err)
					}
				}
				s = open(t)
				return s
			}
			s = open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s, reopen)
		})
	}
}

const (
	tenantA = "11111111-1111-4111-8111-111111111111"
	tenantB = "22222222-2222-4222-8222-222222222222"
)

func mustPutTenants(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	for _, tn := range []Tenant{
		{ID: tenantA, Name: "fabrikam.onmicrosoft.com", DisplayName: "Fabrikam"},
		{ID: tenantB, Name: "Tailspin.onmicrosoft.com", DisplayName: "Tailspin Toys"},
	} {
		if err := s.PutTenant(ctx, tn); err != nil {
			t.Fatalf("PutTenant(%s): %v", tn.Name, err)
		}
	}
	if err := s.PutAcceptedDomain(ctx, AcceptedDomain{TenantID: tenantA, DomainName: "fabrikam.onmicrosoft.com", Initial: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAcceptedDomain(ctx, AcceptedDomain{TenantID: tenantA, DomainName: "Fabrikam.com", Default: true}); err != nil {
		t.Fatal(err)
	}
}

func testTenants(t *testing.T, s Store, _ func() Store) {
	ctx := context.Background()
	mustPutTenants(t, s)
	for _, q := range []string{tenantA, strings.ToUpper(tenantA), "{" + tenantA + "}", "fabrikam.onmicrosoft.com",
		"FABRIKAM.onmicrosoft.COM", "fabrikam.com", "Fabrikam.Com"} {
		tn, err := s.Tenant(ctx, q)
		if err != nil {
			t.Errorf("Tenant(%q): %v", q, err)
			continue
		}
		if tn.ID != tenantA || tn.Name != "fabrikam.onmicrosoft.com" || tn.DisplayName != "Fabrikam" || tn.CreatedAt.IsZero() {
			t.Errorf("Tenant(%q) = %+v", q, tn)
		}
	}
	if tn, err := s.Tenant(ctx, "tailspin.ONMICROSOFT.com"); err != nil || tn.ID != tenantB || tn.Name != "Tailspin.onmicrosoft.com" {
		t.Errorf("Tenant(tailspin) = %+v, %v", tn, err)
	}
	for _, q := range []string{"contoso.com", "33333333-3333-4333-8333-333333333333", ""} {
		if _, err := s.Tenant(ctx, q); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), q) {
			t.Errorf("Tenant(%q) error = %v, want ErrNotFound naming it", q, err)
		}
	}
	ts, err := s.Tenants(ctx)
	if err != nil || len(ts) != 2 {
		t.Fatalf("Tenants = %v, %v", ts, err)
	}
	// Update.
	if err := s.PutTenant(ctx, Tenant{ID: tenantB, Name: "tailspin.onmicrosoft.com", DisplayName: "Tailspin"}); err != nil {
		t.Fatal(err)
	}
	if tn, _ := s.Tenant(ctx, tenantB); tn.DisplayName != "Tailspin" {
		t.Errorf("after update: %+v", tn)
	}
	if ts, _ := s.Tenants(ctx); len(ts) != 2 {
		t.Errorf("update added a tenant: %v", ts)
	}
	if err := s.PutTenant(ctx, Tenant{ID: tenantB}); err == nil {
		t.Error("PutTenant with no name succeeded")
	}
}

func testApps(t *testing.T, s Store, _ func() Store) {
	ctx := context.Background()
	mustPutTenants(t, s)
	app := App{TenantID: tenantA, AppID: "aaaaaaaa-0000-4000-8000-000000000001", ObjectID: "aaaaaaaa-0000-4000-8000-0000000000ff",
		DisplayName: "automation", AppRoles: []string{AppRoleManageAsApp}, DirectoryRoles: []string{RoleExchangeAdministrator}}
	public := App{TenantID: tenantB, AppID: ModulePublicAppID, DisplayName: "module", Public: true, RedirectURIs: []string{"http://localhost"}}
	for _, a := range []App{app, public} {
		if err := s.PutApp(ctx, a); err != nil {
			t.Fatalf("PutApp(%s): %v", a.AppID, err)
		}
	}
	got, err := s.App(ctx, tenantA, strings.ToUpper(app.AppID))
	if err != nil {
		t.Fatal(err)
	}
	if got.AppID != app.AppID || got.ObjectID != app.ObjectID || got.DisplayName != app.DisplayName ||
		!slices.Equal(got.AppRoles, app.AppRoles) || !slices.Equal(got.DirectoryRoles, app.DirectoryRoles) || got.Public || got.RedirectURIs != nil {
		t.Errorf("App = %+v, want %+v", got, app)
	}
	if _, err := s.App(ctx, tenantB, app.AppID); !errors.Is(err, ErrNotFound) {
		t.Errorf("App in other tenant: %v, want ErrNotFound", err)
	}
	got, err = s.AppAnyTenant(ctx, ModulePublicAppID)
	if err != nil || got.TenantID != tenantB || !got.Public || !slices.Equal(got.RedirectURIs, []string{"http://localhost"}) || got.ObjectID == "" {
		t.Errorf("AppAnyTenant = %+v, %v", got, err)
	}
	if _, err := s.AppAnyTenant(ctx, "bbbbbbbb-0000-4000-8000-000000000001"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "bbbbbbbb") {
		t.Errorf("AppAnyTenant(unknown) = %v", err)
	}
	app.AppRoles = nil
	app.DisplayName = "renamed"
	if err := s.PutApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.App(ctx, tenantA, app.AppID); got.DisplayName != "renamed" || got.AppRoles != nil {
		t.Errorf("after update: %+v", got)
	}
}

func testCertificates(t *testing.T, s Store, _ func() Store) {
	ctx := context.Background()
	appID := "aaaaaaaa-0000-4000-8000-000000000001"
	nb := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c1 := Certificate{AppID: appID, Thumbprint: "0A1B", SHA256: "FF00", DER: []byte{1, 2, 3}, NotBefore: nb, NotAfter: nb.AddDate(1, 0, 0)}
	c2 := Certificate{AppID: appID, Thumbprint: "0C2D", SHA256: "EE11", DER: []byte{4, 5}, NotBefore: nb.AddDate(0, 1, 0), NotAfter: nb.AddDate(2, 0, 0)}
	for _, c := range []Certificate{c2, c1} {
		if err := s.PutCertificate(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := s.Certificates(ctx, strings.ToUpper(appID))
	if err != nil || len(cs) != 2 {
		t.Fatalf("Certificates = %v, %v", cs, err)
	}
	if cs[0].Thumbprint != "0A1B" || cs[0].SHA256 != "FF00" || !slices.Equal(cs[0].DER, c1.DER) ||
		!cs[0].NotBefore.Equal(c1.NotBefore) || !cs[0].NotAfter.Equal(c1.NotAfter) || cs[1].Thumbprint != "0C2D" {
		t.Errorf("Certificates = %+v", cs)
	}
	if cs, err := s.Certificates(ctx, "bbbbbbbb-0000-4000-8000-000000000001"); err != nil || len(cs) != 0 {
		t.Errorf("Certificates(unknown app) = %v, %v, want none", cs, err)
	}
	if err := s.PutCertificate(ctx, Certificate{AppID: appID}); err == nil {
		t.Error("PutCertificate with no DER succeeded")
	}
}

func testUsers(t *testing.T, s Store, _ func() Store) {
	ctx := context.Background()
	mustPutTenants(t, s)
	u := User{TenantID: tenantA, ObjectID: "cccccccc-0000-4000-8000-000000000001", UPN: "Admin@Fabrikam.com", DisplayName: "Admin",
		Enabled: true, MFARequired: true, TOTPSecret: "JBSWY3DPEHPK3PXP", PowerShellEnabled: true,
		DirectoryRoles: []string{RoleExchangeAdministrator, RoleGlobalReader}}
	if err := s.PutUser(ctx, u, "S3cret-pass!"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"admin@fabrikam.com", "ADMIN@FABRIKAM.COM", u.ObjectID, strings.ToUpper(u.ObjectID)} {
		got, err := s.User(ctx, tenantA, q)
		if err != nil {
			t.Errorf("User(%q): %v", q, err)
			continue
		}
		if got.UPN != u.UPN || got.ObjectID != u.ObjectID || !got.Enabled || !got.MFARequired || got.TOTPSecret != u.TOTPSecret ||
			!got.PowerShellEnabled || !slices.Equal(got.DirectoryRoles, u.DirectoryRoles) || got.DisplayName != "Admin" {
			t.Errorf("User(%q) = %+v", q, got)
		}
		if got.PasswordHash == "" || strings.Contains(got.PasswordHash, "S3cret-pass!") {
			t.Errorf("password stored as %q", got.PasswordHash)
		}
	}
	if _, err := s.User(ctx, tenantB, "admin@fabrikam.com"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "admin@fabrikam.com") {
		t.Errorf("User in other tenant: %v", err)
	}
	for _, tc := range []struct {
		upn, password string
		want          bool
	}{
		{"admin@fabrikam.com", "S3cret-pass!", true},
		{"ADMIN@fabrikam.com", "S3cret-pass!", true},
		{"admin@fabrikam.com", "s3cret-pass!", false},
		{"admin@fabrikam.com", "", false},
	} {
		ok, err := s.CheckPassword(ctx, tenantA, tc.upn, tc.password)
		if err != nil || ok != tc.want {
			t.Errorf("CheckPassword(%s, %q) = %v, %v; want %v", tc.upn, tc.password, ok, err, tc.want)
		}
	}
	if ok, err := s.CheckPassword(ctx, tenantA, "nobody@fabrikam.com", "x"); ok || !errors.Is(err, ErrNotFound) {
		t.Errorf("CheckPassword(unknown) = %v, %v", ok, err)
	}
	// An update with no password keeps the old one; a new password replaces it.
	u.Enabled = false
	if err := s.PutUser(ctx, u, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.User(ctx, tenantA, u.UPN); got.Enabled {
		t.Error("update lost")
	}
	if ok, _ := s.CheckPassword(ctx, tenantA, u.UPN, "S3cret-pass!"); !ok {
		t.Error("update without a password dropped the password")
	}
	if err := s.PutUser(ctx, u, "N3w-pass"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.CheckPassword(ctx, tenantA, u.UPN, "S3cret-pass!"); ok {
		t.Error("old password still accepted")
	}
	if ok, _ := s.CheckPassword(ctx, tenantA, u.UPN, "N3w-pass"); !ok {
		t.Error("new password refused")
	}
	// A user with no password never signs in with one.
	if err := s.PutUser(ctx, User{TenantID: tenantA, UPN: "nopass@fabrikam.com", Enabled: true}, ""); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.CheckPassword(ctx, tenantA, "nopass@fabrikam.com", ""); ok || err != nil {
		t.Errorf("CheckPassword(no password) = %v, %v", ok, err)
	}
}

func testAssertionIDs(t *testing.T, s Store, _ func() Store) {
	ctx := context.Background()
	exp := time.Now().Add(10 * time.Minute)
	if ok, err := s.UseAssertionID(ctx, "jti-1", exp); !ok || err != nil {
		t.Fatalf("first use = %v, %v", ok, err)
	}
	if ok, err := s.UseAssertionID(ctx, "jti-1", exp); ok || err != nil {
		t.Fatalf("replay = %v, %v; want false", ok, err)
	}
	if ok, err := s.UseAssertionID(ctx, "jti-2", exp); !ok || err != nil {
		t.Fatalf("other jti = %v, %v", ok, err)
	}
	// An id whose record expired may be used again (its assertion is expired anyway).
	if ok, _ := s.UseAssertionID(ctx, "jti-old", time.Now().Add(-time.Minute)); !ok {
		t.Fatal("first use of jti-old refused")
	}
	if ok, _ := s.UseAssertionID(ctx, "jti-old", exp); !ok {
		t.Error("expired record still blocks")
	}
	// Concurrent replays: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Go(func() {
			ok, err := s.UseAssertionID(ctx, "jti-race", exp)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent uses of one jti succeeded, want 1", wins)
	}
}

func testAcceptedDomains(t *testing.T, s Store, _ func() Store) {
	ctx := context.Background()
	mustPutTenants(t, s)
	ds, err := s.AcceptedDomains(ctx, tenantA)
	if err != nil || len(ds) != 2 {
		t.Fatalf("AcceptedDomains = %v, %v", ds, err)
	}
	byName := map[string]AcceptedDomain{}
	for _, d := range ds {
		byName[d.DomainName] = d
		if d.GUID == "" || d.Name != d.DomainName || d.DomainType != "Authoritative" || d.WhenCreated.IsZero() || d.TenantID != tenantA {
			t.Errorf("domain %+v", d)
		}
	}
	if d := byName["fabrikam.onmicrosoft.com"]; !d.Initial || d.Default {
		t.Errorf("initial domain = %+v", d)
	}
	if d := byName["Fabrikam.com"]; d.Initial || !d.Default {
		t.Errorf("default domain = %+v", d)
	}
	// Making another domain default clears the old default.
	d := byName["fabrikam.onmicrosoft.com"]
	d.Default = true
	if err := s.PutAcceptedDomain(ctx, d); err != nil {
		t.Fatal(err)
	}
	ds, _ = s.AcceptedDomains(ctx, tenantA)
	defaults := 0
	for _, d := range ds {
		if d.Default {
			defaults++
			if d.DomainName != "fabrikam.onmicrosoft.com" {
				t.Errorf("default is %s", d.DomainName)
			}
		}
	}
	if len(ds) != 2 || defaults != 1 {
		t.Errorf("after default change: %+v", ds)
	}
	// A domain belongs to one tenant.
	if err := s.PutAcceptedDomain(ctx, AcceptedDomain{TenantID: tenantB, DomainName: "fabrikam.com"}); err == nil {
		t.Error("a second tenant claimed fabrikam.com")
	}
	if ds, err := s.AcceptedDomains(ctx, tenantB); err != nil || len(ds) != 0 {
		t.Errorf("AcceptedDomains(B) = %v, %v", ds, err)
	}
}

// putRecipients stores a small directory in tenant A (and one look-alike in tenant B).
func putRecipients(t *testing.T, s Store) []Recipient {
	t.Helper()
	ctx := context.Background()
	mustPutTenants(t, s)
	when := time.Date(2023, 4, 5, 6, 7, 8, 0, time.UTC)
	rs := []Recipient{
		{TenantID: tenantA, GUID: "dddddddd-0000-4000-8000-000000000001", ExternalDirectoryObjectID: "eeeeeeee-0000-4000-8000-000000000001",
			Name: "Pat Miller", Alias: "pat", DisplayName: "Pat Miller", FirstName: "Pat", LastName: "Miller",
			UserPrincipalName: "pat@fabrikam.com", PrimarySMTPAddress: "pat@fabrikam.com",
			EmailAddresses: []string{"SMTP:pat@fabrikam.com", "smtp:pat@fabrikam.onmicrosoft.com", "X500:/o=ExchangeLabs/cn=pat"},
			RecipientType:  "UserMailbox", RecipientTypeDetails: "UserMailbox", Database: "EURPR01DG001-db001",
			ProhibitSendQuotaBytes: DefaultProhibitSendQuota, ProhibitSendReceiveBytes: DefaultProhibitSendReceive,
			IssueWarningQuotaBytes: DefaultIssueWarningQuota, WhenCreated: when, WhenChanged: when.Add(time.Hour),
			Extra: map[string]any{"DistinguishedName": "CN=Pat Miller,OU=fabrikam.onmicrosoft.com,DC=prod", "Department": "Sales", "ResourceCapacity": 4.0}},
		{TenantID: tenantA, Name: "Sales", Alias: "sales", DisplayName: "Sales", PrimarySMTPAddress: "sales@fabrikam.com",
			EmailAddresses: []string{"SMTP:sales@fabrikam.com"}, RecipientType: "UserMailbox", RecipientTypeDetails: "SharedMailbox",
			HiddenFromAddressLists: true},
		{TenantID: tenantA, Name: "Room 1", Alias: "room1", EmailAddresses: []string{"SMTP:room1@fabrikam.com"},
			RecipientType: "UserMailbox", RecipientTypeDetails: "RoomMailbox"},
		// Ambiguous: "jo" is one's alias and the other's name.
		{TenantID: tenantA, Name: "jo", Alias: "joanne", EmailAddresses: []string{"SMTP:joanne@fabrikam.com"},
			RecipientType: "MailUser", RecipientTypeDetails: "MailUser"},
		{TenantID: tenantA, Name: "Jo Bloggs", Alias: "jo", EmailAddresses: []string{"SMTP:jo.bloggs@fabrikam.com"},
			RecipientType: "MailContact", RecipientTypeDetails: "MailContact"},
		{TenantID: tenantB, Name: "Pat Miller", Alias: "pat", EmailAddresses: []string{"SMTP:pat@tailspin.com"},
			RecipientType: "UserMailbox", RecipientTypeDetails: "UserMailbox"},
	}
	if err := s.PutRecipients(ctx, rs); err != nil {
		t.Fatal(err)
	}
	return rs
}

func collect(t *testing.T, s Store, q RecipientQuery) []Recipient {
	t.Helper()
	var all []Recipient
	for pages := 0; ; pages++ {
		page, next, err := s.Recipients(context.Background(), q)
		if err != nil {
			t.Fatalf("Recipients(%+v): %v", q, err)
		}
		if q.Limit > 0 && len(page) > q.Limit {
			t.Fatalf("page of %d, limit %d", len(page), q.Limit)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		if len(page) == 0 || pages > 10000 {
			t.Fatalf("cursor %q after an empty page", next)
		}
		q.After = next
	}
}

func testRecipientsPaging(t *testing.T, s Store, _ func() Store) {
	ctx := context.Background()
	mustPutTenants(t, s)
	kinds := []string{"UserMailbox", "SharedMailbox", "RoomMailbox", "MailUser"}
	var rs []Recipient
	for i := range 157 {
		// Names repeat in pairs and vary in case, so order must fall back to GUID.
		rs = append(rs, Recipient{TenantID: tenantA, Name: fmt.Sprintf("%s %03d", []string{"user", "User"}[i%2], i/2),
			Alias: fmt.Sprintf("u%d", i), RecipientType: "UserMailbox", RecipientTypeDetails: kinds[i%len(kinds)]})
	}
	if err := s.PutRecipients(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecipients(ctx, []Recipient{{TenantID: tenantB, Name: "other", RecipientTypeDetails: "UserMailbox"}}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountRecipients(ctx, tenantA); n != len(rs) || err != nil {
		t.Errorf("CountRecipients = %d, %v; want %d", n, err, len(rs))
	}
	whole := collect(t, s, RecipientQuery{TenantID: tenantA})
	if len(whole) != len(rs) {
		t.Fatalf("unpaged: %d recipients, want %d", len(whole), len(rs))
	}
	for i := 1; i < len(whole); i++ {
		a, b := whole[i-1], whole[i]
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c > 0 || c == 0 && a.GUID >= b.GUID {
			t.Fatalf("order: %s/%s before %s/%s", a.Name, a.GUID, b.Name, b.GUID)
		}
	}
	for _, size := range []int{1, 2, 10, 156, 157, 158, 1000} {
		paged := collect(t, s, RecipientQuery{TenantID: tenantA, Limit: size})
		if !slices.EqualFunc(paged, whole, func(a, b Recipient) bool { return a.GUID == b.GUID }) {
			t.Errorf("pages of %d differ from the whole (%d vs %d)", size, len(paged), len(whole))
		}
	}
	// Exactly-full last page has no cursor.
	if page, next, err := s.Recipients(ctx, RecipientQuery{TenantID: tenantA, Limit: len(rs)}); len(page) != len(rs) || next != "" || err != nil {
		t.Errorf("full page: %d, %q, %v", len(page), next, err)
	}
	// Type filter, any case.
	q := RecipientQuery{TenantID: tenantA, Types: []string{"sharedmailbox", "ROOMMAILBOX"}, Limit: 7}
	filtered := collect(t, s, q)
	var want []string
	for _, r := range whole {
		if r.RecipientTypeDetails == "SharedMailbox" || r.RecipientTypeDetails == "RoomMailbox" {
			want = append(want, r.GUID)
		}
	}
	if !slices.Equal(guids(filtered), want) {
		t.Errorf("filtered: %d recipients, want %d in order", len(filtered), len(want))
	}
	if got := collect(t, s, RecipientQuery{TenantID: tenantA, Types: []string{"GroupMailbox"}}); len(got) != 0 {
		t.Errorf("no GroupMailbox expected, got %d", len(got))
	}
	// Any number of types: more than SQLite's 32,766 variables (fewer under the race
	// detector, where SQLite is a hundred times slower).
	many := make([]string, 32_767)
	if raceEnabled {
		many = many[:2_000]
	}
	for i := range many {
		many[i] = fmt.Sprintf("Type%d", i)
	}
	many[0], many[len(many)-1] = "SharedMailbox", "roommailbox"
	if got := collect(t, s, RecipientQuery{TenantID: tenantA, Types: many}); !slices.Equal(guids(got), want) {
		t.Errorf("with %d types: %d recipients, want %d", len(many), len(got), len(want))
	}
	// A cursor holds across writes: a recipient added before it is not repeated.
	page, next, _ := s.Recipients(ctx, RecipientQuery{TenantID: tenantA, Limit: 50})
	if err := s.PutRecipients(ctx, []Recipient{{TenantID: tenantA, Name: "aaa first", RecipientTypeDetails: "UserMailbox"}}); err != nil {
		t.Fatal(err)
	}
	rest := collect(t, s, RecipientQuery{TenantID: tenantA, After: next, Limit: 50})
	if len(page)+len(rest) != len(rs) {
		t.Errorf("after an insert before the cursor: %d+%d, want %d", len(page), len(rest), len(rs))
	}
	if _, _, err := s.Recipients(ctx, RecipientQuery{TenantID: tenantA, After: "not a cursor!"}); err == nil {
		t.Error("a bad cursor was accepted")
	}
	if page, next, err := s.Recipients(ctx, RecipientQuery{TenantID: "33333333-3333-4333-8333-333333333333", Limit: 5}); len(page) != 0 || next != "" || err != nil {
		t.Errorf("unknown tenant: %v, %q, %v", page, next, err)
	}
}

func guids(rs []Recipient) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.GUID)
	}
	return out
}

func testReopen(t *testing.T, s Store, reopen func() Store) {
	ctx := context.Background()
	putRecipients(t, s)
	if err := s.PutUser(ctx, User{TenantID: tenantA, UPN: "u@fabrikam.com", Enabled: true}, "pw-1234"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseAssertionID(ctx, "jti-keep", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s = reopen()
	if _, err := s.Tenant(ctx, "fabrikam.com"); err != nil {
		t.Errorf("tenant lost: %v", err)
	}
	if n, _ := s.CountRecipients(ctx, tenantA); n != 5 {
		t.Errorf("%d recipients after reopen, want 5", n)
	}
	if ok, _ := s.CheckPassword(ctx, tenantA, "u@fabrikam.com", "pw-1234"); !ok {
		t.Error("password lost")
	}
	if ok, _ := s.UseAssertionID(ctx, "jti-keep", time.Now().Add(time.Hour)); ok {
		t.Error("assertion id forgotten on reopen: replay possible")
	}
}

func TestSQLite(t *testing.T) {
	var mu sync.Mutex
	paths := map[*testing.T]string{} // one database per subtest, the same across its reopens
	testStore(t, func(t *testing.T) Store {
		mu.Lock()
		path, ok := paths[t]
		if !ok {
			path = t.TempDir() + "/store.db"
			paths[t] = path
		}
		mu.Unlock()
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
