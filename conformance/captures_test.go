package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/exoctl/exoctl/auth"
	"github.com/exoctl/exoctl/emulator"
	"github.com/exoctl/exoctl/internal/capture"
)

// The emulator is asked what the real service was asked in each capture of
// exo/testdata/captures, and its answer must have the capture's shape: the same keys, in the
// same order where the service writes a stable order, of the same JSON types (values differ).

func load(t *testing.T, name string) *capture.Answer {
	t.Helper()
	a, err := capture.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// sameShape fails the test with every way got differs from the capture's shape.
func sameShape(t *testing.T, a *capture.Answer, status int, got []byte, opts ...capture.Option) {
	t.Helper()
	if status != a.Status {
		t.Errorf("HTTP %d, the service answered %d", status, a.Status)
	}
	diffs, err := capture.Diff(a.Body, got, opts...)
	if err != nil {
		t.Fatalf("%v\n%.400s", err, got)
	}
	for _, d := range diffs {
		t.Errorf("%s: %s", a.Name, d)
	}
}

// mediaParams are a Content-Type's parameters, in order.
func mediaParams(ct string) string {
	_, params, _ := strings.Cut(strings.ReplaceAll(ct, " ", ""), ";")
	return strings.ToLower(params)
}

func invoke(t *testing.T, e *emulator.Emulator, token, cmdlet string, params map[string]any) reply {
	t.Helper()
	return send(t, e.HTTPClient(), http.MethodPost, e.URL+"/adminapi/beta/"+e.Info.Tenants[0].Name+"/InvokeCommand", token,
		cmdletBody(cmdlet, params), map[string]string{"X-ResponseFormat": "json", "Prefer": "odata.maxpagesize=1000", "X-CmdletName": cmdlet})
}

func TestCapturesExchange(t *testing.T) {
	t.Parallel()
	e := start(t)
	tok := appToken(t, e, "https://outlook.office365.com")
	upn := e.Info.Tenants[0].Users[0].UPN

	t.Run("invoke-get-mailbox", func(t *testing.T) {
		t.Parallel()
		a := load(t, "invoke-get-mailbox")
		r := invoke(t, e, tok, "Get-Mailbox", map[string]any{"Identity": upn})
		sameShape(t, a, r.status, r.body)
		if got, want := mediaParams(r.header.Get("Content-Type")), mediaParams(a.Header.Get("Content-Type")); got != want {
			t.Errorf("Content-Type parameters %q, the service's %q", got, want)
		}
		for _, h := range []string{"request-id", "X-CalculatedBETarget", "OData-Version", "Rate-Limit-Limit", "Rate-Limit-Remaining", "Rate-Limit-Reset"} {
			if (r.header.Get(h) == "") != (a.Header.Get(h) == "") {
				t.Errorf("header %s: %q, the service's %q", h, r.header.Get(h), a.Header.Get(h))
			}
		}
	})
	t.Run("invoke-get-mailbox-more", func(t *testing.T) {
		t.Parallel()
		// The source replaced the record: only the envelope is the service's.
		r := invoke(t, e, tok, "Get-Mailbox", map[string]any{"ResultSize": 1})
		sameShape(t, load(t, "invoke-get-mailbox-more"), r.status, r.body, capture.Skip("$.value[0]"))
		if w, _ := r.json["@adminapi.warnings"].([]any); len(w) != 1 {
			t.Errorf("warnings %v, want the service's more-results warning", r.json["@adminapi.warnings"])
		}
	})
	for _, tc := range []struct {
		capture, cmdlet string
		params          map[string]any
		class           string
	}{
		{"invoke-error-notfound", "Get-Mailbox", map[string]any{"Identity": "nobody-" + upn}, "ManagementObjectNotFoundException"},
		{"invoke-error-invalid-enum", "Get-Mailbox", map[string]any{"RecipientTypeDetails": "Nonsense"}, "ParameterTransformationException"},
		{"invoke-error-unknown-parameter", "Get-Mailbox", map[string]any{"BogusParameter": 1}, "AmbiguousParameterSetException"},
	} {
		t.Run(tc.capture, func(t *testing.T) {
			t.Parallel()
			a := load(t, tc.capture)
			r := invoke(t, e, tok, tc.cmdlet, tc.params)
			sameShape(t, a, r.status, r.body)
			// The words a client reads: error.code and error.message as the service says them,
			// the exception class (in details, else in innererror.internalexception).
			var want, got struct {
				Error struct {
					Code, Message string
					Details       []struct{ Message string }
					InnerError    struct {
						Message           string
						InternalException struct{ Type string } `json:"internalexception"`
					} `json:"innererror"`
				}
			}
			json.Unmarshal(a.Body, &want)
			json.Unmarshal(r.body, &got)
			if got.Error.Code != want.Error.Code || got.Error.Message != want.Error.Message || got.Error.InnerError.Message != want.Error.InnerError.Message {
				t.Errorf("code %q message %q inner %q, the service's %q %q %q", got.Error.Code, got.Error.Message, got.Error.InnerError.Message,
					want.Error.Code, want.Error.Message, want.Error.InnerError.Message)
			}
			class := got.Error.InnerError.InternalException.Type
			if len(got.Error.Details) > 0 {
				if parts := strings.SplitN(got.Error.Details[0].Message, "|", 3); len(parts) == 3 {
					class = parts[1]
				}
			}
			if !strings.HasSuffix(class, "."+tc.class) {
				t.Errorf("exception class %q, the service's %s", class, tc.class)
			}
		})
	}
}

// recorder keeps the answers MSAL Go received, so the emulator's raw answers to a real client's
// requests can be compared with the captures.
type recorder struct {
	rt      http.RoundTripper
	mu      sync.Mutex
	answers map[string]recorded // by the path's last segment
}

type recorded struct {
	status int
	body   []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.rt.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	p := req.URL.Path
	r.mu.Lock()
	r.answers[p[strings.LastIndex(p, "/")+1:]] = recorded{resp.StatusCode, b}
	r.mu.Unlock()
	return resp, nil
}

func TestCapturesEntra(t *testing.T) {
	t.Parallel()
	e := start(t)
	tn, app := e.Info.Tenants[0], e.Info.Tenants[0].Apps[0]
	cert, err := auth.LoadPFX(app.CertificateFile, app.CertificatePassword)
	if err != nil {
		t.Fatal(err)
	}
	tokenAnswer := func(t *testing.T, scope string) (*recorder, error) {
		rec := &recorder{rt: e.HTTPClient().Transport, answers: map[string]recorded{}}
		src, err := auth.NewCertificateSource(auth.ConfidentialConfig{Authority: e.URL + "/" + tn.ID, ClientID: app.AppID,
			HTTPClient: &http.Client{Transport: rec}}, cert)
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.Token(context.Background(), scope)
		return rec, err
	}

	rec, err := tokenAnswer(t, "https://outlook.office365.com/.default")
	if err != nil {
		t.Fatal(err)
	}
	for name, part := range map[string]string{"entra-openid-configuration": "openid-configuration", "entra-token-client-credentials": "token"} {
		t.Run(name, func(t *testing.T) {
			got, ok := rec.answers[part]
			if !ok {
				t.Fatalf("MSAL Go asked nothing ending in %s: %v", part, rec.answers)
			}
			sameShape(t, load(t, name), got.status, got.body, capture.Unordered())
		})
	}
	t.Run("entra-instance-discovery", func(t *testing.T) {
		r := send(t, e.HTTPClient(), http.MethodGet, e.URL+"/common/discovery/instance?api-version=1.1&authorization_endpoint="+e.URL+"/"+tn.ID+"/oauth2/v2.0/authorize", "", nil, nil)
		sameShape(t, load(t, "entra-instance-discovery"), r.status, r.body, capture.Unordered())
	})
	t.Run("entra-error-invalid-scope", func(t *testing.T) {
		rec, err := tokenAnswer(t, "https://example.contoso.com/activity.read")
		var ee *auth.EntraError
		if !errors.As(err, &ee) {
			t.Fatalf("want an Entra error answer, got %v", err)
		}
		got := rec.answers["token"]
		sameShape(t, load(t, "entra-error-invalid-scope"), got.status, got.body, capture.Unordered())
	})
}
