package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/emulator"
	"github.com/exoctl/exoctl/exo"
)

func start(t *testing.T, dir string) *emulator.Emulator {
	t.Helper()
	e, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// msalToken gets an app-only token with MSAL Go used directly, as any Go program would.
func msalToken(t *testing.T, e *emulator.Emulator) string {
	t.Helper()
	tenant, app := e.Info.Tenants[0], e.Info.Tenants[0].Apps[0]
	pemData, err := os.ReadFile(app.CertificatePEMFile)
	if err != nil {
		t.Fatal(err)
	}
	certs, key, err := confidential.CertFromPEM(pemData, "")
	if err != nil {
		t.Fatal(err)
	}
	cred, err := confidential.NewCredFromCert(certs, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := confidential.New(e.URL+"/"+tenant.Name, app.AppID, cred,
		confidential.WithHTTPClient(e.HTTPClient()), confidential.WithInstanceDiscovery(false),
		confidential.WithAzureRegion("DisableMsalForceRegion"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.AcquireTokenByCredential(context.Background(), []string{"https://outlook.office365.com/.default"})
	if err != nil {
		t.Fatal(err)
	}
	return r.AccessToken
}

// TestHandMadeRequest calls InvokeCommand with net/http exactly as PROTOCOL.md §1 shows, with a
// token MSAL Go got from the emulator: what a script calling the API by hand does.
func TestHandMadeRequest(t *testing.T) {
	e := start(t, t.TempDir())
	tok := msalToken(t, e)
	tenant := e.Info.Tenants[0].Name
	body := `{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":"Unlimited"}}}`
	req, _ := http.NewRequest("POST", e.URL+"/adminapi/beta/"+tenant+"/InvokeCommand?$select=Name,PrimarySmtpAddress", strings.NewReader(body))
	for k, v := range map[string]string{
		"Authorization": "Bearer " + tok, "Content-Type": "application/json", "Accept": "application/json",
		"Prefer": "odata.maxpagesize=100", "X-AnchorMailbox": "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@" + tenant,
		"X-CmdletName": "Get-Mailbox", "client-request-id": "6b0a3c9e-0d4e-4d55-9b38-2f1f6e0c7c11",
		"connection-id": "d9a1f3c2-52b1-4b0e-9c57-3a8f1f7c9e21", "X-ClientApplication": "ExoManagementModule",
		"X-ClientModuleVersion": "3.9.2", "X-ResponseFormat": "json", "X-SerializationLevel": "Partial",
		"Accept-Language": "en-US",
	} {
		req.Header.Set(k, v)
	}
	resp, err := e.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json;odata.metadata=minimal") {
		t.Errorf("Content-Type %q", ct)
	}
	for _, h := range []string{"request-id", "X-CalculatedBETarget", "Rate-Limit-Limit", "Rate-Limit-Remaining", "Rate-Limit-Reset"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	var doc struct {
		Context  string           `json:"@odata.context"`
		Value    []map[string]any `json:"value"`
		NextLink string           `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Value) != 100 || doc.NextLink == "" || !strings.HasPrefix(doc.NextLink, e.URL) {
		t.Fatalf("%d records, nextLink %q", len(doc.Value), doc.NextLink)
	}
	if _, ok := doc.Value[0]["Alias"]; ok {
		t.Errorf("$select did not drop Alias: %v", doc.Value[0])
	}
	// The next page: the same body POSTed to the nextLink.
	req2, _ := http.NewRequest("POST", doc.NextLink, bytes.NewReader([]byte(body)))
	req2.Header = req.Header.Clone()
	resp2, err := e.HTTPClient().Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 200 {
		t.Errorf("next page: %d", resp2.StatusCode)
	}
}

func TestSDKAndRestart(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir)
	info, err := emulator.ReadInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.CAFile == "" || info.Authority == "" || len(info.Tenants) == 0 || len(info.Tenants[0].Users) == 0 {
		t.Fatalf("emulator.json: %+v", info)
	}
	app := info.Tenants[0].Apps[0]
	for _, f := range []string{app.CertificateFile, app.CertificatePEMFile, info.CAFile} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("emulator.json names a missing file: %v", err)
		}
	}
	cert, err := auth.LoadPFX(app.CertificateFile, app.CertificatePassword)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Thumbprint() != app.Thumbprint {
		t.Errorf("thumbprint %s, emulator.json says %s", cert.Thumbprint(), app.Thumbprint)
	}
	connect := func(e *emulator.Emulator) *exo.Session {
		s, err := exo.Connect(context.Background(), exo.Options{
			ConnectionURI: e.URL, AuthorityURI: e.Info.Authority, Organization: info.Tenants[0].Name,
			AppID: app.AppID, Certificate: &cert, HTTPClient: e.HTTPClient(), CAFile: info.CAFile,
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	domains := func(s *exo.Session) []string {
		var out []string
		for r, err := range s.Invoke(context.Background(), "Get-AcceptedDomain", nil) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r.String("DomainName"))
		}
		return out
	}
	before := domains(connect(e))
	if len(before) != 2 {
		t.Fatalf("accepted domains %v", before)
	}
	ca1, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e2 := start(t, dir)
	ca2, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if !bytes.Equal(ca1, ca2) {
		t.Error("the CA changed across a restart; clients that trust it would break")
	}
	if after := domains(connect(e2)); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("after restart %v, before %v", after, before)
	}
}

// BenchmarkStart measures an in-process start of a throwaway emulator (no data folder: a new
// temporary one, demo seed) in a process that has started one before, and a start on a data
// folder that already exists (a restart).
func BenchmarkStart(b *testing.B) {
	b.Run("fresh", func(b *testing.B) {
		// A warm process: its first throwaway emulator (shared keys, the seeded folder later
		// ones copy) is made before the clock starts.
		e, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0"})
		if err != nil {
			b.Fatal(err)
		}
		_ = e.Close()
		for b.Loop() {
			e, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0"})
			if err != nil {
				b.Fatal(err)
			}
			_ = e.Close()
		}
	})
	b.Run("restart", func(b *testing.B) {
		dir := b.TempDir()
		e, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0", DataDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		_ = e.Close()
		for b.Loop() {
			e, err := emulator.Start(context.Background(), emulator.Config{Addr: "127.0.0.1:0", DataDir: dir})
			if err != nil {
				b.Fatal(err)
			}
			_ = e.Close()
		}
	})
}

// TestSDKPaging walks every mailbox in small pages through the SDK, and stops early without
// leaking the page fetched ahead.
func TestSDKPaging(t *testing.T) {
	e := start(t, t.TempDir())
	app := e.Info.Tenants[0].Apps[0]
	cert, err := auth.LoadPFX(app.CertificateFile, app.CertificatePassword)
	if err != nil {
		t.Fatal(err)
	}
	s, err := exo.Connect(context.Background(), exo.Options{
		ConnectionURI: e.URL, AuthorityURI: e.Info.Authority, Organization: e.Info.Tenants[0].ID,
		AppID: app.AppID, Certificate: &cert, HTTPClient: e.HTTPClient(), PageSize: 7,
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	pages := 0
	for page, err := range s.InvokePages(context.Background(), "get-mailbox", exo.Params{"resultsize": "Unlimited"}) {
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range page.Records {
			g := r.String("Guid")
			if seen[g] {
				t.Fatalf("mailbox %s twice", g)
			}
			seen[g] = true
		}
	}
	if len(seen) < 200 || pages != (len(seen)+6)/7 {
		t.Errorf("%d mailboxes in %d pages of 7", len(seen), pages)
	}
	n := 0
	for _, err := range s.Invoke(context.Background(), "Get-Recipient", exo.Params{"ResultSize": "Unlimited"}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 10 {
			break
		}
	}
	if n != 10 {
		t.Errorf("stopped after %d records", n)
	}
}
