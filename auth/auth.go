// Package auth turns the module's sign-in methods into access tokens. Every method is a Source
// ("give me a token for this scope"); all of them go through MSAL Go except a token the user
// brings. Apps sign in with ConfidentialSource; users with PublicSource (password, device code
// or browser once, then silently from the token cache). Errors from Microsoft Entra ID keep
// their AADSTS code and description (EntraError).
package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Token is an access token and what exoctl needs to know about it.
type Token struct {
	AccessToken string
	ExpiresOn   time.Time
	Claims      Claims
}

// Source gives access tokens for one scope, e.g. https://outlook.office365.com/.default.
// Implementations cache and refresh silently where they can.
type Source interface {
	Token(ctx context.Context, scope string) (Token, error)
}

// Claims are the access-token claims exoctl reads (never verifies: the service does).
type Claims struct {
	Audience string   `json:"aud"`
	TenantID string   `json:"tid"`
	ObjectID string   `json:"oid"`
	AppID    string   `json:"appid"`
	UPN      string   `json:"upn"`
	Unique   string   `json:"unique_name"`
	Roles    []string `json:"roles"`
	Scope    string   `json:"scp"`
	Expires  int64    `json:"exp"`
}

// User returns the signed-in user's UPN, or "" for an app-only token.
func (c Claims) User() string {
	if c.UPN != "" {
		return c.UPN
	}
	return c.Unique
}

// ParseClaims reads the claims of a JWT access token without checking its signature.
func ParseClaims(raw string) (Claims, error) {
	var c Claims
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return c, fmt.Errorf("access token is not a JWT (expected three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return c, fmt.Errorf("access token payload is not base64url: %w", err)
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return c, fmt.Errorf("access token payload is not JSON: %w", err)
	}
	return c, nil
}

// StaticSource serves one token the user brought (the module's -AccessToken). It cannot refresh:
// once the token expires, the user must bring a new one.
type StaticSource struct {
	token Token
}

// NewStatic checks that raw looks like an access token and reads its expiry.
func NewStatic(raw string) (*StaticSource, error) {
	raw = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(raw), "Bearer "))
	c, err := ParseClaims(raw)
	if err != nil {
		return nil, err
	}
	return &StaticSource{token: Token{AccessToken: raw, ExpiresOn: time.Unix(c.Expires, 0), Claims: c}}, nil
}

// Token returns the token, or an error once it has expired.
func (s *StaticSource) Token(ctx context.Context, scope string) (Token, error) {
	if !s.token.ExpiresOn.IsZero() && time.Now().After(s.token.ExpiresOn) {
		return Token{}, fmt.Errorf("%w: the access token expired at %s: get a new one and run exoctl connect --access-token-stdin again", ErrSignInRequired, s.token.ExpiresOn.UTC().Format(time.RFC3339))
	}
	return s.token, nil
}
