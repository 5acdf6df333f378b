package managedidentity_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	mi "github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"

	"github.com/exoctl/exoctl/emulator"
	"github.com/exoctl/exoctl/emulator/internal/store"
)

// Tests here set environment variables (MSAL reads its source from them) and so never run in
// parallel. MSAL's managed identity token cache is process-wide and keyed by identity and
// resource: every test asks for its own emulator's URL as the resource, which no other test
// shares, so no test is served another's cached token.

// msiEnv are the variables MSAL picks a source by.
var msiEnv = []string{"IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"}

// clearEnv empties them for the test (t.Setenv restores them after).
func clearEnv(t *testing.T) {
	for _, k := range msiEnv {
		t.Setenv(k, "")
	}
}

func start(t *testing.T) *emulator.Emulator {
	t.Helper()
	e, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	if e.Info.ManagedIdentity == nil || len(e.Info.Tenants[0].ManagedIdentities) != 3 {
		t.Fatalf("emulator.json has no managed identities: %+v", e.Info)
	}
	return e
}

// loopbackOnly is the emulator's client with a dialer that refuses (and reports) any address
// that is not loopback: nothing in these tests may reach 169.254.169.254 or the network.
func loopbackOnly(t *testing.T, e *emulator.Emulator) (*http.Client, *atomic.Int32) {
	t.Helper()
	hc := e.HTTPClient()
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

// imdsRewrite sends what MSAL means for 169.254.169.254 to the emulator, before dialing.
type imdsRewrite struct {
	base http.RoundTripper
	to   string // host:port
	seen atomic.Int32
}

func (r *imdsRewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Hostname() == "169.254.169.254" {
		r.seen.Add(1)
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host, req.Host = "https", r.to, ""
	}
	return r.base.RoundTrip(req)
}

// invoke runs Get-AcceptedDomain with tok and returns the status.
func invoke(t *testing.T, e *emulator.Emulator, hc *http.Client, tok string) (int, string) {
	t.Helper()
	tenant := e.Info.Tenants[0].Name
	req, _ := http.NewRequest("POST", e.URL+"/adminapi/beta/"+tenant+"/InvokeCommand",
		strings.NewReader(`{"CmdletInput":{"CmdletName":"Get-AcceptedDomain","Parameters":{}}}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-AnchorMailbox", "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@"+tenant)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// identities are the ids MSAL is given for each seeded identity and whether Exchange lets it in.
func identities(e *emulator.Emulator, userAssigned bool) []struct {
	name string
	id   mi.ID
	want int
} {
	out := []struct {
		name string
		id   mi.ID
		want int
	}{{"system-assigned", mi.SystemAssigned(), 200}}
	if !userAssigned {
		return out
	}
	for _, m := range e.Info.Tenants[0].ManagedIdentities {
		if m.SystemAssigned {
			continue
		}
		want := 200
		if m.ClientID == store.DemoNoRoleIdentityClientID {
			want = 401
		}
		out = append(out,
			struct {
				name string
				id   mi.ID
				want int
			}{m.Name + " by client id", mi.UserAssignedClientID(m.ClientID), want},
			struct {
				name string
				id   mi.ID
				want int
			}{m.Name + " by object id", mi.UserAssignedObjectID(m.ObjectID), want},
			struct {
				name string
				id   mi.ID
				want int
			}{m.Name + " by resource id", mi.UserAssignedResourceID(m.ResourceID), want})
	}
	return out
}

// acquire gets a token with MSAL and checks it at Exchange.
func acquire(t *testing.T, e *emulator.Emulator, hc *http.Client, id mi.ID, opts []mi.ClientOption, wantSource mi.Source, want int) {
	t.Helper()
	if s, _ := mi.GetSource(); s != wantSource {
		t.Fatalf("MSAL source %s, want %s", s, wantSource)
	}
	c, err := mi.New(id, opts...)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.AcquireToken(context.Background(), e.URL+"/.default")
	if err != nil {
		t.Fatal(err)
	}
	if r.AccessToken == "" || r.ExpiresOn.IsZero() {
		t.Fatalf("result %+v", r)
	}
	status, body := invoke(t, e, hc, r.AccessToken)
	if status != want {
		t.Fatalf("Get-AcceptedDomain: %d %s", status, body)
	}
	if want == 401 && !strings.Contains(body, "Exchange.ManageAsApp") {
		t.Errorf("refusal doesn't say what is missing: %s", body)
	}
}

func TestMSALAppService(t *testing.T) {
	clearEnv(t)
	e := start(t)
	hc, refused := loopbackOnly(t, e)
	t.Setenv("IDENTITY_ENDPOINT", e.Info.ManagedIdentity.AppServiceEndpoint)
	t.Setenv("IDENTITY_HEADER", e.Info.ManagedIdentity.IdentityHeader)
	for _, tc := range identities(e, true) {
		t.Run(tc.name, func(t *testing.T) {
			acquire(t, e, hc, tc.id, []mi.ClientOption{mi.WithHTTPClient(hc)}, mi.AppService, tc.want)
		})
	}
	t.Run("wrong IDENTITY_HEADER", func(t *testing.T) {
		t.Setenv("IDENTITY_HEADER", "wrong")
		c, _ := mi.New(mi.UserAssignedClientID(store.DemoVMIdentityClientID), mi.WithHTTPClient(hc), mi.WithRetryPolicyDisabled())
		_, err := c.AcquireToken(context.Background(), e.URL)
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("err = %v", err)
		}
	})
	if refused.Load() != 0 {
		t.Errorf("%d non-loopback dials", refused.Load())
	}
}

func TestMSALCloudShell(t *testing.T) {
	clearEnv(t)
	e := start(t)
	hc, refused := loopbackOnly(t, e)
	t.Setenv("MSI_ENDPOINT", e.Info.ManagedIdentity.CloudShellEndpoint)
	acquire(t, e, hc, mi.SystemAssigned(), []mi.ClientOption{mi.WithHTTPClient(hc)}, mi.CloudShell, 200)
	if _, err := mi.New(mi.UserAssignedClientID(store.DemoAutomationIdentityClientID)); err == nil {
		t.Error("MSAL accepted a user-assigned identity on Cloud Shell")
	}
	if refused.Load() != 0 {
		t.Errorf("%d non-loopback dials", refused.Load())
	}
}

func TestMSALIMDS(t *testing.T) {
	clearEnv(t)
	e := start(t)
	hc, refused := loopbackOnly(t, e)
	rw := &imdsRewrite{base: hc.Transport, to: strings.TrimPrefix(e.URL, "https://")}
	imds := &http.Client{Transport: rw}
	for _, tc := range identities(e, true) {
		t.Run(tc.name, func(t *testing.T) {
			acquire(t, e, hc, tc.id, []mi.ClientOption{mi.WithHTTPClient(imds)}, mi.DefaultToIMDS, tc.want)
		})
	}
	t.Run("unknown identity", func(t *testing.T) {
		c, _ := mi.New(mi.UserAssignedClientID("00000000-0000-0000-0000-0000000000aa"), mi.WithHTTPClient(imds))
		_, err := c.AcquireToken(context.Background(), e.URL)
		if err == nil || !strings.Contains(err.Error(), "Identity not found") || !strings.Contains(err.Error(), "400") {
			t.Errorf("err = %v", err)
		}
	})
	if rw.seen.Load() == 0 {
		t.Error("MSAL sent nothing for 169.254.169.254 (the rewrite saw no request)")
	}
	if refused.Load() != 0 {
		t.Errorf("%d non-loopback dials", refused.Load())
	}
	// The guard works: without the rewrite, MSAL's IMDS request is refused before any packet.
	t.Run("guard", func(t *testing.T) {
		c, _ := mi.New(mi.UserAssignedClientID(store.DemoVMIdentityClientID), mi.WithHTTPClient(hc), mi.WithRetryPolicyDisabled())
		_, err := c.AcquireToken(context.Background(), e.URL+"/guard")
		var op *net.OpError
		if !errors.As(err, &op) || refused.Load() != 1 {
			t.Errorf("err = %v, refused %d", err, refused.Load())
		}
	})
}

// TestMSALAzureArc runs MSAL's Arc source where its key folder exists and is writable (MSAL reads
// keys from /var/opt/azcmagent/tokens and nowhere else on Linux). .ci/run creates the folder, and
// under it a missing folder fails the test; elsewhere the Arc flow is still tested at the HTTP
// level in TestArc.
func TestMSALAzureArc(t *testing.T) {
	const dir = "/var/opt/azcmagent/tokens"
	probe, err := os.CreateTemp(dir, "exoctl-probe-*")
	if err != nil {
		if os.Getenv("EXOCTL_CI") == "1" {
			t.Fatalf("MSAL's Azure Arc source reads keys only from %s, which .ci/run creates: %v", dir, err)
		}
		t.Skipf("MSAL's Azure Arc source reads keys only from %s, which is not writable here: %v", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	clearEnv(t)
	e, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0", ArcKeyDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	hc, _ := loopbackOnly(t, e)
	t.Setenv("IDENTITY_ENDPOINT", e.Info.ManagedIdentity.ArcEndpoint)
	t.Setenv("IMDS_ENDPOINT", e.Info.ManagedIdentity.ArcIMDSEndpoint)
	for _, tc := range identities(e, true) {
		t.Run(tc.name, func(t *testing.T) {
			acquire(t, e, hc, tc.id, []mi.ClientOption{mi.WithHTTPClient(hc)}, mi.AzureArc, tc.want)
		})
	}
}

func TestMSALServiceFabric(t *testing.T) {
	clearEnv(t)
	e := start(t)
	hc, refused := loopbackOnly(t, e)
	t.Setenv("IDENTITY_ENDPOINT", e.Info.ManagedIdentity.ServiceFabricEndpoint)
	t.Setenv("IDENTITY_HEADER", e.Info.ManagedIdentity.IdentityHeader)
	t.Setenv("IDENTITY_SERVER_THUMBPRINT", e.Info.ManagedIdentity.ServiceFabricThumbprint)
	acquire(t, e, hc, mi.SystemAssigned(), []mi.ClientOption{mi.WithHTTPClient(hc)}, mi.ServiceFabric, 200)
	if refused.Load() != 0 {
		t.Errorf("%d non-loopback dials", refused.Load())
	}
}

// TestEmulatorInfo: emulator.json lists the identities and endpoints, and IDENTITY_HEADER
// survives a restart (a shell that exported it keeps working).
func TestEmulatorInfo(t *testing.T) {
	dir := t.TempDir()
	e, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	first := *e.Info.ManagedIdentity
	e.Close()
	info, err := emulator.ReadInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := info.ManagedIdentity
	if m == nil || m.IdentityHeader == "" || m.IMDSEndpoint != info.URL || m.AppServiceEndpoint != info.URL+"/msi/appservice" ||
		m.CloudShellEndpoint != info.URL+"/msi/cloudshell" || len(m.ServiceFabricThumbprint) != 40 {
		t.Fatalf("managed_identity = %+v", m)
	}
	ids := info.Tenants[0].ManagedIdentities
	if len(ids) != 3 || ids[0].Name != "exoctl-vm" || !ids[0].SystemAssigned || ids[0].ClientID != store.DemoVMIdentityClientID ||
		ids[2].ClientID != store.DemoNoRoleIdentityClientID || len(ids[2].Roles) != 0 || ids[1].Roles[0] != "Exchange Administrator" {
		t.Errorf("managed_identities = %+v", ids)
	}
	e2, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if e2.Info.ManagedIdentity.IdentityHeader != first.IdentityHeader || len(e2.Info.Tenants[0].ManagedIdentities) != 3 {
		t.Errorf("after restart: %+v", e2.Info.ManagedIdentity)
	}
}
