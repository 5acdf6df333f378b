package exchange

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/exoctl/exoctl/internal/jsontext"
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

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "12345678", "123456789abcdefg", `q"b\s`, "<a&b>", "\x00\x1f\n", "é€😀",
		"\xff", "\u2028", "abcdefg\"", "abcdefgh\\", "abcdefgh\x7f", "abcdefgh\x80", "~~~~~~~~ !#[]", "\x1f1234567"} {
		if got, want := string(appendString(nil, s)), string(jsontext.AppendString(nil, s)); got != want {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzPlainASCII(f *testing.F) {
	f.Add("abcdefgh\"ijklmnop")
	f.Add("\x1f\x20\x21\x22\x5b\x5c\x5d\x7e\x7f\x80")
	f.Fuzz(func(t *testing.T, s string) {
		want := true
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
				want = false
			}
		}
		if got := plainASCII(s); got != want {
			t.Errorf("plainASCII(%q) = %v", s, got)
		}
	})
}

// TestShapeIndex: Extra keys in any case land where a scan of the object would put them.
func TestShapeIndex(t *testing.T) {
	var ix shapeIndex
	obj := Object{Str("Alias", "a"), Str("City", ""), Str("alias", "dup"), Str("Office", "")}
	ix.init(obj)
	for _, k := range []string{"Alias", "ALIAS", "alias", "city", "Office", "office", "Missing", "Ofﬁce"} {
		i, ok := ix.find(obj, k)
		want := -1
		for j, p := range obj {
			if strings.EqualFold(p.Name, k) {
				want = j
				break
			}
		}
		switch {
		case ok && i != want, !ok && i >= 0 && i < len(obj), !ok && want >= 0 && i != -1:
			t.Errorf("find(%q) = %d, %v; want %d", k, i, ok, want)
		}
	}
}
