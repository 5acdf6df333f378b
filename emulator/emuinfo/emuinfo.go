// Package emuinfo is emulator.json, the file through which the emulator tells clients how to
// reach it: URLs, CA, seeded tenants, apps, users and managed identities. It is a leaf package so
// that exoctl's client reads the file without linking the emulator.
package emuinfo

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// FileName is the name of the file, in the data folder, that tells clients how to connect.
const FileName = "emulator.json"

// DefaultAddr is where `exoctl emulator start` listens unless told otherwise. It is fixed so
// that token caches (keyed by authority host:port) stay warm across restarts.
const DefaultAddr = "127.0.0.1:10443"

// The admin API's default request budget per tenant: what one capture of the service showed
// (Rate-Limit-Limit: 30000), per hour.
const (
	DefaultRateLimit  = 30000
	DefaultRateWindow = time.Hour
)

// TOTPIssuer is the issuer name in the seeded MFA users' otpauth:// URIs.
const TOTPIssuer = "exoctl emulator"

// Info is the content of emulator.json.
type Info struct {
	URL           string `json:"url"`
	CAFile        string `json:"ca_file"`
	Authority     string `json:"authority"`
	ConnectionURI string `json:"connection_uri"`
	// ComplianceURI is the Security & Compliance base (Connect-IPPSSession -ConnectionUri):
	// region discovery there sends clients to ComplianceRegionURI.
	ComplianceURI       string       `json:"compliance_uri"`
	ComplianceRegionURI string       `json:"compliance_region_uri"`
	Tenants             []TenantInfo `json:"tenants"`
	// ManagedIdentity tells where the managed identity endpoints are.
	ManagedIdentity *ManagedIdentityEndpoints `json:"managed_identity,omitempty"`
}

// ManagedIdentityEndpoints are the emulator's managed identity endpoints, as the environment
// variables MSAL reads them from: App Service sets IDENTITY_ENDPOINT=app_service_endpoint and
// IDENTITY_HEADER=identity_header; Cloud Shell sets MSI_ENDPOINT=cloud_shell_endpoint; Azure Arc
// sets IDENTITY_ENDPOINT=arc_endpoint and IMDS_ENDPOINT=arc_imds_endpoint; Service Fabric sets
// IDENTITY_ENDPOINT=service_fabric_endpoint, IDENTITY_HEADER and
// IDENTITY_SERVER_THUMBPRINT=service_fabric_thumbprint. IMDS has no variable: a client sends what
// it meant for http://169.254.169.254 to imds_endpoint instead.
type ManagedIdentityEndpoints struct {
	IMDSEndpoint       string `json:"imds_endpoint"`
	AppServiceEndpoint string `json:"app_service_endpoint"`
	IdentityHeader     string `json:"identity_header"`
	CloudShellEndpoint string `json:"cloud_shell_endpoint"`
	// CloudShellUser is who is signed in to the emulated Cloud Shell: its endpoint answers with
	// this user's delegated token, as the real Cloud Shell does.
	CloudShellUser          string `json:"cloud_shell_user"`
	ArcEndpoint             string `json:"arc_endpoint"`
	ArcIMDSEndpoint         string `json:"arc_imds_endpoint"`
	ArcKeyDir               string `json:"arc_key_dir"`
	ServiceFabricEndpoint   string `json:"service_fabric_endpoint"`
	ServiceFabricThumbprint string `json:"service_fabric_thumbprint"`
}

// TenantInfo describes a seeded tenant.
type TenantInfo struct {
	Name  string     `json:"name"`
	ID    string     `json:"id"`
	Apps  []AppInfo  `json:"apps"`
	Users []UserInfo `json:"users"`
	// ManagedIdentities are the tenant's managed identities, all offered by the endpoints.
	ManagedIdentities []ManagedIdentityInfo `json:"managed_identities,omitempty"`

	// DisplayName, Kind ("partner", "customer" or empty for the demo tenant) and Domains
	// (initial first) describe the partner and customer tenants.
	DisplayName string   `json:"display_name,omitempty"`
	Kind        string   `json:"kind,omitempty"`
	Domains     []string `json:"domains,omitempty"`
	// Groups are a partner's security groups (AdminAgents, GDAP groups) and their members.
	Groups []GroupInfo `json:"groups,omitempty"`
	// Relationships are a customer's DAP and GDAP relationships with partners.
	Relationships []RelationshipInfo `json:"relationships,omitempty"`
	// Guests are the tenant's guest (B2B) users, invited from other tenants.
	Guests []GuestInfo `json:"guests,omitempty"`
	// PartnerApps are partners' multi-tenant apps with Exchange.ManageAsApp here.
	PartnerApps []string `json:"partner_apps,omitempty"`
}

// ManagedIdentityInfo describes a seeded managed identity.
type ManagedIdentityInfo struct {
	Name           string   `json:"name"`
	ClientID       string   `json:"client_id"`
	ObjectID       string   `json:"object_id"`
	ResourceID     string   `json:"resource_id"`
	SystemAssigned bool     `json:"system_assigned"`
	Roles          []string `json:"roles"`
	AppRoles       []string `json:"app_roles"`
	Description    string   `json:"description,omitempty"`
}

// AppInfo describes a seeded app registration and its certificate files.
type AppInfo struct {
	AppID               string `json:"app_id"`
	CertificateFile     string `json:"certificate_file"`
	CertificatePassword string `json:"certificate_password"`
	CertificatePEMFile  string `json:"certificate_pem_file"`
	Thumbprint          string `json:"thumbprint"`
}

// UserInfo describes a seeded user: how to sign in as them and what the account is for.
type UserInfo struct {
	UPN      string   `json:"upn"`
	Password string   `json:"password"`
	Roles    []string `json:"roles"`
	// Description says what the account is for (MFA, disabled, no PowerShell, read-only...).
	Description string `json:"description,omitempty"`
	// TOTPSecret is the authenticator secret (base32; SHA-1, 6 digits, 30 s) of a user who must
	// pass MFA, and TOTPURI the same as an otpauth:// URI an authenticator app can import.
	// `exoctl emulator totp UPN` prints the current code.
	TOTPSecret string `json:"totp_secret,omitempty"`
	TOTPURI    string `json:"totp_uri,omitempty"`
}

// RelationshipInfo is a customer tenant's delegated administration by a partner, as
// emulator.json lists it: DAP (the partner's AdminAgents as Global Administrator) or GDAP (roles
// granted to the partner's groups between Start and End).
type RelationshipInfo struct {
	Kind    string       `json:"kind"`
	Name    string       `json:"name"`
	Partner string       `json:"partner"`
	Status  string       `json:"status"`
	Start   *time.Time   `json:"start,omitempty"`
	End     *time.Time   `json:"end,omitempty"`
	Access  []AccessInfo `json:"access"`
}

// AccessInfo is a partner group and the roles a relationship grants its members.
type AccessInfo struct {
	Group string   `json:"group"`
	Roles []string `json:"roles"`
}

// GroupInfo is a partner security group and its members.
type GroupInfo struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// GuestInfo is a guest (B2B) user of a tenant: its UPN there, its home account, its roles.
type GuestInfo struct {
	UPN     string   `json:"upn"`
	HomeUPN string   `json:"home_upn"`
	Roles   []string `json:"roles"`
}

// Read reads emulator.json from a data folder.
func Read(dataDir string) (*Info, error) {
	path := filepath.Join(dataDir, FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s not found: start the emulator first (exoctl emulator start --data %s)", path, dataDir)
		}
		return nil, err
	}
	var info Info
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %w", path, err)
	}
	return &info, nil
}
