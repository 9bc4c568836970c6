package mam

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
)

// Module archives users' messages and serves their archives.
type Module struct {
	set     settings
	store   storage.Archive
	once    onceAppender // store, if it checks for resends itself; else nil
	rosters storage.Rosters
	ids     *idCodec
	log     *slog.Logger

	now      func() time.Time // UTC clock; replaced in tests
	msgIDPre string           // random per-process prefix of result message ids
	msgSeq   atomic.Uint64
	sepNonce string // random per-process marker of decodePage's separators

	// counts holds the item count of archives recently appended to, so
	// archive_max_items is enforced without counting on every append. It
	// may overestimate (deletions elsewhere), which only costs a no-op
	// trim; it is cleared when it grows too large or after expiry.
	cmu    sync.Mutex
	counts map[string]int

	prefs prefsCache

	counters counters // metrics.go
}

// maxCounted bounds the counts cache (entries, ~100 bytes each).
const maxCounted = 100000

// New returns the module. secret keys the mapping of internal item ids to
// the opaque archive ids clients see: it must be at least MinSecretLen
// random bytes, persisted by the caller and never changed, since archive
// ids clients hold (sync cursors, stanza-ids) stay valid only under the
// same secret.
func New(cfg Config, store storage.Archive, rosters storage.Rosters, secret []byte, log *slog.Logger) (*Module, error) {
	set, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	if store == nil || rosters == nil {
		return nil, errors.New("mam: archive store and rosters are required")
	}
	codec, err := newIDCodec(secret)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	var pre, nonce [6]byte
	if _, err := rand.Read(pre[:]); err != nil {
		return nil, err
	}
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	once, _ := store.(onceAppender)
	return &Module{
		set:      set,
		store:    store,
		once:     once,
		rosters:  rosters,
		ids:      codec,
		log:      log,
		now:      func() time.Time { return time.Now().UTC() },
		msgIDPre: base64.RawURLEncoding.EncodeToString(pre[:]) + "-",
		sepNonce: base64.RawURLEncoding.EncodeToString(nonce[:]) + "-",
		counts:   make(map[string]int),
	}, nil
}

// Name implements router.Module.
func (m *Module) Name() string { return "mam" }

// DiscoFeatures implements router.FeatureProvider. The archive lives on
// each account's bare JID (XEP-0313 "User archives"), where the features are
// required; they are listed on the server domain too because some
// clients look only there (and queries sent to the domain are answered
// from the requester's own archive, see RegisterIQ). urn:xmpp:sid:0 lets
// clients trust stanza-ids whose 'by' is the account (XEP-0359).
// urn:xmpp:fulltext:0 is XEP-0431's "Discovering Support".
// urn:xmpp:message-retract:1 and its #tombstone: retractions are archived
// and turn the retracted item into a tombstone (XEP-0424 "Discovering
// support", "Tombstones"; retract.go).
func (m *Module) DiscoFeatures() (server, account []string) {
	f := []string{NS, NSExtended, NSGroupchatField, NSSID, NSFulltext, NSRetract, NSRetractTombstone}
	return f, append([]string(nil), f...)
}

// RegisterIQ implements router.IQRegistrar.
//
// The user's archive is served on the user's bare JID. An iq addressed to
// the server domain is answered from the requester's own archive too,
// with results sent from the domain: XEP-0313 "Querying an archive" addresses queries to "the
// account or server entity hosting the archive", and since the domain
// advertises the feature, a client that discovered it there may ask
// there. Another user's archive is forbidden (XEP-0313 "Data privacy").
func (m *Module) RegisterIQ(r *router.Router) {
	targets := router.ToAccount | router.ToServer
	r.HandleIQ("get", NS, "query", targets, router.IQHandlerFunc(m.handleForm))
	r.HandleIQ("set", NS, "query", targets, router.IQHandlerFunc(m.countedQuery))
	r.HandleIQ("get", NS, "metadata", targets, router.IQHandlerFunc(m.handleMetadata))
	r.HandleIQ("get", NS, "prefs", targets, router.IQHandlerFunc(m.handlePrefsGet))
	r.HandleIQ("set", NS, "prefs", targets, router.IQHandlerFunc(m.handlePrefsSet))
}

// ArchiveID returns the archive id clients see for an internal item id.
func (m *Module) ArchiveID(id int64) string { return m.ids.encode(id) }

// ItemID returns the internal item id of an archive id; ok is false for
// any string that is not an archive id of this server.
func (m *Module) ItemID(archiveID string) (id int64, ok bool) { return m.ids.decode(archiveID) }

// nextMsgID returns a unique id for a result message.
func (m *Module) nextMsgID() string {
	return m.msgIDPre + strconv.FormatUint(m.msgSeq.Add(1), 36)
}
