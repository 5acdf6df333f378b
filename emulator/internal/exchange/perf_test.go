package exchange

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestGzipPages: a page is gzipped for a peer that asks for it and is not on loopback, and
// decompresses to what a loopback peer gets.
func TestGzipPages(t *testing.T) {
	e := newEnv(t, nil)
	tok := sign(t, testKeys, appClaims(fabrikamID))
	body := `{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":50}}}`
	get := func(remote, accept string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, e.invokeURL(fabrikamName), strings.NewReader(body))
		req.RemoteAddr = remote
		req.Header.Set("Authorization", "Bearer "+tok)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		rec := httptest.NewRecorder()
		e.ex.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		return rec
	}
	plain := get("127.0.0.1:5000", "gzip")
	if plain.Header().Get("Content-Encoding") != "" {
		t.Error("loopback answer gzipped")
	}
	for _, accept := range []string{"", "identity", "gzip;q=0", "br"} {
		if a := get("192.0.2.7:5000", accept); a.Header().Get("Content-Encoding") != "" {
			t.Errorf("Accept-Encoding %q: gzipped", accept)
		}
	}
	for _, accept := range []string{"gzip", "deflate, GZIP;q=0.5", "br, gzip"} {
		a := get("192.0.2.7:5000", accept)
		if a.Header().Get("Content-Encoding") != "gzip" {
			t.Fatalf("Accept-Encoding %q: Content-Encoding %q", accept, a.Header().Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(a.Body)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		var got, want map[string]any
		if json.Unmarshal(raw, &got) != nil || json.Unmarshal(plain.Body.Bytes(), &want) != nil {
			t.Fatalf("not JSON: %.200s", raw)
		}
		if len(got["value"].([]any)) != 50 || len(raw) != plain.Body.Len() {
			t.Errorf("gzipped page differs: %d bytes, plain %d", len(raw), plain.Body.Len())
		}
	}
}
