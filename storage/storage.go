package storage

import (
	"bytes"
	"context"
	"errors"
	"time"
)

// Errors every backend returns (possibly wrapped) for the same situations,
// so callers never depend on a backend's own error types.
var (
	ErrNotFound      = errors.New("storage: not found")
	ErrExists        = errors.New("storage: already exists")
	ErrQuotaExceeded = errors.New("storage: quota exceeded")
	ErrClosed        = errors.New("storage: closed")
)

// Store is the whole persistence layer of one server. Every backend
// (storage/sqlite, storage/postgres, storage/memory) implements all of it
// and passes the contract suite in storage/storagetest.
type Store interface {
	Users
	Rosters
	Offline
	Archive
	Blocking
	Documents
	PEP
	Rooms
	FastTokens
	// Name identifies the backend in logs ("sqlite", "postgres", "memory").
	Name() string
	Close() error
}

// Credential is one SCRAM credential (RFC 5802 §3): never a password or
// anything password-equivalent.
type Credential struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// Credentials holds a user's credentials for each supported hash.
type Credentials struct {
	SHA1   Credential
	SHA256 Credential
}

// Equal reports whether c and o are the same credentials (an empty and a
// nil byte slice are the same: backends may read either back).
func (c Credentials) Equal(o Credentials) bool {
	return c.SHA1.equal(o.SHA1) && c.SHA256.equal(o.SHA256)
}

func (c Credential) equal(o Credential) bool {
	return c.Iterations == o.Iterations && bytes.Equal(c.Salt, o.Salt) &&
		bytes.Equal(c.StoredKey, o.StoredKey) && bytes.Equal(c.ServerKey, o.ServerKey)
}

// Users stores accounts. Users are keyed by normalised bare JID string
// ("local@domain").
type Users interface {
	// CreateUser fails with ErrExists for an existing account.
	CreateUser(ctx context.Context, bare string, c Credentials) error
	// UserCredentials fails with ErrNotFound for an unknown account.
	UserCredentials(ctx context.Context, bare string) (Credentials, error)
	// SetUserCredentials replaces the account's credentials and, in the
	// same transaction, deletes its XEP-0484 tokens (FastTokens): a new
	// password revokes every client's fast login. ErrNotFound for an
	// unknown account.
	SetUserCredentials(ctx context.Context, bare string, c Credentials) error
	// ReplaceUserCredentials is SetUserCredentials done only if the
	// account's credentials are still old (Credentials.Equal), checked
	// and written atomically; replaced is false, and nothing changes,
	// when they are not (a password change came first). ErrNotFound for
	// an unknown account.
	ReplaceUserCredentials(ctx context.Context, bare string, old, c Credentials) (replaced bool, err error)
	UserExists(ctx context.Context, bare string) (bool, error)
	// DeleteUser removes the account and everything it owns: roster,
	// offline messages, archive, archive preferences, blocklist,
	// documents, PEP nodes and items, XEP-0484 tokens.
	// ErrNotFound if there is no such account.
	DeleteUser(ctx context.Context, bare string) error
	// ListUsers lists the bare JIDs of a domain ("" = all), sorted.
	ListUsers(ctx context.Context, domain string) ([]string, error)
	// CountUsers counts the accounts of a domain ("" = all) without
	// listing them.
	CountUsers(ctx context.Context, domain string) (int, error)

	// SetUserDisabled disables an account (disabled, with the operator's
	// reason, which may be empty) or re-enables it (the reason is
	// cleared). Disabling a disabled account replaces its reason and
	// time. Nothing the account owns changes but its XEP-0484 tokens
	// (FastTokens), deleted as a new password deletes them (an account
	// is often disabled because it was taken over; re-enabled, its
	// clients log in with the password again): a disabled account keeps
	// its roster, archive and the rest, and DeleteUser still removes
	// them. ErrNotFound for an unknown account.
	SetUserDisabled(ctx context.Context, bare string, disabled bool, reason string) error
	// UserStatus returns whether an account is disabled; ErrNotFound for
	// an unknown account.
	UserStatus(ctx context.Context, bare string) (AccountStatus, error)
	// DisabledUsers lists the disabled accounts of a domain ("" = all),
	// sorted by bare JID.
	DisabledUsers(ctx context.Context, domain string) ([]DisabledUser, error)
}

// AccountStatus is an account's standing with the server's operator: a
// disabled account exists, with all it owns, but cannot log in.
type AccountStatus struct {
	Disabled bool
	// Reason is the operator's note; it is for operators only and never
	// sent to a client.
	Reason string
	// Since is when the account was last disabled (microseconds, UTC);
	// zero for an enabled account.
	Since time.Time
}

// DisabledUser is one entry of Users.DisabledUsers.
type DisabledUser struct {
	Bare string
	AccountStatus
}

// Subscription states of RFC 6121 §2.1.2.5.
const (
	SubNone = "none"
	SubTo   = "to"
	SubFrom = "from"
	SubBoth = "both"
)

// RosterItem is one contact in a roster together with the subscription
// bookkeeping RFC 6121 requires the server to keep.
type RosterItem struct {
	JID          string // contact bare JID
	Name         string
	Subscription string // SubNone, SubTo, SubFrom, SubBoth
	AskOut       bool   // "pending out": we sent subscribe, no answer yet
	PendingIn    bool   // "pending in": contact asked to subscribe to us
	PreApproved  bool   // subscribed sent before a request arrived (RFC 6121 §3.4)
	// Hidden items carry only subscription state for contacts the user has
	// not added (a stored inbound request); roster gets skip them.
	Hidden bool
	Groups []string
}

// Rosters stores rosters with a per-user version counter (XEP-0237).
// A change the user can see (one a roster push announces) bumps the
// version; bookkeeping the user never sees (Hidden items, pending inbound
// requests) leaves it, so a client with a cached roster refetches only
// when it changed (RFC 6121 §2.6). Versions are decimal strings.
type Rosters interface {
	// Roster returns all items (Hidden ones included) and the version.
	Roster(ctx context.Context, owner string) ([]RosterItem, string, error)
	// RosterItem returns one item or ErrNotFound.
	RosterItem(ctx context.Context, owner, contact string) (RosterItem, error)
	// PutRosterItem inserts or replaces an item and returns the version,
	// bumped if visible.
	PutRosterItem(ctx context.Context, owner string, item RosterItem, visible bool) (string, error)
	// DeleteRosterItem removes an item (ErrNotFound if absent) and returns
	// the version, bumped if visible.
	DeleteRosterItem(ctx context.Context, owner, contact string, visible bool) (string, error)
}

// OfflineMessage is a stored message for a user who had no available
// resource.
type OfflineMessage struct {
	Seq      int64 // order of storage; per backend, increasing
	Stanza   []byte
	Archived bool // a copy is also in the owner's archive
	Stored   time.Time
}

// Offline stores messages for users who are offline (XEP-0160).
type Offline interface {
	// StoreOffline keeps a message unless the owner already has limit
	// messages waiting (ErrQuotaExceeded); limit <= 0 means no limit.
	StoreOffline(ctx context.Context, owner string, m OfflineMessage, limit int) error
	// OfflineMessages returns the waiting messages in storage order.
	OfflineMessages(ctx context.Context, owner string) ([]OfflineMessage, error)
	// DeleteOffline removes waiting messages with Seq <= upTo.
	DeleteOffline(ctx context.Context, owner string, upTo int64) error
}

// Blocking stores each account's blocklist (XEP-0191): a set of JIDs in
// the form the client gave them, normalised (RFC 7622), which may be full
// or bare JIDs, domains, or domain/resource. An account that never blocked
// anyone has an empty list.
type Blocking interface {
	// Blocklist returns the owner's blocked JIDs, sorted.
	Blocklist(ctx context.Context, owner string) ([]string, error)
	// Block adds JIDs to the owner's blocklist; blocking a JID that is
	// already blocked is not an error. It returns the JIDs that were not
	// blocked before, in the order given (duplicates once).
	Block(ctx context.Context, owner string, jids []string) ([]string, error)
	// Unblock removes JIDs from the owner's blocklist (those not on it are
	// ignored) and returns the ones that were removed, in the order given;
	// no JIDs removes them all, and all the removed ones are returned,
	// sorted.
	Unblock(ctx context.Context, owner string, jids []string) ([]string, error)
}
