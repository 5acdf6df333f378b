package store

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Seed names.
const (
	SeedDemo  = "demo"  // the Contoso tenant with 250 mailboxes
	SeedLarge = "large" // the same tenant with 100,000 mailboxes
)

// The demo tenant's fixed identifiers: stable across seeds so docs, scripts and token caches
// keep working.
const (
	DemoTenantID        = "4c9f2b7e-81d3-4a56-9e0c-5b7d3f1a2c68"
	DemoTenantName      = "contoso.onmicrosoft.com"
	DemoTenantDisplay   = "Contoso"
	DemoDefaultDomain   = "contoso.com"
	DemoAppID           = "7f3e1c2a-9b64-4d85-a0e2-6c1b9d4f8a37" // "exoctl automation"
	DemoAppName         = "exoctl automation"
	ModulePublicAppID   = "fb78d390-0c51-40cd-8e17-fdbfab77341b" // ExchangeOnlineManagement's public client
	modulePublicAppName = "Microsoft Exchange REST API Based Powershell"
)

// Mailbox quotas as Exchange Online sets them for a 100 GB plan.
const (
	GB                         = int64(1) << 30
	DefaultProhibitSendQuota   = 99 * GB  // 106,300,440,576 bytes
	DefaultProhibitSendReceive = 100 * GB // 107,374,182,400 bytes
	DefaultIssueWarningQuota   = 98 * GB  // 105,226,698,752 bytes
)

// SeedOptions chooses what Seed writes.
type SeedOptions struct {
	Seed              string // SeedDemo (default) or SeedLarge
	AppCertificateDER []byte // the seeded app's certificate (the emulator generates it and keeps the key)
}

// SeedUser is a seeded user who can sign in.
type SeedUser struct {
	UPN         string
	Password    string
	Roles       []string // role display names, e.g. "Exchange Administrator"
	Description string   // what the account is for, e.g. "MFA required (TOTP)"
	TOTPSecret  string   // base32, for users who must pass MFA
}

// SeedResult is what a seed made: what emulator.json tells users.
type SeedResult struct {
	TenantID, TenantName string
	AppID                string
	Users                []SeedUser
	// ManagedIdentities are the tenant's managed identities (service principals stored as Apps).
	ManagedIdentities []SeedManagedIdentity
	// Tenants are the other seeded tenants: the partner and its customers.
	Tenants []SeedTenant
	// Guests are the demo tenant's guest (B2B) users.
	Guests []SeedGuest
}

// SeedManagedIdentity is a seeded managed identity: a service principal whose tokens come from
// the emulator's managed identity endpoints (IMDS, App Service, Cloud Shell, Azure Arc) instead
// of a credential.
type SeedManagedIdentity struct {
	Name           string
	ClientID       string // the service principal's app id
	ObjectID       string // the service principal's object id (principal id)
	ResourceID     string // the Azure resource id: the VM for system-assigned, the identity for user-assigned
	SystemAssigned bool
	Roles          []string // directory role display names
	AppRoles       []string // application permissions on Exchange, e.g. Exchange.ManageAsApp
	Description    string
}

// Demo managed identities: fixed GUIDs so emulator.json, scripts and token caches stay valid.
const (
	DemoSubscriptionID = "9a1c5e3b-7d42-4f86-b0e9-2c6d8f4a1b57"
	DemoResourceGroup  = "exoctl-rg"
	// exoctl-vm's system-assigned identity, with Exchange.ManageAsApp and Exchange Administrator.
	DemoVMIdentityClientID = "3b8d6f21-5c4e-4a97-8e1d-0f2a7c9b6e45"
	DemoVMIdentityObjectID = "c1e7a9d3-2b64-4f58-9a0c-7d3e5b1f8c26"
	// exoctl-automation-uami, user-assigned, with Exchange.ManageAsApp and Exchange Administrator.
	DemoAutomationIdentityClientID = "5e2a9c7f-1d38-4b64-a5f0-8c4d2e6b9a13"
	DemoAutomationIdentityObjectID = "e4b6d8f2-3a1c-4e79-b2d5-9f0a6c8e1d74"
	// exoctl-norole-uami, user-assigned, with no Exchange permission or role.
	DemoNoRoleIdentityClientID = "8f4c2a6e-9b17-4d35-8c6a-1e5f3b7d2a98"
	DemoNoRoleIdentityObjectID = "a7d3f1b9-6e25-4c48-9d7b-3b8e0f2c5a61"
)

// demoManagedIdentities are the demo tenant's managed identities; Roles hold role template ids
// here (SeedInfo reports display names).
var demoManagedIdentities = []SeedManagedIdentity{{
	Name: "exoctl-vm", ClientID: DemoVMIdentityClientID, ObjectID: DemoVMIdentityObjectID, SystemAssigned: true,
	ResourceID: "/subscriptions/" + DemoSubscriptionID + "/resourceGroups/" + DemoResourceGroup + "/providers/Microsoft.Compute/virtualMachines/exoctl-vm",
	Roles:      []string{RoleExchangeAdministrator}, AppRoles: []string{AppRoleManageAsApp},
	Description: "system-assigned identity of the VM exoctl-vm, with Exchange.ManageAsApp and Exchange Administrator",
}, {
	Name: "exoctl-automation-uami", ClientID: DemoAutomationIdentityClientID, ObjectID: DemoAutomationIdentityObjectID,
	ResourceID: "/subscriptions/" + DemoSubscriptionID + "/resourceGroups/" + DemoResourceGroup + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/exoctl-automation-uami",
	Roles:      []string{RoleExchangeAdministrator}, AppRoles: []string{AppRoleManageAsApp},
	Description: "user-assigned identity with Exchange.ManageAsApp and Exchange Administrator",
}, {
	Name: "exoctl-norole-uami", ClientID: DemoNoRoleIdentityClientID, ObjectID: DemoNoRoleIdentityObjectID,
	ResourceID:  "/subscriptions/" + DemoSubscriptionID + "/resourceGroups/" + DemoResourceGroup + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/exoctl-norole-uami",
	Description: "user-assigned identity with no Exchange permission or role (Exchange refuses it)",
}}

// RoleDisplayName names a directory role template id, or returns the id when unknown.
func RoleDisplayName(templateID string) string {
	switch strings.ToLower(templateID) {
	case RoleExchangeAdministrator:
		return "Exchange Administrator"
	case RoleGlobalAdministrator:
		return "Global Administrator"
	case RoleGlobalReader:
		return "Global Reader"
	}
	return templateID
}

// demoUser is a seeded sign-in account; users with a mailbox get one named after them.
type demoUser struct {
	upn, first, last, password, description string
	roles                                   []string
	enabled, mfa, powerShell                bool
}

var demoUsers = []demoUser{
	{upn: "admin@contoso.onmicrosoft.com", first: "Exchange", last: "Admin", password: "Exo-Admin!2468Contoso",
		description: "Exchange administrator", roles: []string{RoleExchangeAdministrator}, enabled: true, powerShell: true},
	{upn: "globaladmin@contoso.onmicrosoft.com", first: "Global", last: "Admin", password: "Global-Admin!1357Contoso",
		description: "Global administrator", roles: []string{RoleGlobalAdministrator}, enabled: true, powerShell: true},
	{upn: "adele.vance@contoso.com", first: "Adele", last: "Vance", password: "Adele-Mfa!8642Contoso",
		description: "Exchange administrator who must pass MFA (TOTP)", roles: []string{RoleExchangeAdministrator}, enabled: true, mfa: true, powerShell: true},
	{upn: "alex.wilber@contoso.com", first: "Alex", last: "Wilber", password: "Alex-Disabled!9753Contoso",
		description: "disabled account (sign-in blocked)", roles: []string{RoleExchangeAdministrator}, powerShell: true},
	{upn: "lee.gu@contoso.com", first: "Lee", last: "Gu", password: "Lee-NoShell!3141Contoso",
		description: "Exchange administrator with RemotePowerShellEnabled $false", roles: []string{RoleExchangeAdministrator}, enabled: true},
	{upn: "megan.bowen@contoso.com", first: "Megan", last: "Bowen", password: "Megan-Reader!2718Contoso",
		description: "global reader (read-only cmdlets)", roles: []string{RoleGlobalReader}, enabled: true, powerShell: true},
	{upn: "diego.siciliani@contoso.com", first: "Diego", last: "Siciliani", password: "Diego-User!1618Contoso",
		description: "user with no admin role", enabled: true, powerShell: true},
}

// demoTOTPSecret is the MFA user's authenticator secret (base32, 160 bits).
var demoTOTPSecret = func() string {
	sum := sha1.Sum([]byte("exoctl demo tenant: adele.vance TOTP"))
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:])
}()

// demoID derives a stable GUID for a named object of the demo tenant.
func demoID(name string) string {
	return uuid.NewSHA1(uuid.MustParse(DemoTenantID), []byte(name)).String()
}

// SeedInfo returns what Seed reports for a seed without writing anything: an emulator
// restarting on a seeded store uses it to tell users the seeded credentials again.
func SeedInfo(seed string) (*SeedResult, error) {
	switch seed {
	case "", SeedDemo, SeedLarge, SeedMSP:
	default:
		return nil, fmt.Errorf("store: unknown seed %q (want %s, %s or %s)", seed, SeedDemo, SeedLarge, SeedMSP)
	}
	res := &SeedResult{TenantID: DemoTenantID, TenantName: DemoTenantName, AppID: DemoAppID}
	for _, u := range demoUsers {
		su := SeedUser{UPN: u.upn, Password: u.password, Description: u.description}
		for _, r := range u.roles {
			su.Roles = append(su.Roles, RoleDisplayName(r))
		}
		if u.mfa {
			su.TOTPSecret = demoTOTPSecret
		}
		res.Users = append(res.Users, su)
	}
	for _, mi := range demoManagedIdentities {
		ids := mi.Roles
		mi.Roles = nil
		for _, r := range ids {
			mi.Roles = append(mi.Roles, RoleDisplayName(r))
		}
		mi.AppRoles = append([]string(nil), mi.AppRoles...)
		res.ManagedIdentities = append(res.ManagedIdentities, mi)
	}
	var err error
	if res.Tenants, res.Guests, err = partnerSeedInfo(seed, time.Now().UTC()); err != nil {
		return nil, err
	}
	return res, nil
}

// IsEmpty reports whether the store holds no tenant yet (and so wants a seed).
func IsEmpty(ctx context.Context, s Store) (bool, error) {
	ts, err := s.Tenants(ctx)
	if err != nil {
		return false, err
	}
	return len(ts) == 0, nil
}

// Seed writes the named seed's tenant into s: the directory (tenant, accepted domains, apps,
// certificate, users) and the partner tenants. The tenant must not exist yet. Its Exchange
// recipients are the exchange package's to write (exchange.Seed), in the shape of its schemas.
func Seed(ctx context.Context, s Store, opts SeedOptions) (*SeedResult, error) {
	res, err := SeedInfo(opts.Seed)
	if err != nil {
		return nil, err
	}
	if _, err := s.Tenant(ctx, DemoTenantID); err == nil {
		return nil, fmt.Errorf("store: seed %s: tenant %s already exists", opts.Seed, DemoTenantName)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("store: seed %s: %w", opts.Seed, err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	// The tenant predates every mailbox (those are spread over the last six years).
	created := now.AddDate(-7, 0, 0)
	if err := seedDirectory(ctx, s, opts, created); err != nil {
		return nil, fmt.Errorf("store: seed %s: %w", opts.Seed, err)
	}
	if err := seedPartners(ctx, s, res, opts.AppCertificateDER, created); err != nil {
		return nil, fmt.Errorf("store: seed %s: partners: %w", opts.Seed, err)
	}
	return res, nil
}

// seedDirectory writes the tenant, its domains, apps, certificate and users.
func seedDirectory(ctx context.Context, s Store, opts SeedOptions, created time.Time) error {
	if err := s.PutTenant(ctx, Tenant{ID: DemoTenantID, Name: DemoTenantName, DisplayName: DemoTenantDisplay, CreatedAt: created}); err != nil {
		return err
	}
	for _, d := range []AcceptedDomain{
		{GUID: demoID("domain/" + DemoTenantName), DomainName: DemoTenantName, Initial: true},
		{GUID: demoID("domain/" + DemoDefaultDomain), DomainName: DemoDefaultDomain, Default: true},
	} {
		d.TenantID, d.Name, d.DomainType = DemoTenantID, d.DomainName, "Authoritative"
		d.WhenCreated, d.WhenChanged = created, created
		if err := s.PutAcceptedDomain(ctx, d); err != nil {
			return err
		}
	}
	apps := []App{{
		TenantID: DemoTenantID, AppID: DemoAppID, ObjectID: demoID("app/" + DemoAppID), DisplayName: DemoAppName,
		AppRoles: []string{AppRoleManageAsApp}, DirectoryRoles: []string{RoleExchangeAdministrator},
	}, {
		TenantID: DemoTenantID, AppID: ModulePublicAppID, ObjectID: demoID("app/" + ModulePublicAppID),
		DisplayName: modulePublicAppName, Public: true, RedirectURIs: []string{"http://localhost"},
	}}
	for _, mi := range demoManagedIdentities {
		apps = append(apps, App{
			TenantID: DemoTenantID, AppID: mi.ClientID, ObjectID: mi.ObjectID, DisplayName: mi.Name,
			AppRoles: mi.AppRoles, DirectoryRoles: mi.Roles,
		})
	}
	for _, a := range apps {
		if err := s.PutApp(ctx, a); err != nil {
			return err
		}
	}
	if len(opts.AppCertificateDER) > 0 {
		c, err := CertificateFromDER(DemoAppID, opts.AppCertificateDER)
		if err != nil {
			return err
		}
		if err := s.PutCertificate(ctx, c); err != nil {
			return err
		}
	}
	hashes, err := demoPasswordHashes()
	if err != nil {
		return err
	}
	_, sqlite := s.(*SQLite)
	for i, u := range demoUsers {
		password := u.password
		user := User{
			TenantID: DemoTenantID, ObjectID: demoID("user/" + u.upn), UPN: u.upn,
			DisplayName: u.first + " " + u.last, Enabled: u.enabled, MFARequired: u.mfa,
			PowerShellEnabled: u.powerShell, DirectoryRoles: u.roles,
		}
		if u.mfa {
			user.TOTPSecret = demoTOTPSecret
		}
		if sqlite { // a hash this store understands: PutUser keeps it
			user.PasswordHash, password = hashes[i], ""
		}
		if err := s.PutUser(ctx, user, password); err != nil {
			return err
		}
	}
	return nil
}

// demoPasswordHashes are the seeded users' password hashes (the kept ones, seededHashes, or
// made once per process side by side: each is deliberately slow) shared by every store it
// seeds; the passwords are published in emulator.json anyway, and each hash has its own salt.
var demoPasswordHashes = sync.OnceValues(func() ([]string, error) {
	hashes := make([]string, len(demoUsers))
	errs := make([]error, len(demoUsers))
	var wg sync.WaitGroup
	for i, u := range demoUsers {
		wg.Go(func() { hashes[i], errs[i] = seededHash(u.password) })
	}
	wg.Wait()
	return hashes, errors.Join(errs...)
})

// CertificateFromDER describes a DER certificate for registration on an app: thumbprints and
// validity come from the certificate itself.
func CertificateFromDER(appID string, der []byte) (Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Certificate{}, fmt.Errorf("store: certificate for app %s: %w", appID, err)
	}
	sha1sum := sha1.Sum(der)
	sha256sum := sha256.Sum256(der)
	return Certificate{
		AppID:      appID,
		Thumbprint: strings.ToUpper(hex.EncodeToString(sha1sum[:])),
		SHA256:     strings.ToUpper(hex.EncodeToString(sha256sum[:])),
		DER:        der,
		NotBefore:  cert.NotBefore,
		NotAfter:   cert.NotAfter,
	}, nil
}

// aliasText keeps the characters an alias may hold.
func aliasText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		}
	}
	return strings.Trim(b.String(), ".")
}
