package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned (wrapped) when a lookup matches nothing.
var ErrNotFound = errors.New("not found")

// ErrAmbiguous is returned (wrapped) when an identity matches more than one object.
var ErrAmbiguous = errors.New("matches more than one object")

// Directory role template ids that decide Exchange RBAC.
const (
	RoleExchangeAdministrator = "29232cdf-9323-42fd-ade2-1d097af3e4de"
	RoleGlobalAdministrator   = "62e90394-69f5-4237-9190-012177145e10"
	RoleGlobalReader          = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
)

// AppRoleManageAsApp is the Office 365 Exchange Online application permission that app-only
// sign-in needs.
const AppRoleManageAsApp = "Exchange.ManageAsApp"

// Tenant is one Microsoft Entra tenant with its Exchange Online organization.
type Tenant struct {
	ID          string // GUID, lower case
	Name        string // initial domain, e.g. contoso.onmicrosoft.com
	DisplayName string // organization name, e.g. Contoso
	CreatedAt   time.Time
}

// App is an application registration (and its service principal) in a tenant.
type App struct {
	TenantID       string
	AppID          string // client id, GUID
	ObjectID       string // service principal object id, GUID
	DisplayName    string
	AppRoles       []string // application permissions granted on Exchange, e.g. Exchange.ManageAsApp
	DirectoryRoles []string // directory role template ids assigned to the service principal
	Public         bool     // a public client (no credentials), like the module's own app
	RedirectURIs   []string
}

// Certificate is a public certificate registered on an app for client assertions.
type Certificate struct {
	AppID      string
	Thumbprint string // SHA-1 of DER, upper-case hex
	SHA256     string // SHA-256 of DER, upper-case hex
	DER        []byte
	NotBefore  time.Time
	NotAfter   time.Time
}

// User is a directory user who can sign in.
type User struct {
	TenantID          string
	ObjectID          string // GUID
	UPN               string
	DisplayName       string
	PasswordHash      string // opaque to callers: use Store.CheckPassword
	Enabled           bool
	MFARequired       bool
	TOTPSecret        string // base32, empty when the user has no authenticator registered
	PowerShellEnabled bool   // RemotePowerShellEnabled on the user's Exchange object
	DirectoryRoles    []string
}

// AcceptedDomain is an Exchange accepted domain.
type AcceptedDomain struct {
	TenantID    string
	GUID        string
	Name        string
	DomainName  string
	DomainType  string // Authoritative, InternalRelay, ExternalRelay
	Default     bool
	Initial     bool // the tenant's *.onmicrosoft.com domain
	WhenCreated time.Time
	WhenChanged time.Time
}

// Recipient is a row of the recipient table of earlier versions: a mailbox, mail user, contact
// or group, core properties as columns and the rest in Extra by PowerShell property name. The
// exchange package imports these as Objects; new recipients are Objects from the start.
type Recipient struct {
	TenantID                  string
	GUID                      string // Guid; also ExchangeObjectId
	ExternalDirectoryObjectID string // Entra object id, GUID
	Name                      string
	Alias                     string
	DisplayName               string
	FirstName                 string
	LastName                  string
	UserPrincipalName         string
	PrimarySMTPAddress        string
	EmailAddresses            []string // "SMTP:primary@x", "smtp:alias@y", ...
	RecipientType             string   // UserMailbox, MailUser, MailContact, MailUniversalDistributionGroup, ...
	RecipientTypeDetails      string   // UserMailbox, SharedMailbox, RoomMailbox, EquipmentMailbox, ...
	Database                  string
	ProhibitSendQuotaBytes    int64
	ProhibitSendReceiveBytes  int64
	IssueWarningQuotaBytes    int64
	HiddenFromAddressLists    bool
	WhenCreated               time.Time
	WhenChanged               time.Time
	Extra                     map[string]any
}

// RecipientQuery selects recipients page by page, in a stable order (by Name, then GUID).
type RecipientQuery struct {
	TenantID string
	// Types keeps only these RecipientTypeDetails values (any case); empty means all.
	Types []string
	// After is the opaque cursor of the last recipient of the previous page; empty starts at
	// the beginning.
	After string
	// Limit is the page size; 0 means no limit.
	Limit int
}

// Store is the emulator's state. Implementations are safe for concurrent use. Lookups that match
// nothing return an error wrapping ErrNotFound.
type Store interface {
	// ObjectStore holds the tenants' Exchange objects (objects.go).
	ObjectStore

	// Tenant finds a tenant by GUID, initial domain or any accepted domain (any case).
	Tenant(ctx context.Context, nameOrID string) (Tenant, error)
	Tenants(ctx context.Context) ([]Tenant, error)
	PutTenant(ctx context.Context, t Tenant) error

	App(ctx context.Context, tenantID, appID string) (App, error)
	// AppAnyTenant finds an app registration by client id in any tenant (multi-tenant apps,
	// the module's public client).
	AppAnyTenant(ctx context.Context, appID string) (App, error)
	PutApp(ctx context.Context, a App) error
	Certificates(ctx context.Context, appID string) ([]Certificate, error)
	PutCertificate(ctx context.Context, c Certificate) error

	User(ctx context.Context, tenantID, upnOrObjectID string) (User, error)
	PutUser(ctx context.Context, u User, password string) error
	// CheckPassword reports whether password is the user's password.
	CheckPassword(ctx context.Context, tenantID, upn, password string) (bool, error)

	// UseAssertionID records a client assertion's jti until exp and reports whether it was
	// unused; a replayed jti gives false.
	UseAssertionID(ctx context.Context, jti string, exp time.Time) (bool, error)

	AcceptedDomains(ctx context.Context, tenantID string) ([]AcceptedDomain, error)
	PutAcceptedDomain(ctx context.Context, d AcceptedDomain) error

	// Recipients, CountRecipients and PutRecipients are the recipient table of earlier
	// versions, kept as a source the exchange package imports as objects (data folders of
	// those versions, the msp seed's customers); Exchange objects live in ObjectStore.
	// Recipients returns one page and the cursor for the next (empty when none follow).
	Recipients(ctx context.Context, q RecipientQuery) (page []Recipient, next string, err error)
	CountRecipients(ctx context.Context, tenantID string) (int, error)
	// PutRecipients writes many recipients in one transaction.
	PutRecipients(ctx context.Context, rs []Recipient) error

	Close() error
}
