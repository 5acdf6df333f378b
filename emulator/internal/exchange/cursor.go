package exchange

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/exoctl/exoctl/emulator/internal/token"
)

// cursor is the state a nextLink carries: everything needed to serve the following page,
// also to a GET that has no body. It is opaque to clients: base64url JSON plus an HMAC.
type cursor struct {
	Tenant    string          `json:"t"`           // tenant id
	Cmdlet    string          `json:"c"`           // canonical cmdlet name
	Hash      string          `json:"h"`           // Params.hash of the listing's parameters
	Params    json.RawMessage `json:"p,omitempty"` // the Parameters object as first sent
	After     string          `json:"a"`           // store cursor where the next page starts
	Remaining int64           `json:"r"`           // what is left of -ResultSize; -1 when unbounded
	Select    string          `json:"s,omitempty"` // $select of the first request
}

// cursorKey derives the HMAC key from the token signing key, so links survive restarts of an
// emulator that keeps its key.
func cursorKey(k *token.Keys) []byte {
	h := sha256.New()
	h.Write([]byte("exoctl exchange nextLink v1\x00"))
	if k != nil && k.Private != nil {
		h.Write(x509.MarshalPKCS1PrivateKey(k.Private))
	}
	return h.Sum(nil)
}

func (s *Server) encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	body := base64.RawURLEncoding.EncodeToString(b)
	m := hmac.New(sha256.New, s.cursorKey)
	m.Write([]byte(body))
	return body + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

func (s *Server) decodeCursor(tok string) (cursor, bool) {
	var c cursor
	body, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return c, false
	}
	want, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return c, false
	}
	m := hmac.New(sha256.New, s.cursorKey)
	m.Write([]byte(body))
	if !hmac.Equal(want, m.Sum(nil)[:16]) {
		return c, false
	}
	b, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, false
	}
	return c, true
}
