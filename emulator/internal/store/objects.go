package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"
)

// ErrAlreadyExists is returned (wrapped, in a *KeyConflictError) when a Create or Update would
// give an object a unique key that another object of the tenant holds.
var ErrAlreadyExists = errors.New("already exists")

// ErrDatabase is wrapped by every error that comes from the database itself rather than from
// the request (I/O, corruption, a failed statement). Its text is for logs: an HTTP answer says
// only that the service failed.
var ErrDatabase = errors.New("database error")

// ErrInvalid is returned (wrapped) for an object or query the store cannot take: an empty
// Type, a malformed GUID, a reference to an object of another tenant, a changed ID or Type in
// an Update.
var ErrInvalid = errors.New("invalid request")

// Object is one Exchange object of a tenant: a recipient, an accepted domain, a transport
// rule, a permission, a policy. The store keeps its properties as JSON and indexes only what
// Keys and Refs declare; the schema that gives Props their meaning belongs to the caller.
type Object struct {
	TenantID string // the tenant's GUID
	// Type is the storage class, e.g. "Recipient", "AcceptedDomain", "TransportRule",
	// "Permission", "Policy:HostedContentFilterPolicy". Matched exactly (case-sensitive).
	Type string
	// ID is the object's GUID (Exchange's Guid / ExchangeObjectId); Create makes one when
	// empty. Always stored and returned in canonical lower-case form.
	ID string
	// Name orders List and is what a conflict error names; unique only through a Key.
	Name string
	// Props are the object's properties by PowerShell property name. They round-trip as JSON:
	// after a write they read back as nil, bool, string, int64 (integral numbers), float64,
	// []any and map[string]any.
	Props map[string]any
	// RawProps is the properties' JSON text as stored, set instead of Props by ListEach (a
	// caller that prints objects reads them without building a map); DecodeProps turns it
	// into Props. Writes ignore it.
	RawProps string
	// Keys are the values the object is found by (Resolve), each unique within the tenant and
	// its Space, compared case-insensitively. The caller derives them from Props; the store
	// enforces their uniqueness in the database.
	Keys []Key
	// Refs point at other objects of the same tenant; the database refuses a Ref to an object
	// that does not exist, and Delete follows them (see Ref.Cascade).
	Refs []Ref
	// Version is 1 after Create and grows by one with each Update (and with a reference
	// removed by a Delete of the object it named).
	Version     int64
	WhenCreated time.Time // set by Create when zero
	WhenChanged time.Time // set by Create when zero, and to the time of each Update
}

// Key is one unique identity value of an object. Spaces are tenant-wide and shared across
// Types: objects of two Types that must not share a value use one Space (all recipients'
// proxy addresses), objects whose values may repeat across Types use Spaces of their own
// ("Recipient.Name", "TransportRule.Name").
type Key struct {
	Space string // e.g. SpaceProxy, "Recipient.Name"
	Value string // compared after strings.ToLower; stored as given
}

// Ref is a reference from an object to another object of its tenant.
type Ref struct {
	// Name says what the reference is, e.g. "Mailbox", "Trustee", "Member"; one object may
	// refer to another under several names.
	Name string
	ID   string // the referenced object's ID
	// Cascade deletes the referring object with the referenced one (a permission goes with
	// its mailbox). Without it only the reference goes (a group loses a deleted member).
	Cascade bool
}

// Well-known key spaces. SpaceID is not a stored key: in Resolve it matches an object's ID.
const (
	SpaceID = "@ID"
	// SpaceProxy holds recipients' proxy addresses as ProxyKey writes them.
	SpaceProxy = "Proxy"
)

// ProxyKey is the Key of a proxy address: SMTP addresses without their "smtp:" prefix (so
// "SMTP:Alice@contoso.com", "smtp:alice@contoso.com" and "alice@contoso.com" are one key),
// other proxy types ("X500:...", "SIP:...") whole. Resolve with ProxyKey(identity).Value
// finds a recipient by any of its addresses.
func ProxyKey(address string) Key {
	return Key{Space: SpaceProxy, Value: addressKey(address)}
}

// Fields of an Object that are not in Props, as ListQuery.OrderBy and Filter.SQL name them.
const (
	FieldName        = "@Name"
	FieldID          = "@ID"
	FieldType        = "@Type"
	FieldWhenCreated = "@WhenCreated"
	FieldWhenChanged = "@WhenChanged"
)

// ListQuery selects a page of a tenant's objects.
type ListQuery struct {
	TenantID string
	// Types keeps objects of these Types; empty means all. Any length: the store never
	// turns a list into one SQL variable per element.
	Types []string
	// In keeps objects whose string property Prop equals one of Values, case-insensitively
	// (RecipientTypeDetails, RecipientType). Every entry must hold. Any length.
	In []PropIn
	// RefersTo keeps objects with a Ref to the object ID (under Name, when not empty): the
	// permissions on a mailbox, the groups a recipient is a member of.
	RefersTo *RefQuery
	// Filter keeps objects it matches; see Filter.
	Filter *Filter
	// OrderBy is FieldName (the default), FieldWhenCreated, FieldWhenChanged, FieldID or a
	// Props name; ties are broken by ID. Names compare case-insensitively; a property
	// compares by its JSON value (numbers before strings, absent first).
	OrderBy string
	Desc    bool
	// After is the cursor of the previous page; empty starts at the beginning. A cursor holds
	// the last object's sort values, so objects added or removed meanwhile shift no page.
	After string
	// Limit is the page size; 0 means all.
	Limit int
}

// PropIn is one ListQuery.In condition.
type PropIn struct {
	Prop   string
	Values []string
}

// RefQuery is ListQuery.RefersTo.
type RefQuery struct {
	Name string // empty means any
	ID   string
}

// Filter is a condition on objects. Match is its meaning; SQL, when set and able, is the
// same condition for the database, so that a page of a large tenant need not read every
// object. A back end without SQL uses Match alone.
type Filter struct {
	Match func(o *Object) (bool, error)
	// SQL renders the condition as an SQL boolean expression with ? placeholders. column
	// gives the SQL expression of a Field* or a Props name (a JSON value as json_extract
	// gives it: arrays and objects as JSON text, usable with json_each); ok false means the
	// condition cannot be pushed down, and List calls Match on each object instead.
	SQL func(column func(prop string) (expr string, ok bool)) (where string, args []any, ok bool)
}

// ObjectStore is the generic object contract; Store embeds it.
type ObjectStore interface {
	Objects
	// Tx runs fn with an Objects whose operations form one transaction, committed when fn
	// returns nil and rolled back otherwise. Inside fn use only tx: the store's own methods
	// may wait for the transaction to end. fn may run again if the database asks for a retry,
	// so it must not have effects outside tx.
	Tx(ctx context.Context, fn func(tx Objects) error) error
	// CreateMany creates objects in one transaction, all or none: the bulk path (seeding).
	CreateMany(ctx context.Context, objs iter.Seq[Object]) error
}

// Objects are the operations on a tenant's objects, alone or inside a Tx.
type Objects interface {
	// Create stores a new object and returns it as stored (ID, Version, times filled in). A
	// Key another object holds gives a *KeyConflictError (wrapping ErrAlreadyExists); an ID
	// that exists gives one with Key {SpaceID, id}. A Ref to a missing object wraps
	// ErrNotFound.
	Create(ctx context.Context, o Object) (Object, error)
	// Get finds an object by ID; none wraps ErrNotFound.
	Get(ctx context.Context, tenantID, id string) (Object, error)
	// Resolve finds the objects of Types (empty: all) that hold value in one of spaces
	// (SpaceID matches the ID), case-insensitively: every match, in Name order, so that the
	// caller can tell one from none from ambiguous.
	Resolve(ctx context.Context, tenantID string, types, spaces []string, value string) ([]Object, error)
	// List returns one page and the cursor of the next (empty when no more follow).
	List(ctx context.Context, q ListQuery) (page []Object, next string, err error)
	// ListEach hands out the page List would return without holding it in memory: it calls
	// start once, before any object, with the next cursor List would return (an answer can
	// name the next page before the objects), then fn with each object, in order. The
	// objects have RawProps instead of Props, and neither Keys nor Refs (printing an object
	// needs none); each is valid only during its call. Filter.Match still sees whole objects.
	// The store reads the page in batches, each from the previous one's cursor up to the
	// page's last object (objects written meanwhile within the page are seen or not, as
	// between pages; none beyond it), and calls fn between them: outside a Tx never while it
	// holds a database connection for the listing, so fn may block (writing to a slow client)
	// or use the store without holding up other requests. An error from start or fn ends the
	// listing and is returned as is.
	ListEach(ctx context.Context, q ListQuery, start func(next string) error, fn func(o *Object) error) error
	// Count counts what q selects, ignoring After and Limit.
	Count(ctx context.Context, q ListQuery) (int, error)
	// Update reads the object, calls fn on it and writes what fn left, all in one
	// transaction: concurrent Updates of one object each see the other's change. fn may
	// change Name, Props, Keys and Refs; changing TenantID, Type or ID wraps ErrInvalid. An
	// error from fn is returned as is, and nothing is written.
	Update(ctx context.Context, tenantID, id string, fn func(o *Object) error) (Object, error)
	// Delete removes an object, the objects whose Refs to it Cascade (recursively), and the
	// other Refs to it (their objects' Versions grow). None wraps ErrNotFound.
	Delete(ctx context.Context, tenantID, id string) error
}

// KeyConflictError is a unique key already held by another object.
type KeyConflictError struct {
	Key Key
	// The object that holds the key.
	ID, Type, Name string
}

func (e *KeyConflictError) Error() string {
	return fmt.Sprintf("store: %s %q is already used by %s %q (%s)", e.Key.Space, e.Key.Value, e.Type, e.Name, e.ID)
}

// Unwrap makes errors.Is(err, ErrAlreadyExists) hold.
func (e *KeyConflictError) Unwrap() error { return ErrAlreadyExists }

// keyLC is how a Key is compared.
func keyLC(v string) string { return strings.ToLower(v) }
