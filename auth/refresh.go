package auth

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
)

// Refresher is a Source that can get a token anew instead of handing back its cached one:
// what a client needs once the service refused a token (HTTP 401) that is not yet expired,
// e.g. revoked. claims is the service's claims challenge (decoded JSON) or "".
type Refresher interface {
	Source
	Refresh(ctx context.Context, scope, claims string) (Token, error)
}

// freshClaims is the claims request that makes MSAL skip its cached access token: MSAL
// bypasses the cache whenever claims are given. Without a challenge from the service it asks
// for a token issued from now on, the shape of Entra's own revocation challenges.
func freshClaims(claims string) string {
	if claims != "" {
		return claims
	}
	return `{"access_token":{"nbf":{"essential":true,"value":"` + strconv.FormatInt(time.Now().Unix(), 10) + `"}}}`
}

// Refresh gets a new app-only token from the authority, skipping the cache.
func (s *ConfidentialSource) Refresh(ctx context.Context, scope, claims string) (Token, error) {
	r, err := s.client.AcquireTokenByCredential(ctx, []string{scope}, confidential.WithClaims(freshClaims(claims)))
	if err != nil {
		return Token{}, FromMSAL(err)
	}
	c, _ := ParseClaims(r.AccessToken)
	return Token{AccessToken: r.AccessToken, ExpiresOn: r.ExpiresOn, Claims: c}, nil
}

// Refresh redeems the user's refresh token for a new access token, skipping the cached one.
// It never prompts: when the refresh token is no longer accepted, the user must sign in again
// (ErrSignInRequired).
func (s *PublicSource) Refresh(ctx context.Context, scope, claims string) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acct, err := s.findAccount(ctx)
	if err != nil {
		return Token{}, err
	}
	if acct.IsZero() {
		return Token{}, ErrSignInRequired
	}
	r, err := s.client.AcquireTokenSilent(ctx, []string{scope}, public.WithSilentAccount(acct), public.WithClaims(freshClaims(claims)))
	if err != nil {
		if ctx.Err() != nil {
			return Token{}, ctx.Err()
		}
		return Token{}, s.signInRequired(err)
	}
	s.account = r.Account
	return tokenOf(r), nil
}

// Refresh asks the managed identity endpoint for a new token, skipping MSAL's cache.
func (s *ManagedIdentitySource) Refresh(ctx context.Context, scope, claims string) (Token, error) {
	return s.acquire(ctx, scope, managedidentity.WithClaims(freshClaims(claims)))
}

// Refresh cannot get a new token: the one the user brought is all there is.
func (s *StaticSource) Refresh(ctx context.Context, scope, claims string) (Token, error) {
	return Token{}, fmt.Errorf("%w: the service no longer accepts the access token you brought (revoked, or for another resource): get a new one and run exoctl connect --access-token-stdin again", ErrSignInRequired)
}
