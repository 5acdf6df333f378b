package store

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"
)

func openTemp(t testing.TB) *SQLite {
	t.Helper()
	s, err := Open(context.Background(), t.TempDir()+"/store.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testCertificateDER(t testing.TB) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "exoctl automation"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestSeedDemo(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if empty, err := IsEmpty(ctx, s); !empty || err != nil {
		t.Fatalf("IsEmpty(new) = %v, %v", empty, err)
	}
	der := testCertificateDER(t)
	start := time.Now()
	res, err := Seed(ctx, s, SeedOptions{AppCertificateDER: der})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("demo seed: %v", time.Since(start))
	if empty, _ := IsEmpty(ctx, s); empty {
		t.Error("IsEmpty after seeding")
	}
	if res.TenantID != DemoTenantID || res.TenantName != "contoso.onmicrosoft.com" || res.AppID != DemoAppID {
		t.Errorf("result = %+v", res)
	}
	if _, err := Seed(ctx, s, SeedOptions{}); err == nil {
		t.Error("seeding twice succeeded")
	}
	tn, err := s.Tenant(ctx, "CONTOSO.COM")
	if err != nil || tn.ID != DemoTenantID || tn.DisplayName != "Contoso" {
		t.Fatalf("Tenant = %+v, %v", tn, err)
	}
	ds, _ := s.AcceptedDomains(ctx, DemoTenantID)
	if len(ds) != 2 || ds[0].DomainName != "contoso.com" || !ds[0].Default || ds[1].DomainName != "contoso.onmicrosoft.com" || !ds[1].Initial {
		t.Errorf("domains = %+v", ds)
	}
	app, err := s.App(ctx, DemoTenantID, DemoAppID)
	if err != nil || app.DisplayName != "exoctl automation" || app.AppRoles[0] != AppRoleManageAsApp || app.DirectoryRoles[0] != RoleExchangeAdministrator {
		t.Errorf("app = %+v, %v", app, err)
	}
	if pub, err := s.AppAnyTenant(ctx, ModulePublicAppID); err != nil || !pub.Public || pub.RedirectURIs[0] != "http://localhost" {
		t.Errorf("public app = %+v, %v", pub, err)
	}
	cs, err := s.Certificates(ctx, DemoAppID)
	if err != nil || len(cs) != 1 || len(cs[0].Thumbprint) != 40 || len(cs[0].SHA256) != 64 || cs[0].Thumbprint != strings.ToUpper(cs[0].Thumbprint) {
		t.Errorf("certificates = %+v, %v", cs, err)
	}
	for _, u := range res.Users {
		if ok, err := s.CheckPassword(ctx, DemoTenantID, u.UPN, u.Password); !ok || err != nil {
			t.Errorf("%s cannot sign in with the seeded password: %v", u.UPN, err)
		}
	}
	admin, err := s.User(ctx, DemoTenantID, "admin@contoso.onmicrosoft.com")
	if err != nil || !admin.Enabled || !admin.PowerShellEnabled || admin.DirectoryRoles[0] != RoleExchangeAdministrator {
		t.Errorf("admin = %+v, %v", admin, err)
	}
	var mfa, disabled, noShell int
	for _, u := range demoUsers {
		got, _ := s.User(ctx, DemoTenantID, u.upn)
		if got.MFARequired && got.TOTPSecret != "" {
			mfa++
		}
		if !got.Enabled {
			disabled++
		}
		if !got.PowerShellEnabled {
			noShell++
		}
	}
	if mfa != 1 || disabled != 1 || noShell != 1 {
		t.Errorf("mfa %d, disabled %d, no PowerShell %d; want one each", mfa, disabled, noShell)
	}
}

func TestSeedUnknown(t *testing.T) {
	if _, err := Seed(context.Background(), openTemp(t), SeedOptions{Seed: "huge"}); err == nil || !strings.Contains(err.Error(), "huge") {
		t.Errorf("unknown seed: %v", err)
	}
}

func TestSeedManagedIdentities(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	res, err := Seed(ctx, s, SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ManagedIdentities) != 3 {
		t.Fatalf("managed identities = %+v", res.ManagedIdentities)
	}
	want := map[string]struct {
		client, object string
		system, role   bool
	}{
		"exoctl-vm":              {DemoVMIdentityClientID, DemoVMIdentityObjectID, true, true},
		"exoctl-automation-uami": {DemoAutomationIdentityClientID, DemoAutomationIdentityObjectID, false, true},
		"exoctl-norole-uami":     {DemoNoRoleIdentityClientID, DemoNoRoleIdentityObjectID, false, false},
	}
	for _, mi := range res.ManagedIdentities {
		w, ok := want[mi.Name]
		if !ok || mi.ClientID != w.client || mi.ObjectID != w.object || mi.SystemAssigned != w.system || !strings.HasPrefix(mi.ResourceID, "/subscriptions/"+DemoSubscriptionID+"/resourceGroups/") {
			t.Errorf("identity %+v", mi)
		}
		if w.role && (len(mi.Roles) != 1 || mi.Roles[0] != "Exchange Administrator") {
			t.Errorf("%s roles = %v", mi.Name, mi.Roles)
		}
		app, err := s.App(ctx, DemoTenantID, mi.ClientID)
		if err != nil || app.ObjectID != mi.ObjectID || app.DisplayName != mi.Name || app.Public {
			t.Fatalf("app of %s = %+v, %v", mi.Name, app, err)
		}
		hasRole := len(app.AppRoles) == 1 && app.AppRoles[0] == AppRoleManageAsApp && len(app.DirectoryRoles) == 1 && app.DirectoryRoles[0] == RoleExchangeAdministrator
		if hasRole != w.role || (!w.role && (len(app.AppRoles) != 0 || len(app.DirectoryRoles) != 0)) {
			t.Errorf("%s: app roles %v, directory roles %v", mi.Name, app.AppRoles, app.DirectoryRoles)
		}
	}
	// SeedInfo reports the same without writing.
	info, _ := SeedInfo(SeedDemo)
	if len(info.ManagedIdentities) != 3 || info.ManagedIdentities[0].ClientID != DemoVMIdentityClientID {
		t.Errorf("SeedInfo managed identities = %+v", info.ManagedIdentities)
	}
}
