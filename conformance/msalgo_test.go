package conformance

import (
	"context"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/emulator"
)

// MSAL Go, as any Go program would use it (no exoctl code between it and the emulator).
func TestMSALGo(t *testing.T) {
	t.Parallel()
	e := start(t)
	cfg := config(t, e, freePort(t))
	ctx := context.Background()
	s := &seq{t: t}
	exo := []string{cfg.Exchange + "/.default"}
	scc := []string{cfg.Compliance + "/.default"}
	popts := []public.Option{public.WithHTTPClient(e.HTTPClient()), public.WithInstanceDiscovery(false)}
	pca, err := public.New(cfg.ModuleAppID, append(popts, public.WithAuthority(e.URL+"/organizations"))...)
	if err != nil {
		t.Fatal(err)
	}
	admin := cfg.Users["admin"]

	s.step("confidential client with a certificate, two resources", func(t *testing.T) {
		app := e.Info.Tenants[0].Apps[0]
		c, err := auth.LoadPFX(app.CertificateFile, app.CertificatePassword)
		if err != nil {
			t.Fatal(err)
		}
		cred, err := confidential.NewCredFromCert(c.Chain, c.Key)
		if err != nil {
			t.Fatal(err)
		}
		cca, err := confidential.New(e.URL+"/"+cfg.Tenant, cfg.AppID, cred, confidential.WithHTTPClient(e.HTTPClient()), confidential.WithInstanceDiscovery(false))
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range [][]string{exo, scc} {
			if r, err := cca.AcquireTokenByCredential(ctx, sc); err != nil || r.AccessToken == "" {
				t.Fatalf("%v: %v", sc, err)
			}
		}
	})
	var acct public.Account
	s.step("username/password", func(t *testing.T) {
		r, err := pca.AcquireTokenByUsernamePassword(ctx, exo, admin, cfg.Passwords[admin])
		if err != nil || !strings.EqualFold(r.Account.PreferredUsername, admin) {
			t.Fatalf("%v %+v", err, r.Account)
		}
		acct = r.Account
	})
	s.step("silent from the cache", func(t *testing.T) {
		if _, err := pca.AcquireTokenSilent(ctx, exo, public.WithSilentAccount(acct)); err != nil {
			t.Fatal(err)
		}
	})
	s.step("silent refresh for a second resource", func(t *testing.T) {
		r, err := pca.AcquireTokenSilent(ctx, scc, public.WithSilentAccount(acct))
		if err != nil || r.AccessToken == "" {
			t.Fatal(err)
		}
	})
	s.step("device code", func(t *testing.T) {
		dev, err := public.New(cfg.ModuleAppID, append(popts, public.WithAuthority(e.URL+"/"+cfg.Tenant))...)
		if err != nil {
			t.Fatal(err)
		}
		dc, err := dev.AcquireTokenByDeviceCode(ctx, exo)
		if err != nil {
			t.Fatal(err)
		}
		u := &emulator.User{Client: e.HTTPClient(), UPN: admin, Password: cfg.Passwords[admin], UserCode: dc.Result.UserCode}
		if _, err := u.SignIn(dc.Result.VerificationURL); err != nil {
			t.Fatal(err)
		}
		if r, err := dc.AuthenticationResult(ctx); err != nil || !strings.EqualFold(r.Account.PreferredUsername, admin) {
			t.Fatalf("%v", err)
		}
	})
}
