package exchange

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
)

// delegatedScopes are the scp values that let a user token call the admin API: the module's
// own app and partner apps.
var delegatedScopes = []string{"AdminApi.AccessAsUser.All", "Exchange.Manage", "Exchange.ManageV2"}

// Caller is who a request runs as, from its access token and the directory.
type Caller struct {
	AppOnly  bool
	AppID    string
	ObjectID string
	UPN      string // delegated callers only
	// Roles are directory role template ids: the token's wids for an app, the user's
	// assignments for a delegated caller. They decide which cmdlets exist for the caller.
	Roles []string
}

func (c Caller) hasRole(id string) bool {
	return slices.ContainsFunc(c.Roles, func(r string) bool { return strings.EqualFold(r, id) })
}

// may reports whether the cmdlet exists in the caller's session (Exchange RBAC by directory
// role): Exchange and Global Administrators run everything, Global Readers read.
func (c Caller) may(cmd *Cmdlet) bool {
	if cmd == nil {
		return false
	}
	if c.hasRole(store.RoleExchangeAdministrator) || c.hasRole(store.RoleGlobalAdministrator) {
		return true
	}
	return cmd.ReadOnly && c.hasRole(store.RoleGlobalReader)
}

// authenticate checks the bearer token (signature, RS256, audience, lifetime), that it was
// issued by the tenant of the URL, and works out the caller's roles.
func (s *Server) authenticate(r *http.Request, tenantSeg string) (Caller, store.Tenant, *Error) {
	var c Caller
	scheme, raw, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	raw = strings.TrimSpace(raw)
	if !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return c, store.Tenant{}, errUnauthorized("The request has no bearer access token.")
	}
	if s.cfg.Keys == nil {
		return c, store.Tenant{}, errInternal("The emulator has no token signing key.")
	}
	claims, err := s.cfg.Keys.Verify(raw, s.cfg.Now(), s.auds...)
	switch {
	case err == nil:
	case errors.Is(err, token.ErrExpired):
		return c, store.Tenant{}, errUnauthorized("The access token has expired.")
	case errors.Is(err, token.ErrSignature):
		return c, store.Tenant{}, errUnauthorized("The access token's signature is invalid.")
	case errors.Is(err, token.ErrAudience):
		return c, store.Tenant{}, errUnauthorized(fmt.Sprintf("The access token's audience '%s' isn't valid for this resource.", claims.Audience))
	default:
		return c, store.Tenant{}, errUnauthorized("The access token is malformed or not valid yet.")
	}
	ctx := r.Context()
	tenant, err := s.cfg.Store.Tenant(ctx, tenantSeg)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c, store.Tenant{}, errUnauthorized(fmt.Sprintf("The tenant '%s' of the request URL doesn't exist or isn't the tenant the access token was issued for.", tenantSeg))
	case err != nil:
		return c, store.Tenant{}, errInternal("The tenant couldn't be read: " + err.Error())
	}
	if !strings.EqualFold(claims.TenantID, tenant.ID) {
		return c, store.Tenant{}, errUnauthorized(fmt.Sprintf("The access token was issued for tenant '%s', not for '%s'.", claims.TenantID, tenantSeg))
	}
	c.AppID, c.ObjectID = claims.AppID, claims.ObjectID
	if claims.AppOnly() {
		c.AppOnly = true
		if !slices.ContainsFunc(claims.Roles, func(r string) bool { return strings.EqualFold(r, store.AppRoleManageAsApp) }) {
			return c, store.Tenant{}, errUnauthorized("The access token doesn't carry the Exchange.ManageAsApp application role.")
		}
		c.Roles = claims.WIDs
		if len(c.Roles) == 0 && claims.AppID != "" {
			if app, err := s.cfg.Store.App(ctx, tenant.ID, claims.AppID); err == nil {
				c.Roles = app.DirectoryRoles
			}
		}
		return c, tenant, nil
	}
	scopes := strings.Fields(claims.Scope)
	if !slices.ContainsFunc(scopes, func(sc string) bool {
		return slices.ContainsFunc(delegatedScopes, func(d string) bool { return strings.EqualFold(sc, d) })
	}) {
		return c, store.Tenant{}, errUnauthorized(fmt.Sprintf("The access token's scopes '%s' don't grant access to the Exchange admin API.", claims.Scope))
	}
	upn := claims.UPN
	if upn == "" {
		upn = claims.UniqueName
	}
	u, err := s.cfg.Store.User(ctx, tenant.ID, claims.ObjectID)
	if errors.Is(err, store.ErrNotFound) && upn != "" {
		u, err = s.cfg.Store.User(ctx, tenant.ID, upn)
	}
	if errors.Is(err, store.ErrNotFound) && claims.IdentityProvider != "" && claims.IdentityProvider != token.Issuer(tenant.ID) {
		// A partner's admin agent or GDAP member: not a user of this tenant, authorised by the
		// roles its relationship grants, which Entra put in wids.
		c.UPN, c.Roles = upn, claims.WIDs
		return c, tenant, nil
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c, store.Tenant{}, errUnauthorized(fmt.Sprintf("The user '%s' of the access token doesn't exist in the tenant.", upn))
	case err != nil:
		return c, store.Tenant{}, errInternal("The user couldn't be read: " + err.Error())
	}
	if !u.Enabled {
		return c, store.Tenant{}, errUnauthorized(fmt.Sprintf("The user '%s' is disabled.", u.UPN))
	}
	if !u.PowerShellEnabled {
		return c, store.Tenant{}, errForbidden(fmt.Sprintf("User '%s' isn't allowed to use PowerShell (RemotePowerShellEnabled is False). An administrator can allow it with Set-User -RemotePowerShellEnabled $true.", u.UPN))
	}
	c.UPN, c.ObjectID, c.Roles = u.UPN, u.ObjectID, u.DirectoryRoles
	return c, tenant, nil
}
