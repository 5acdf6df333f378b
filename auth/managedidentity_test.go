package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/emulator"
	"github.com/exoctl/exoctl/exo"
)

// These tests set environment variables (MSAL picks its managed identity source from them), so
// none runs in parallel. MSAL caches managed identity tokens process-wide by identity and
// resource; each test asks for its own emulator's URL, a resource no other test shares.

var miEnv = []string{"IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"}

func clearMIEnv(t *testing.T) {
	for _, k := range miEnv {
		t.Setenv(k, "")
	}
}

// guarded returns a client (trusting caCfg's CA when e is set) whose dialer refuses and counts
// every address that is not loopback: nothing here may reach 169.254.169.254.
func guarded(e *emulator.Emulator) (*http.Client, *atomic.Int32) {
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	if e != nil {
		hc = e.HTTPClient()
	}
	tr := hc.Transport.(*http.Transport)
	tr.Proxy = nil
	var refused atomic.Int32
	d := &net.Dialer{}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			refused.Add(1)
			return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("test refuses non-loopback address %s", addr)}
		}
		return d.DialContext(ctx, network, addr)
	}
	return hc, &refused
}

func startEmulator(t *testing.T) *emulator.Emulator {
	t.Helper()
	e, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func TestManagedIdentityAccountID(t *testing.T) {
	clearMIEnv(t)
	const guid = "5e2a9c7f-1d38-4b64-a5f0-8c4d2e6b9a13"
	const rid = "/subscriptions/9a1c5e3b-7d42-4f86-b0e9-2c6d8f4a1b57/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x"
	for _, tc := range []struct {
		account string
		kind    auth.IDKind
		want    string // Identity(), or "error: ..." substring
	}{
		{"", auth.IDAuto, "system-assigned managed identity"},
		{guid, auth.IDAuto, "managed identity with client id " + guid},
		{guid, auth.IDObjectID, "managed identity with object id " + guid},
		{guid, auth.IDClientID, "managed identity with client id " + guid},
		{rid, auth.IDAuto, "managed identity " + rid},
		{strings.ToUpper(rid[:14]) + rid[14:], auth.IDAuto, "managed identity " + strings.ToUpper(rid[:14]) + rid[14:]},
		{"exoctl-automation-uami", auth.IDAuto, "error: neither a GUID"},
		{"not-a-guid", auth.IDObjectID, "error: not a GUID"},
		{guid, auth.IDResourceID, "error: does not start with /subscriptions/"},
		{"", auth.IDClientID, "error: needs a value"},
	} {
		src, err := auth.NewManagedIdentitySource(auth.ManagedIdentityConfig{AccountID: tc.account, IDKind: tc.kind})
		if want, isErr := strings.CutPrefix(tc.want, "error: "); isErr {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%q/%d: err = %v, want %q", tc.account, tc.kind, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q/%d: %v", tc.account, tc.kind, err)
			continue
		}
		if src.Identity() != tc.want || src.Source() != "DefaultToIMDS" || !auth.IsManagedIdentity(src) {
			t.Errorf("%q/%d: identity %q source %s", tc.account, tc.kind, src.Identity(), src.Source())
		}
	}
	if auth.IsManagedIdentity(&auth.StaticSource{}) {
		t.Error("a static token is not a managed identity")
	}
}

// connectAndList connects with src as exoctl does and runs Get-AcceptedDomain.
func connectAndList(t *testing.T, e *emulator.Emulator, hc *http.Client, src auth.Source) (*exo.Session, error) {
	t.Helper()
	s, err := exo.Connect(context.Background(), exo.Options{
		ConnectionURI: e.URL, AuthorityURI: e.Info.Authority, Organization: e.Info.Tenants[0].Name,
		Credential: src, HTTPClient: hc, RetryBackoff: time.Millisecond, MaxRetries: 1,
	})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	n := 0
	for _, err := range s.Invoke(context.Background(), "Get-AcceptedDomain", nil) {
		if err != nil {
			return s, err
		}
		n++
	}
	if n != 2 {
		t.Errorf("Get-AcceptedDomain: %d domains", n)
	}
	return s, nil
}

// TestManagedIdentityIMDS: the source on an "Azure VM", IMDS reached through IMDSEndpoint.
func TestManagedIdentityIMDS(t *testing.T) {
	clearMIEnv(t)
	e := startEmulator(t)
	hc, refused := guarded(e)
	uami := e.Info.Tenants[0].ManagedIdentities[1]
	for _, tc := range []struct {
		name    string
		account string
		kind    auth.IDKind
		appID   string
	}{
		{"system-assigned", "", auth.IDAuto, e.Info.Tenants[0].ManagedIdentities[0].ClientID},
		{"client id", uami.ClientID, auth.IDAuto, uami.ClientID},
		{"object id", uami.ObjectID, auth.IDObjectID, uami.ClientID},
		{"object id as a bare GUID (client id first, then object id)", uami.ObjectID, auth.IDAuto, uami.ClientID},
		{"resource id", uami.ResourceID, auth.IDAuto, uami.ClientID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := auth.NewManagedIdentitySource(auth.ManagedIdentityConfig{
				AccountID: tc.account, IDKind: tc.kind, HTTPClient: hc, IMDSEndpoint: e.Info.ManagedIdentity.IMDSEndpoint,
			})
			if err != nil {
				t.Fatal(err)
			}
			s, err := connectAndList(t, e, hc, src)
			if err != nil {
				t.Fatal(err)
			}
			info := s.Info()
			if info.AppID != tc.appID || info.TenantID != e.Info.Tenants[0].ID || info.TokenExpiryTimeUTC.Before(time.Now().Add(time.Hour)) {
				t.Errorf("connection %+v", info)
			}
			tok, _ := s.Token(context.Background())
			if tok.Claims.Audience != e.URL {
				t.Errorf("aud %s, want the resource %s (scope without /.default)", tok.Claims.Audience, e.URL)
			}
			// An identity with its roles: nothing to explain.
			if err := auth.ExplainManagedIdentityRefusal(src, tok, errors.New("x")); err.Error() != "x" {
				t.Errorf("explained a refusal of an identity with roles: %v", err)
			}
		})
	}
	if refused.Load() != 0 {
		t.Errorf("%d non-loopback dials", refused.Load())
	}
}

// TestManagedIdentityNoRole: Exchange refuses the identity with no role, and the client says
// exactly what it lacks.
func TestManagedIdentityNoRole(t *testing.T) {
	clearMIEnv(t)
	e := startEmulator(t)
	hc, refused := guarded(e)
	src, err := auth.NewManagedIdentitySource(auth.ManagedIdentityConfig{
		AccountID: miClientID(t, e, "exoctl-norole-uami"), HTTPClient: hc, IMDSEndpoint: e.Info.ManagedIdentity.IMDSEndpoint,
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := connectAndList(t, e, hc, src)
	var ce *exo.CmdletError
	if !errors.As(err, &ce) || (ce.StatusCode != 401 && ce.StatusCode != 403) {
		t.Fatalf("Get-AcceptedDomain with no role: %v", err)
	}
	tok, _ := s.Token(context.Background())
	err = auth.ExplainManagedIdentityRefusal(src, tok, err)
	var re *auth.ManagedIdentityRoleError
	if !errors.As(err, &re) || !re.MissingAppRole || !re.MissingDirectoryRole || re.ClientID != miClientID(t, e, "exoctl-norole-uami") {
		t.Fatalf("explained: %#v", err)
	}
	want := "the managed identity with client id " + miClientID(t, e, "exoctl-norole-uami") + " has no Exchange role: grant Exchange.ManageAsApp and the Exchange Administrator role"
	if !strings.HasPrefix(err.Error(), want) || !errors.As(err, &ce) {
		t.Errorf("message %q", err)
	}
	if strings.Contains(err.Error(), "connect again") {
		t.Errorf("a role is missing, not a sign-in: %q", err)
	}
	if refused.Load() != 0 {
		t.Errorf("%d non-loopback dials", refused.Load())
	}
}

func TestManagedIdentityAppServiceAndCloudShell(t *testing.T) {
	for _, tc := range []struct {
		name, source string
		env          func(e *emulator.Emulator) map[string]string
		account      string
	}{
		{"App Service", "AppService", func(e *emulator.Emulator) map[string]string {
			return map[string]string{"IDENTITY_ENDPOINT": e.Info.ManagedIdentity.AppServiceEndpoint, "IDENTITY_HEADER": e.Info.ManagedIdentity.IdentityHeader}
		}, "exoctl-automation-uami"},
		{"App Service system-assigned", "AppService", func(e *emulator.Emulator) map[string]string {
			return map[string]string{"IDENTITY_ENDPOINT": e.Info.ManagedIdentity.AppServiceEndpoint, "IDENTITY_HEADER": e.Info.ManagedIdentity.IdentityHeader}
		}, ""},
		{"Cloud Shell", "CloudShell", func(e *emulator.Emulator) map[string]string {
			return map[string]string{"MSI_ENDPOINT": e.Info.ManagedIdentity.CloudShellEndpoint}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearMIEnv(t)
			e := startEmulator(t)
			hc, refused := guarded(e)
			for k, v := range tc.env(e) {
				t.Setenv(k, v)
			}
			account := tc.account
			if account != "" {
				account = miClientID(t, e, account)
			}
			src, err := auth.NewManagedIdentitySource(auth.ManagedIdentityConfig{AccountID: account, HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			if src.Source() != tc.source {
				t.Fatalf("source %s", src.Source())
			}
			if _, err := connectAndList(t, e, hc, src); err != nil {
				t.Fatal(err)
			}
			if refused.Load() != 0 {
				t.Errorf("%d non-loopback dials", refused.Load())
			}
		})
	}
	t.Run("Cloud Shell refuses a user-assigned identity", func(t *testing.T) {
		clearMIEnv(t)
		t.Setenv("MSI_ENDPOINT", "https://127.0.0.1:1/msi/cloudshell")
		_, err := auth.NewManagedIdentitySource(auth.ManagedIdentityConfig{AccountID: "5e2a9c7f-1d38-4b64-a5f0-8c4d2e6b9a13"})
		if err == nil || !strings.Contains(err.Error(), "Cloud Shell") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestManagedIdentityErrors(t *testing.T) {
	clearMIEnv(t)
	t.Run("unknown identity", func(t *testing.T) {
		e := startEmulator(t)
		hc, _ := guarded(e)
		src, _ := auth.NewManagedIdentitySource(auth.ManagedIdentityConfig{
			AccountID: "00000000-0000-0000-0000-0000000000bb", HTTPClient: hc, IMDSEndpoint: e.Info.ManagedIdentity.IMDSEndpoint,
		})
		_, err := src.Token(context.Background(), e.URL+"/.default")
		var me *auth.ManagedIdentityError
		if !errors.As(err, &me) || me.StatusCode != 400 || me.Code != "invalid_request" || me.Description != "Identity not found" {
			t.Fatalf("err = %#v", err)
		}
		if !strings.Contains(err.Error(), "not assigned to this host") {
			t.Errorf("message %q", err)
		}
	})
	t.Run("unknown resource", func(t *testing.T) {
		e := startEmulator(t)
		hc, _ := guarded(e)
		src, _ := auth.NewManagedIdentitySource(auth.ManagedIdentityConfig{HTTPClient: hc, IMDSEndpoint: e.Info.ManagedIdentity.IMDSEndpoint})
		_, err := src.Token(context.Background(), "https://vault.azure.net/.default")
		var me *auth.ManagedIdentityError
		if !errors.As(err, &me) || me.Code != "invalid_resource" || !strings.Contains(me.Description, "AADSTS500011") {
			t.Fatalf("err = %#v", err)
		}
	})
	t.Run("empty access token", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":"","expires_in":"3600","expires_on":"%d","resource":"https://empty.example","token_type":"Bearer"}`, time.Now().Add(time.Hour).Unix())
		}))
		defer srv.Close()
		hc, _ := guarded(nil)
		src, _ := auth.NewManagedIdentitySource(auth.ManagedIdentityConfig{AccountID: "00000000-0000-0000-0000-0000000000cc", HTTPClient: hc, IMDSEndpoint: srv.URL})
		_, err := src.Token(context.Background(), "https://empty.example/.default")
		if err == nil || !strings.Contains(err.Error(), "without an access token") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("no managed identity here", func(t *testing.T) {
		// No variables and no IMDSEndpoint: MSAL goes for 169.254.169.254, which the guard
		// refuses before dialing (as an unreachable IMDS off Azure).
		hc, refused := guarded(nil)
		src, err := auth.NewManagedIdentitySource(auth.ManagedIdentityConfig{AccountID: "00000000-0000-0000-0000-0000000000dd", HTTPClient: hc})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = src.Token(context.Background(), "https://nowhere.example/.default")
		if !errors.Is(err, auth.ErrNoManagedIdentity) {
			t.Fatalf("err = %v", err)
		}
		if refused.Load() != 1 {
			t.Errorf("%d refused dials, want 1 (later attempts fail without dialing)", refused.Load())
		}
		t.Logf("gave up after %v: %v", time.Since(start), err)
	})
}

// miClientID is the client id of the seeded managed identity called name, from emulator.json.
func miClientID(t *testing.T, e *emulator.Emulator, name string) string {
	t.Helper()
	for _, m := range e.Info.Tenants[0].ManagedIdentities {
		if m.Name == name {
			return m.ClientID
		}
	}
	t.Fatalf("no managed identity %q in emulator.json", name)
	return ""
}
