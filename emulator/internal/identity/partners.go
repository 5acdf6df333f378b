package identity

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/exoctl/exoctl/emulator/internal/store"
	"github.com/exoctl/exoctl/emulator/internal/token"
)

// Signing in at another tenant's authority: a partner's user (CSP/DAP admin agent, GDAP group
// member) or a guest (B2B) signs in with the home tenant's credentials at
// /{customer}/oauth2/v2.0/..., and gets the customer's token only while a relationship or a
// guest object allows it.

// foreignAccess is why a user of one tenant may have a token for another.
type foreignAccess struct {
	kind  string // store.RelationshipDAP, store.RelationshipGDAP or "guest"
	home  store.Tenant
	roles []string   // directory role template ids in the resource tenant
	guest store.User // the guest object in the resource tenant (kind "guest")
}

// findSigninUser finds the user signing in at ref: in ref's tenant, else (a tenant-specific
// authority) in the tenant that owns the user name's domain, a partner's or guest's home.
func (s *Server) findSigninUser(ctx context.Context, ref tenantRef, username string) (store.User, *aadError) {
	user, aerr := s.findUser(ctx, ref, username)
	if aerr == nil || ref.Meta || aerr.Code != 50034 {
		return user, aerr
	}
	at := strings.LastIndexByte(username, '@')
	if at < 0 {
		return user, aerr
	}
	home, err := s.cfg.Store.Tenant(ctx, username[at+1:])
	if err != nil || home.ID == ref.Tenant.ID {
		return user, aerr
	}
	u, herr := s.findUser(ctx, tenantRef{Segment: home.Name, Tenant: home}, username)
	if herr != nil {
		return user, aerr
	}
	return u, nil
}

// homeUser finds the user a grant names (refresh token, finished sign-in) in its home tenant
// homeID, for a token requested at ref's tenant.
func (s *Server) homeUser(ctx context.Context, ref tenantRef, homeID, oid string) (store.User, *aadError) {
	if ref.Tenant.ID == homeID {
		return s.findUser(ctx, ref, oid)
	}
	home, err := s.cfg.Store.Tenant(ctx, homeID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, errUserNotFound(oid, homeID)
	}
	if err != nil {
		return store.User{}, errServer(err)
	}
	return s.findUser(ctx, tenantRef{Segment: home.Name, Tenant: home}, oid)
}

// foreignAccessOf decides whether user, of another tenant, may have a token for resource:
// a guest object linked to the user, or an active DAP/GDAP relationship whose access
// assignments name one of the user's groups. Anything else is AADSTS50020, as Entra answers a
// partner whose relationship ended or never existed.
func (s *Server) foreignAccessOf(ctx context.Context, resource store.Tenant, user store.User, app store.App) (foreignAccess, *aadError) {
	home, err := s.cfg.Store.Tenant(ctx, user.TenantID)
	if err != nil {
		return foreignAccess{}, errServer(err)
	}
	fa := foreignAccess{home: home}
	notThere := func(why string) *aadError {
		return newErr(http.StatusBadRequest, "invalid_grant", 50020,
			"User account '%s' from identity provider '%s' does not exist in tenant '%s' and cannot access the application '%s'(%s) in that tenant. The account needs to be added as an external user in the tenant first. Sign out and sign in again with a different Azure Active Directory user account.%s",
			user.UPN, token.Issuer(home.ID), resource.DisplayName, app.AppID, app.DisplayName, why)
	}
	ps, ok := s.cfg.Store.(store.Partners)
	if !ok {
		return fa, notThere("")
	}
	if g, err := ps.GuestOf(ctx, resource.ID, home.ID, user.ObjectID); err == nil {
		gu, err := s.cfg.Store.User(ctx, resource.ID, g.ObjectID)
		if err != nil {
			return fa, errServer(err)
		}
		if aerr := userCanSignIn(gu); aerr != nil {
			return fa, aerr
		}
		fa.kind, fa.guest, fa.roles = "guest", gu, gu.DirectoryRoles
		return fa, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return fa, errServer(err)
	}
	rels, err := ps.Relationships(ctx, home.ID, resource.ID)
	if err != nil {
		return fa, errServer(err)
	}
	groups, err := ps.GroupsOf(ctx, home.ID, user.ObjectID)
	if err != nil {
		return fa, errServer(err)
	}
	now := s.now()
	var inactive []string
	for _, r := range rels {
		for _, a := range r.Access {
			if slices.Contains(groups, a.GroupID) {
				if st := r.EffectiveStatus(now); st == store.RelationshipActive {
					for _, role := range a.Roles {
						if !slices.Contains(fa.roles, role) {
							fa.roles = append(fa.roles, role)
						}
					}
					if fa.kind != store.RelationshipDAP {
						fa.kind = r.Kind
					}
				} else {
					inactive = append(inactive, "the "+r.Kind+" relationship '"+r.DisplayName+"' is "+st)
				}
			}
		}
	}
	if len(fa.roles) > 0 {
		return fa, nil
	}
	why := ""
	if len(inactive) > 0 {
		why = " (The emulator: " + strings.Join(inactive, "; ") + ".)"
	}
	return fa, notThere(why)
}

// foreignClaims turns a home user's claims into those Entra puts on a token for another tenant:
// the resource tenant's tid and issuer, idp naming the home tenant's issuer, and the roles the
// relationship or guest object has there. A partner (DAP/GDAP) keeps its home oid and upn; a
// guest gets its guest object's oid, no upn, and its home address as unique_name and email.
func foreignClaims(c *token.Claims, fa foreignAccess) {
	c.IdentityProvider = token.Issuer(fa.home.ID)
	c.WIDs = fa.roles
	if fa.kind == "guest" {
		c.ObjectID = fa.guest.ObjectID
		c.Email = c.UPN
		c.UniqueName = c.UPN
		c.UPN = ""
	}
}
