package identity_test

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
)

func (e *env) msalClient(t *testing.T, tenant, clientID string, c testCert, opts ...confidential.Option) confidential.Client {
	t.Helper()
	cred, err := confidential.NewCredFromCert([]*x509.Certificate{c.cert}, c.key)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]confidential.Option{
		confidential.WithInstanceDiscovery(false),
		confidential.WithHTTPClient(e.client),
		confidential.WithAzureRegion("DisableMsalForceRegion"),
	}, opts...)
	app, err := confidential.New(e.base+"/"+tenant, clientID, cred, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// MSAL Go, used as users' code uses it, gets an app-only Exchange token, then answers the
// second request from its cache without calling the emulator.
func TestMSALGoClientCredentials(t *testing.T) {
	for _, tc := range []struct {
		name, tenant string
		opts         []confidential.Option
	}{
		{"tenant id", tenantID, nil},
		{"initial domain", tenantName, nil},
		{"accepted domain with x5c", "contoso.com", []confidential.Option{confidential.WithX5C()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			app := e.msalClient(t, tc.tenant, appID, e.certs[0], tc.opts...)
			ctx := context.Background()
			scopes := []string{exoRes + "/.default"}
			res, err := app.AcquireTokenByCredential(ctx, scopes)
			if err != nil {
				t.Fatalf("AcquireTokenByCredential: %v", err)
			}
			e.checkAppToken(t, res.AccessToken, exoRes)
			if res.Metadata.TokenSource != confidential.TokenSourceIdentityProvider {
				t.Errorf("first token source = %v", res.Metadata.TokenSource)
			}
			if n := e.posts.Load(); n != 1 {
				t.Errorf("token endpoint calls = %d, want 1", n)
			}

			again, err := app.AcquireTokenByCredential(ctx, scopes)
			if err != nil {
				t.Fatalf("second AcquireTokenByCredential: %v", err)
			}
			if again.AccessToken != res.AccessToken || again.Metadata.TokenSource != confidential.TokenSourceCache {
				t.Errorf("second token not from MSAL's cache (source %v)", again.Metadata.TokenSource)
			}
			if n := e.posts.Load(); n != 1 {
				t.Errorf("token endpoint calls after cache hit = %d, want 1", n)
			}

			// Another resource is another token.
			cc, err := app.AcquireTokenByCredential(ctx, []string{"https://ps.compliance.protection.outlook.com/.default"})
			if err != nil {
				t.Fatalf("compliance token: %v", err)
			}
			e.checkAppToken(t, cc.AccessToken, "https://ps.compliance.protection.outlook.com")
		})
	}
}

// MSAL Go surfaces the emulator's AADSTS errors as a CallErr with the server's words.
func TestMSALGoErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, tenant, client string
		c                    testCert
		scope                string
		code                 string
	}{
		{"unknown app", tenantID, "00000000-0000-0000-0000-00000000beef", e.certs[0], exoRes + "/.default", "AADSTS700016"},
		{"unregistered certificate", tenantID, appID, e.certs[1], exoRes + "/.default", "AADSTS700027"},
		{"unknown resource", tenantID, appID, e.certs[0], "https://nowhere.example/.default", "AADSTS500011"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := e.msalClient(t, tc.tenant, tc.client, tc.c)
			_, err := app.AcquireTokenByCredential(ctx, []string{tc.scope})
			var ce msalerrors.CallErr
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a CallErr", err)
			}
			if !strings.Contains(err.Error(), tc.code) {
				t.Errorf("err = %v, want %s", err, tc.code)
			}
		})
	}
	t.Run("unknown tenant", func(t *testing.T) {
		app := e.msalClient(t, "fabrikam.onmicrosoft.com", appID, e.certs[0])
		_, err := app.AcquireTokenByCredential(ctx, []string{exoRes + "/.default"})
		if err == nil || !strings.Contains(err.Error(), "AADSTS90002") {
			t.Errorf("err = %v, want AADSTS90002", err)
		}
	})
}
