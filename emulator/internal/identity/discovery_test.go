package identity_test

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

func TestOpenIDConfiguration(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		path, issuer, token string
	}{
		// MSAL Go's URL ends with a bare "?".
		{"/" + tenantName + "/v2.0/.well-known/openid-configuration?", e.base + "/" + tenantID + "/v2.0", e.base + "/" + tenantID + "/oauth2/v2.0/token"},
		{"/" + strings.ToUpper(tenantID) + "/v2.0/.well-known/openid-configuration", e.base + "/" + tenantID + "/v2.0", e.base + "/" + tenantID + "/oauth2/v2.0/token"},
		{"/contoso.com/v2.0/.well-known/openid-configuration", e.base + "/" + tenantID + "/v2.0", e.base + "/" + tenantID + "/oauth2/v2.0/token"},
		{"/organizations/v2.0/.well-known/openid-configuration", e.base + "/{tenantid}/v2.0", e.base + "/organizations/oauth2/v2.0/token"},
		{"/common/v2.0/.well-known/openid-configuration", e.base + "/{tenantid}/v2.0", e.base + "/common/oauth2/v2.0/token"},
		{"/" + tenantID + "/.well-known/openid-configuration", "https://sts.windows.net/" + tenantID + "/", e.base + "/" + tenantID + "/oauth2/token"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			var doc map[string]any
			if status := e.get(t, tc.path, &doc); status != http.StatusOK {
				t.Fatalf("status %d: %v", status, doc)
			}
			if doc["issuer"] != tc.issuer || doc["token_endpoint"] != tc.token {
				t.Errorf("issuer %v token_endpoint %v", doc["issuer"], doc["token_endpoint"])
			}
			for _, k := range []string{"authorization_endpoint", "device_authorization_endpoint", "jwks_uri"} {
				if s, _ := doc[k].(string); !strings.HasPrefix(s, e.base+"/") {
					t.Errorf("%s = %v", k, doc[k])
				}
			}
		})
	}
	t.Run("unknown tenant", func(t *testing.T) {
		var out entraError
		status := e.get(t, "/fabrikam.onmicrosoft.com/v2.0/.well-known/openid-configuration", &out)
		checkEntraError(t, status, out, 400, "invalid_tenant", 90002)
	})
}

func TestKeys(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ path, issuer string }{
		{"/" + tenantID + "/discovery/v2.0/keys", e.base + "/" + tenantID + "/v2.0"},
		{"/" + tenantName + "/discovery/v2.0/keys", e.base + "/" + tenantID + "/v2.0"},
		{"/organizations/discovery/v2.0/keys", e.base + "/{tenantid}/v2.0"},
		{"/common/discovery/keys", ""},
	} {
		var set struct {
			Keys []struct {
				Kty, Kid, X5t, N, E, Issuer string
				X5c                         []string
			} `json:"keys"`
		}
		if status := e.get(t, tc.path, &set); status != http.StatusOK {
			t.Fatalf("%s: status %d", tc.path, status)
		}
		if len(set.Keys) != 1 {
			t.Fatalf("%s: keys = %+v", tc.path, set.Keys)
		}
		k := set.Keys[0]
		if k.Kid != e.keys.KeyID || k.X5t != k.Kid || k.Kty != "RSA" || k.N == "" || k.Issuer != tc.issuer {
			t.Errorf("%s: key = %+v, want kid = x5t = %s, issuer %q", tc.path, k, e.keys.KeyID, tc.issuer)
		}
		if len(k.X5c) != 1 {
			t.Fatalf("%s: x5c = %v", tc.path, k.X5c)
		}
		der, err := base64.StdEncoding.DecodeString(k.X5c[0])
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha1.Sum(der)
		if base64.RawURLEncoding.EncodeToString(sum[:]) != k.X5t || !cert.PublicKey.(*rsa.PublicKey).Equal(&e.keys.Private.PublicKey) {
			t.Errorf("%s: x5c is not the signing key's certificate with thumbprint x5t", tc.path)
		}
		if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
			t.Errorf("x5c is not self-signed: %v", err)
		}
	}
}

func TestInstanceDiscovery(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		TenantDiscoveryEndpoint string `json:"tenant_discovery_endpoint"`
		Metadata                []struct {
			PreferredNetwork string   `json:"preferred_network"`
			Aliases          []string `json:"aliases"`
		} `json:"metadata"`
	}
	status := e.get(t, "/common/discovery/instance?api-version=1.1&authorization_endpoint="+e.base+"/"+tenantID+"/oauth2/v2.0/authorize", &doc)
	host := strings.TrimPrefix(e.base, "https://")
	if status != http.StatusOK || doc.TenantDiscoveryEndpoint != e.base+"/"+tenantID+"/v2.0/.well-known/openid-configuration" ||
		len(doc.Metadata) != 1 || doc.Metadata[0].PreferredNetwork != host || doc.Metadata[0].Aliases[0] != host {
		t.Errorf("status %d doc %+v", status, doc)
	}
}

func TestUserRealm(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ path, account, domain string }{
		{"/common/UserRealm/admin@contoso.onmicrosoft.com?api-version=1.0", "Managed", "contoso.onmicrosoft.com"},
		{"/common/userrealm/Admin@CONTOSO.COM?api-version=1.0", "Managed", "CONTOSO.COM"},
		{"/common/UserRealm/someone%40fabrikam.example?api-version=1.0", "Unknown", "fabrikam.example"},
	} {
		var doc map[string]any
		if status := e.get(t, tc.path, &doc); status != http.StatusOK {
			t.Fatalf("%s: status %d", tc.path, status)
		}
		if doc["account_type"] != tc.account || doc["domain_name"] != tc.domain ||
			doc["cloud_instance_name"] == "" || doc["cloud_audience_urn"] != "urn:federation:MicrosoftOnline" {
			t.Errorf("%s: %v", tc.path, doc)
		}
	}
}

func TestTokenEndpointNeedsPOST(t *testing.T) {
	e := newEnv(t)
	var out entraError
	status := e.get(t, "/"+tenantID+"/oauth2/v2.0/token", &out)
	checkEntraError(t, status, out, http.StatusMethodNotAllowed, "invalid_request", 900561)
}
