package identity

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/exoctl/exoctl/emulator/internal/store"
)

// openIDConfiguration answers the v2 (/{tenant}/v2.0/.well-known/openid-configuration) or v1
// (/{tenant}/.well-known/openid-configuration) discovery document. For a named tenant the
// endpoints carry its GUID, as Entra's do; for organizations/common they keep the segment and
// the issuer carries the literal {tenantid} placeholder.
func (s *Server) openIDConfiguration(w http.ResponseWriter, r *http.Request, tenant string, v2 bool) {
	ref, aerr := s.resolveTenant(r.Context(), tenant, "invalid_tenant")
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	seg, tid := ref.Segment, "{tenantid}"
	if !ref.Meta {
		seg, tid = ref.Tenant.ID, ref.Tenant.ID
	}
	b := s.base + "/" + seg
	doc := map[string]any{
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"request_uri_parameter_supported":       false,
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"claims_supported": []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
			"cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce",
			"preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		"kerberos_endpoint":     b + "/kerberos",
		"tenant_region_scope":   "NA",
		"cloud_instance_name":   s.cloudInstanceName(),
		"cloud_graph_host_name": "graph.windows.net",
		"msgraph_host":          "graph.microsoft.com",
		"rbac_url":              "https://pas.windows.net",
		"end_session_endpoint":  b + "/oauth2/v2.0/logout",
		"userinfo_endpoint":     s.base + "/oidc/userinfo",
	}
	if v2 {
		doc["issuer"] = s.base + "/" + tid + "/v2.0"
		doc["token_endpoint"] = b + "/oauth2/v2.0/token"
		doc["authorization_endpoint"] = b + "/oauth2/v2.0/authorize"
		doc["device_authorization_endpoint"] = b + "/oauth2/v2.0/devicecode"
		doc["jwks_uri"] = b + "/discovery/v2.0/keys"
	} else {
		doc["issuer"] = "https://sts.windows.net/" + tid + "/"
		doc["token_endpoint"] = b + "/oauth2/token"
		doc["authorization_endpoint"] = b + "/oauth2/authorize"
		doc["device_authorization_endpoint"] = b + "/oauth2/devicecode"
		doc["end_session_endpoint"] = b + "/oauth2/logout"
		doc["check_session_iframe"] = b + "/oauth2/checksession" // v1 only, as Entra's v2 document lacks it
		doc["request_parameter_supported"] = false
		doc["jwks_uri"] = s.base + "/common/discovery/keys"
	}
	s.writeJSON(w, r, http.StatusOK, doc)
}

// cloudInstanceName is the emulator's stand-in for microsoftonline.com: its host (no port).
func (s *Server) cloudInstanceName() string {
	u, err := url.Parse(s.base)
	if err != nil || u.Hostname() == "" {
		return "microsoftonline.com"
	}
	return u.Hostname()
}

func (s *Server) host() string {
	u, err := url.Parse(s.base)
	if err != nil {
		return s.base
	}
	return u.Host
}

// keys answers the JSON Web Key Set the emulator signs tokens with. The v2 set names on each key
// the issuer whose tokens it signs, as Entra's v2 keys do: the tenant's v2 issuer, or the
// {tenantid} template for organizations/common (an unknown tenant gets the template too, as
// libraries only fetch keys of issuers they already trust).
func (s *Server) keys(w http.ResponseWriter, r *http.Request, tenant string, v2 bool) {
	issuer := ""
	if v2 {
		tid := "{tenantid}"
		if ref, aerr := s.resolveTenant(r.Context(), tenant, "invalid_tenant"); aerr == nil && !ref.Meta {
			tid = ref.Tenant.ID
		}
		issuer = s.base + "/" + tid + "/v2.0"
	}
	s.writeJSON(w, r, http.StatusOK, s.cfg.Keys.JWKS(issuer, s.cloudInstanceName()))
}

// instanceDiscovery answers /common/discovery/instance: the emulator is one cloud with one
// host, its own. MSAL only calls it when instance discovery is on.
func (s *Server) instanceDiscovery(w http.ResponseWriter, r *http.Request) {
	tenant := "common"
	if ae := r.URL.Query().Get("authorization_endpoint"); ae != "" {
		if u, err := url.Parse(ae); err == nil {
			if p := strings.Split(strings.Trim(u.Path, "/"), "/"); len(p) > 0 && p[0] != "" {
				tenant = p[0]
			}
		}
	}
	h := s.host()
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": s.base + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": h,
			"preferred_cache":   h,
			"aliases":           []string{h},
		}},
	})
}

// userRealm answers /common/UserRealm/{upn}: Managed for a domain of a tenant the emulator
// knows, Unknown otherwise (as Entra answers for a domain nobody registered).
func (s *Server) userRealm(w http.ResponseWriter, r *http.Request, upn string) {
	domain := upn
	if i := strings.LastIndex(upn, "@"); i >= 0 {
		domain = upn[i+1:]
	}
	doc := map[string]any{
		"ver":                 "1.0",
		"account_type":        "Unknown",
		"domain_name":         domain,
		"cloud_instance_name": s.cloudInstanceName(),
		"cloud_audience_urn":  "urn:federation:MicrosoftOnline",
	}
	if domain != "" {
		t, err := s.cfg.Store.Tenant(r.Context(), domain)
		switch {
		case err == nil:
			doc["account_type"] = "Managed"
			doc["federation_brand_name"] = t.DisplayName
		case !errors.Is(err, store.ErrNotFound):
			s.writeError(w, r, errServer(err))
			return
		}
	}
	s.writeJSON(w, r, http.StatusOK, doc)
}
