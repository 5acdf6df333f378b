package auth

import (
	"context"
	"errors"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
)

// TenantSource is a Source for another tenant's tokens, got silently from a source that has
// already signed in: a partner's user at a customer's authority, or a multi-tenant app with the
// same certificate. One sign-in then serves every customer.
type TenantSource interface {
	Source
	// Tenant is the tenant (GUID or domain) the tokens are for.
	Tenant() string
}

// ForTenant returns a source of the signed-in account's tokens for tenant: MSAL's silent
// acquisition at that tenant's authority, which redeems the account's refresh token there. It
// never prompts: a customer that does not let the user in answers with Entra's error.
func (s *PublicSource) ForTenant(tenant string) TenantSource {
	return &publicTenantSource{p: s, tenant: tenant}
}

type publicTenantSource struct {
	p      *PublicSource
	tenant string
}

func (t *publicTenantSource) Tenant() string { return t.tenant }

func (t *publicTenantSource) Token(ctx context.Context, scope string) (Token, error) {
	t.p.mu.Lock()
	acct, err := t.p.findAccount(ctx)
	if err == nil && t.p.account.IsZero() {
		t.p.account = acct // found once for every tenant
	}
	t.p.mu.Unlock()
	if err != nil {
		return Token{}, err
	}
	if acct.IsZero() {
		return Token{}, ErrSignInRequired
	}
	r, err := t.p.client.AcquireTokenSilent(ctx, []string{scope}, public.WithSilentAccount(acct), public.WithTenantID(t.tenant))
	if err != nil {
		if ctx.Err() != nil {
			return Token{}, ctx.Err()
		}
		var call msalerrors.CallErr
		if errors.As(err, &call) && call.Resp != nil {
			return Token{}, fromMSAL(err)
		}
		return Token{}, t.p.signInRequired(err)
	}
	return tokenOf(r), nil
}

// ForTenant returns a source of the app's tokens for tenant, where the multi-tenant app has
// a service principal: the same certificate, that tenant's authority.
func (s *ConfidentialSource) ForTenant(tenant string) TenantSource {
	return &confidentialTenantSource{c: s, tenant: tenant}
}

type confidentialTenantSource struct {
	c      *ConfidentialSource
	tenant string
}

func (t *confidentialTenantSource) Tenant() string { return t.tenant }

func (t *confidentialTenantSource) Token(ctx context.Context, scope string) (Token, error) {
	r, err := t.c.client.AcquireTokenByCredential(ctx, []string{scope}, confidential.WithTenantID(t.tenant))
	if err != nil {
		return Token{}, FromMSAL(err)
	}
	c, _ := ParseClaims(r.AccessToken)
	return Token{AccessToken: r.AccessToken, ExpiresOn: r.ExpiresOn, Claims: c}, nil
}
