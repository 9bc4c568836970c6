package offline

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/skald-xmpp/skald/internal/keylock"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// Namespaces and the disco feature.
const (
	NSDelay      = "urn:xmpp:delay"
	NSHints      = "urn:xmpp:hints"
	NSSID        = "urn:xmpp:sid:0"
	NSChatStates = "http://jabber.org/protocol/chatstates"
	Feature      = "msgoffline"
)

// Config configures offline storage.
type Config struct {
	// MaxMessages is how many messages may wait for one user.
	MaxMessages int `toml:"max_messages"`
}

// DefaultConfig keeps up to 1000 messages per user.
func DefaultConfig() Config { return Config{MaxMessages: 1000} }

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.MaxMessages < 1 {
		return errors.New("offline: max_messages must be at least 1")
	}
	return nil
}

// Module stores and delivers offline messages.
type Module struct {
	cfg   Config
	store storage.Offline
	log   *slog.Logger
	now   func() time.Time // tests replace it
	block Blocker          // nil: nothing is blocked
	// archive tells where the owner's archive starts now, so that a
	// message left to MAM is one MAM still has (nil: a store without
	// archives; then nothing is left to MAM).
	archive archiveStart

	// locks serialises the flushes of one account's spool, so two
	// resources becoming available at once do not both deliver it.
	locks keylock.Locks
}

// New returns the module storing into store. log may be nil.
func New(cfg Config, store storage.Offline, log *slog.Logger) *Module {
	if log == nil {
		log = slog.Default()
	}
	m := &Module{cfg: cfg, store: store, log: log, now: time.Now}
	m.archive, _ = store.(archiveStart)
	return m
}

// archiveStart is the part of storage.Archive that tells whether an
// archived copy is still there: archives only ever lose their oldest
// items (expiry, archive_max_items), so a copy stamped at or after the
// first item's stamp is still held.
type archiveStart interface {
	ArchiveBounds(ctx context.Context, owner string) (first, last storage.ArchivedMessage, ok bool, err error)
}

// leftToMAM reports which stored messages a session that catches up from
// MAM (Session.MAMQueried, XEP-0386 Bind 2) need not be sent: those
// whose archived copy the archive still holds. A message is stored
// offline just after its copy is archived (under the recipient's stripe
// lock, so no other item of the recipient's comes between but, rarely,
// one of the owner's own outgoing ones), so its Stored time is at or
// after the copy's stamp: one stored before the archive's first item
// lost its copy to expiry or archive_max_items and is sent. A store that
// keeps Stored coarser than the stamps errs towards sending (a duplicate
// the client recognises by its stanza-id, not a loss).
func (m *Module) leftToMAM(ctx context.Context, bare string) func(storage.OfflineMessage) bool {
	if m.archive == nil {
		return func(storage.OfflineMessage) bool { return false }
	}
	first, _, ok, err := m.archive.ArchiveBounds(ctx, bare)
	if err != nil || !ok {
		// Unknown, or the archive is empty: send everything.
		return func(storage.OfflineMessage) bool { return false }
	}
	return func(om storage.OfflineMessage) bool { return om.Archived && !om.Stored.Before(first.Stamp) }
}

// Blocker tells whether an account blocks a JID (XEP-0191; the blocking
// module implements it, an interface so that offline does not import it).
type Blocker interface {
	Blocks(ctx context.Context, owner string, peer jid.JID) (bool, error)
}

// SetBlocker installs the blocklists delivery honours: a message stored
// before its sender was blocked is not delivered (XEP-0191 §3.3: once
// blocked, no stanza from the contact reaches the user); it is discarded.
// It must be called before serving.
func (m *Module) SetBlocker(b Blocker) { m.block = b }

// blocked reports whether owner blocks the sender of st. An error (the
// blocklist could not be read) stops delivery: the message stays stored
// rather than reach a user who may have blocked its sender.
func (m *Module) blocked(ctx context.Context, owner string, st *xml.Element) (bool, error) {
	if m.block == nil {
		return false, nil
	}
	from, err := jid.Parse(st.Attr("from"))
	if err != nil {
		return false, nil
	}
	b, err := m.block.Blocks(ctx, owner, from)
	if err != nil {
		m.log.Error("offline: blocklist unavailable", "user", owner, "err", err)
	}
	return b, err
}

// Name implements router.Module.
func (*Module) Name() string { return "offline" }

// DiscoFeatures implements router.FeatureProvider.
func (*Module) DiscoFeatures() (server, account []string) {
	return []string{Feature}, nil
}

// StoreOffline implements router.OfflineStorer.
func (m *Module) StoreOffline(ctx context.Context, ev *router.MessageEvent) (bool, error) {
	if !storable(ev.Stanza) {
		return false, nil
	}
	now := m.now().UTC()
	c := ev.Stanza.Clone()
	c.Append(xml.New(NSDelay, "delay", "from", ev.To.Domain(), "stamp", now.Format("2006-01-02T15:04:05Z")).
		AppendText("Offline Storage"))
	err := m.store.StoreOffline(ctx, ev.To.Bare().String(), storage.OfflineMessage{
		Stanza:   c.Bytes(stanza.NSClient),
		Archived: ev.Archived,
		Stored:   now,
	}, m.cfg.MaxMessages)
	if errors.Is(err, storage.ErrQuotaExceeded) {
		return false, nil
	}
	return err == nil, err
}

// storable applies XEP-0160 §3 and XEP-0334.
func storable(msg *xml.Element) bool {
	switch msg.Attr("type") {
	case "", "normal", "chat":
	default:
		return false
	}
	if msg.Child(NSHints, "no-store") != nil {
		return false
	}
	if msg.Child(NSHints, "store") != nil {
		return true
	}
	for _, c := range msg.Elements() {
		switch {
		case c.Space == NSChatStates, c.Space == NSHints, c.Space == NSSID, c.Is(msg.Space, "thread"):
		default:
			return true
		}
	}
	return false
}

// SessionAvailable implements router.AvailabilityObserver.
func (m *Module) SessionAvailable(ctx context.Context, s *router.Session) {
	m.deliver(ctx, s)
}

// SessionPriorityRaised implements router.PriorityRaisedObserver: a
// session that came online with a negative priority gets the messages
// once it raises its priority to non-negative.
func (m *Module) SessionPriorityRaised(ctx context.Context, s *router.Session) {
	m.deliver(ctx, s)
}

// deliver sends s the waiting messages if its priority lets it take
// messages to the bare JID, and deletes them.
func (m *Module) deliver(ctx context.Context, s *router.Session) {
	if s.Priority() < 0 {
		return
	}
	bare := s.Bare()
	defer m.locks.Lock(bare)()
	msgs, err := m.store.OfflineMessages(ctx, bare)
	if err != nil {
		m.log.Error("offline messages not loaded", "user", bare, "err", err)
		return
	}
	inMAM := func(storage.OfflineMessage) bool { return false }
	if s.MAMQueried() {
		inMAM = m.leftToMAM(ctx, bare)
	}
	var done int64
	handled := false
	for _, om := range msgs {
		if !inMAM(om) {
			st, err := decode(om.Stanza)
			if err != nil {
				// A stored stanza we cannot read would block the queue
				// forever; log it and let it go.
				m.log.Error("offline message unreadable, dropped", "user", bare, "seq", om.Seq, "err", err)
			} else if b, err := m.blocked(ctx, bare, st); err != nil {
				break // keep it and the rest for the next login
			} else if b {
				// Discarded with the delivered ones.
			} else if err := s.Send(st); err != nil {
				break // the session is going away; keep the rest
			}
		}
		done, handled = om.Seq, true
	}
	if !handled {
		return
	}
	if err := m.store.DeleteOffline(ctx, bare, done); err != nil {
		m.log.Error("offline messages not deleted", "user", bare, "err", err)
	}
}

// decode parses a stored stanza (serialised in a jabber:client stream).
func decode(b []byte) (*xml.Element, error) {
	src := io.MultiReader(strings.NewReader("<s xmlns='jabber:client'>"), bytes.NewReader(b), strings.NewReader("</s>"))
	rd := xml.NewReader(src, xml.Limits{MaxStanzaBytes: int64(len(b)) + 64}, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		return nil, err
	}
	return rd.Next()
}
