package identity_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/exoctl/exoctl/emulator/internal/identity"
	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
)

// partnerEnv is the identity service over the demo seed: Contoso, the Northwind Partners
// partner tenant and its customers.
type partnerEnv struct {
	base   string
	keys   *token.Keys
	store  *store.SQLite
	res    *store.SeedResult
	client *http.Client
	app    func(t *testing.T) public.Client
}

func newPartnerEnv(t *testing.T) *partnerEnv {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.MemoryPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	res, err := store.Seed(ctx, st, store.SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := &partnerEnv{keys: testKeys(t), store: st, res: res}
	var h http.Handler
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	e.base = ts.URL
	h = identity.New(identity.Config{Store: st, Keys: e.keys, BaseURL: e.base, Resources: []string{exoRes}})
	e.client = ts.Client()
	e.app = func(t *testing.T) public.Client {
		c, err := public.New(identity.ModuleAppID, public.WithAuthority(e.base+"/organizations"),
			public.WithHTTPClient(ts.Client()), public.WithInstanceDiscovery(false))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return e
}

func (e *partnerEnv) tenant(t *testing.T, name string) store.SeedTenant {
	t.Helper()
	for _, x := range e.res.Tenants {
		if x.Name == name {
			return x
		}
	}
	t.Fatalf("no seeded tenant %s", name)
	return store.SeedTenant{}
}

func (e *partnerEnv) password(t *testing.T, upn string) string {
	t.Helper()
	for _, u := range e.tenant(t, store.PartnerTenantName).Users {
		if u.UPN == upn {
			return u.Password
		}
	}
	t.Fatalf("no partner user %s", upn)
	return ""
}

// A partner's users sign in once at their home authority and get each customer's token
// silently at the customer's authority (MSAL's tenant override), with the claims Entra puts
// on such tokens; relationships that ended, never existed or do not cover the user's groups
// get AADSTS50020.
func TestPartnerTokensAtCustomerAuthority(t *testing.T) {
	t.Parallel()
	e := newPartnerEnv(t)
	ctx := context.Background()
	partner := e.tenant(t, store.PartnerTenantName)
	scopes := []string{exoRes + "/.default"}
	for _, tc := range []struct {
		user, customer string
		wids           []string // nil: refused with 50020
		why            string
	}{
		{"dana.agent@northwindpartners.com", "wingtiptoys.onmicrosoft.com", []string{store.RoleGlobalAdministrator}, ""},
		{"dana.agent@northwindpartners.com", "adatum.onmicrosoft.com", nil, ""},
		{"priya.ops@northwindpartners.com", "wingtiptoys.com", []string{store.RoleExchangeAdministrator}, ""},
		{"priya.ops@northwindpartners.com", "adatum.onmicrosoft.com", []string{store.RoleExchangeAdministrator}, ""},
		{"rob.helpdesk@northwindpartners.com", "adatum.onmicrosoft.com", []string{store.RoleGlobalReader}, ""},
		{"priya.ops@northwindpartners.com", "litware.onmicrosoft.com", nil, "is expired"},
		{"priya.ops@northwindpartners.com", "tailspintoys.onmicrosoft.com", nil, "is terminated"},
		{"priya.ops@northwindpartners.com", store.DemoTenantName, nil, ""},
		{"admin@northwindpartners.onmicrosoft.com", "wingtiptoys.onmicrosoft.com", nil, ""},
	} {
		t.Run(tc.user+"@"+tc.customer, func(t *testing.T) {
			app := e.app(t)
			home, err := app.AcquireTokenByUsernamePassword(ctx, scopes, tc.user, e.password(t, tc.user))
			if err != nil {
				t.Fatal(err)
			}
			r, err := app.AcquireTokenSilent(ctx, scopes, public.WithSilentAccount(home.Account), public.WithTenantID(tc.customer))
			if tc.wids == nil {
				if err == nil || !strings.Contains(err.Error(), "AADSTS50020") || !strings.Contains(err.Error(), "'"+tc.user+"' from identity provider 'https://sts.windows.net/"+partner.ID+"/'") {
					t.Fatalf("err = %v, want AADSTS50020 naming the user and the partner's issuer", err)
				}
				if tc.why != "" && !strings.Contains(err.Error(), tc.why) {
					t.Errorf("err = %v, want it to say the relationship %s", err, tc.why)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := e.keys.Verify(r.AccessToken, time.Now(), exoRes)
			if err != nil {
				t.Fatal(err)
			}
			cust, err := e.store.Tenant(ctx, tc.customer)
			if err != nil {
				t.Fatal(err)
			}
			if c.TenantID != cust.ID || c.Issuer != token.Issuer(cust.ID) || c.IdentityProvider != token.Issuer(partner.ID) ||
				c.UPN != tc.user || c.ObjectID != home.Account.LocalAccountID || !slices.Equal(c.WIDs, tc.wids) {
				t.Errorf("claims = %+v, want tid %s, idp of %s, upn %s, wids %v", c, cust.ID, partner.ID, tc.user, tc.wids)
			}
			if r.Account.HomeAccountID != home.Account.HomeAccountID {
				t.Errorf("account %s, want the home account %s", r.Account.HomeAccountID, home.Account.HomeAccountID)
			}
			// The password grant at the customer's authority works the same.
			c2, err := public.New(identity.ModuleAppID, public.WithAuthority(e.base+"/"+tc.customer),
				public.WithHTTPClient(e.client), public.WithInstanceDiscovery(false))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c2.AcquireTokenByUsernamePassword(ctx, scopes, tc.user, e.password(t, tc.user)); err != nil {
				t.Fatalf("password at the customer's authority: %v", err)
			}
		})
	}
}

// A guest (B2B) invited into Contoso gets Contoso's token with the guest object's oid, no upn,
// its home address as unique_name, and its roles there.
func TestGuestTokenAtResourceTenant(t *testing.T) {
	t.Parallel()
	e := newPartnerEnv(t)
	ctx := context.Background()
	app := e.app(t)
	scopes := []string{exoRes + "/.default"}
	const guest = "sam.guest@northwindpartners.com"
	home, err := app.AcquireTokenByUsernamePassword(ctx, scopes, guest, e.password(t, guest))
	if err != nil {
		t.Fatal(err)
	}
	r, err := app.AcquireTokenSilent(ctx, scopes, public.WithSilentAccount(home.Account), public.WithTenantID(store.DemoTenantName))
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.keys.Verify(r.AccessToken, time.Now(), exoRes)
	if err != nil {
		t.Fatal(err)
	}
	gu, err := e.store.User(ctx, store.DemoTenantID, store.GuestUPN(guest, store.DemoTenantName))
	if err != nil {
		t.Fatal(err)
	}
	if c.TenantID != store.DemoTenantID || c.UPN != "" || c.UniqueName != guest || c.ObjectID != gu.ObjectID ||
		c.IdentityProvider != token.Issuer(e.tenant(t, store.PartnerTenantName).ID) || !slices.Equal(c.WIDs, []string{store.RoleExchangeAdministrator}) {
		t.Errorf("claims = %+v", c)
	}
	// Not a guest of Wingtip Toys.
	_, err = app.AcquireTokenSilent(ctx, scopes, public.WithSilentAccount(home.Account), public.WithTenantID("wingtiptoys.onmicrosoft.com"))
	if err == nil || !strings.Contains(err.Error(), "AADSTS50020") {
		t.Fatalf("err = %v, want AADSTS50020", err)
	}
}
