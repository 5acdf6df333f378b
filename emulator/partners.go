package emulator

import (
	"time"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// partnerTenants describes the partner and customer tenants of a seed. The partner's
// multi-tenant app signs in with the same certificate files as the demo app.
func partnerTenants(res *store.SeedResult, app AppInfo) []TenantInfo {
	var out []TenantInfo
	for _, t := range res.Tenants {
		ti := TenantInfo{Name: t.Name, ID: t.ID, DisplayName: t.DisplayName, Kind: t.Kind, Domains: t.Domains}
		if t.Kind == store.TenantPartner {
			a := app
			a.AppID = t.AppID
			ti.Apps = []AppInfo{a}
		} else {
			ti.PartnerApps = []string{t.AppID}
		}
		for _, u := range t.Users {
			ti.Users = append(ti.Users, userInfo(u))
		}
		for _, g := range t.Groups {
			ti.Groups = append(ti.Groups, GroupInfo{Name: g.Name, Members: g.Members})
		}
		for _, r := range t.Relationships {
			ri := RelationshipInfo{Kind: r.Kind, Name: r.Name, Partner: r.Partner, Status: r.Status}
			if !r.Start.IsZero() {
				ri.Start = &r.Start
			}
			if !r.End.IsZero() {
				ri.End = &r.End
				if r.Status == store.RelationshipActive && !time.Now().Before(r.End) {
					ri.Status = store.RelationshipExpired
				}
			}
			for _, a := range r.Access {
				ri.Access = append(ri.Access, AccessInfo{Group: a.Group, Roles: a.Roles})
			}
			ti.Relationships = append(ti.Relationships, ri)
		}
		ti.Guests = guestInfos(t.Guests)
		out = append(out, ti)
	}
	return out
}

func guestInfos(gs []store.SeedGuest) []GuestInfo {
	var out []GuestInfo
	for _, g := range gs {
		out = append(out, GuestInfo{UPN: g.UPN, HomeUPN: g.HomeUPN, Roles: g.Roles})
	}
	return out
}
