package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoctl/exoctl/internal/capture"
)

// entraReplay is a loopback Entra ID that answers discovery and token requests with captured
// answers of the real one; its links are moved to the loopback host, as MSAL requires the
// issuer on the authority's host.
func entraReplay(t *testing.T, token string) (*httptest.Server, *[]string) {
	t.Helper()
	load := func(name string) *capture.Answer {
		a, err := capture.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	oidc, tok := load("entra-openid-configuration"), load(token)
	var mu sync.Mutex
	var paths []string
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.Path)
		mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/v2.0/.well-known/openid-configuration"):
			oidc.Write(w, "https://login.microsoftonline.com", srv.URL)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			tok.Write(w)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &paths
}

func certificateSource(t *testing.T, srv *httptest.Server) *ConfidentialSource {
	t.Helper()
	cert, key := selfSigned(t)
	src, err := NewCertificateSource(ConfidentialConfig{
		Authority: srv.URL + "/88888888-8888-8888-8888-888888888888", ClientID: "00000000-0000-0000-0000-0000000000d1", HTTPClient: srv.Client(),
	}, Certificate{Chain: []*x509.Certificate{cert}, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestCaptureClientCredentials gets an app-only token from Entra ID's real discovery document
// and client-credentials answer (which carries no scope): the token, its expiry from the
// numeric expires_in, and a second call served from the cache.
func TestCaptureClientCredentials(t *testing.T) {
	t.Parallel()
	srv, paths := entraReplay(t, "entra-token-client-credentials")
	src := certificateSource(t, srv)
	before := time.Now()
	for range 2 {
		tok, err := src.Token(context.Background(), "https://outlook.office365.com/.default")
		if err != nil {
			t.Fatal(err)
		}
		left := tok.ExpiresOn.Sub(before)
		if tok.AccessToken != "access_token" || left < 86399*time.Second-time.Minute || left > 86399*time.Second+time.Minute {
			t.Errorf("token %q expires in %v, want access_token in 86399s", tok.AccessToken, left)
		}
	}
	if n := strings.Count(strings.Join(*paths, "\n"), "/oauth2/v2.0/token"); n != 1 {
		t.Errorf("%d token requests, want 1 (the second from the cache): %q", n, *paths)
	}
}

// TestCaptureEntraError reads Entra ID's documented error answer into an EntraError: the OAuth
// error, the AADSTS code from error_codes, the trace id, the description without its trace
// suffix, and exoctl's hint for that code.
func TestCaptureEntraError(t *testing.T) {
	t.Parallel()
	srv, _ := entraReplay(t, "entra-error-invalid-scope")
	_, err := certificateSource(t, srv).Token(context.Background(), "https://outlook.office365.com/.default")
	var ee *EntraError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v (%T), want an EntraError", err, err)
	}
	want := "AADSTS70011: The provided value for the input parameter 'scope' isn't valid. The scope https://example.contoso.com/activity.read isn't valid."
	if ee.StatusCode != 400 || ee.Code != "invalid_scope" || ee.AADSTS != 70011 || ee.TraceID != "0000aaaa-11bb-cccc-dd22-eeeeee333333" || ee.Description != want {
		t.Errorf("got %d %q %d %q\n %q", ee.StatusCode, ee.Code, ee.AADSTS, ee.TraceID, ee.Description)
	}
	if !strings.Contains(err.Error(), "--connection-uri") || strings.Contains(err.Error(), "Correlation ID") {
		t.Errorf("message %q", err.Error())
	}
}
