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
	// archive tells which stored messages the owner's archive still
	// holds (nil: none is left to MAM).
	archive ArchiveChecker

	// locks serialises the flushes of one account's spool, so two
	// resources becoming available at once do not both deliver it.
	locks keylock.Locks
}

// New returns the module storing into store. log may be nil.
func New(cfg Config, store storage.Offline, log *slog.Logger) *Module {
	if log == nil {
		log = slog.Default()
	}
	return &Module{cfg: cfg, store: store, log: log, now: time.Now}
}

// ArchiveChecker tells which of an account's stored messages its archive
// still holds (the mam module implements it; an interface so that
// offline does not import it). Archives lose items to expiry,
// archive_max_items and purges, so that a message was archived when it
// was stored does not mean MAM still has it.
type ArchiveChecker interface {
	StillArchived(ctx context.Context, owner string, stanzas []*xml.Element) ([]bool, error)
}

// SetArchiveChecker installs the archive the MAMQueried rule asks (see
// deliver). It must be called before serving; without one, every
// message is sent.
func (m *Module) SetArchiveChecker(a ArchiveChecker) { m.archive = a }

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
// messages to the bare JID, and deletes them. One exception: a session
// catching up from MAM (see leftToMAM) is not sent those MAM has.
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
	stanzas := make([]*xml.Element, len(msgs))
	for i, om := range msgs {
		st, err := decode(om.Stanza)
		if err != nil {
			// A stored stanza we cannot read would block the queue
			// forever; log it and let it go.
			m.log.Error("offline message unreadable, dropped", "user", bare, "seq", om.Seq, "err", err)
			continue
		}
		stanzas[i] = st
	}
	inMAM := m.leftToMAM(ctx, s, bare, msgs, stanzas)
	var done int64
	handled := false
	for i, om := range msgs {
		if st := stanzas[i]; st != nil && !inMAM[i] {
			if b, err := m.blocked(ctx, bare, st); err != nil {
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

// leftToMAM reports which of the stored messages s need not be sent: if
// s catches up from MAM (Session.MAMQueried: it queried its archive up
// to the newest item of every conversation before its initial presence,
// as Prosody assumes, or bound with
// XEP-0386 Bind 2, which has offline messages cleared "as they will be
// provided by MAM"), those archived when stored that the archive still
// holds, if they were stored before the client's first archive query
// (or its Bind 2): one stored after it, as the session waited for its
// initial presence, is in no answer a client paging back from the end
// got (Session.MAMQueriedAt); sending it costs at most a duplicate the
// client recognises by its stanza-id. One whose copy the archive has lost since (expiry,
// archive_max_items, a purge) is sent; so is every one when the archive
// cannot be asked (a duplicate the client recognises by its stanza-id is
// better than a loss).
func (m *Module) leftToMAM(ctx context.Context, s *router.Session, bare string, msgs []storage.OfflineMessage, stanzas []*xml.Element) []bool {
	left := make([]bool, len(msgs))
	queried := s.MAMQueriedAt()
	if m.archive == nil || queried.IsZero() {
		return left
	}
	// Stored times are kept to the microsecond, rounded down: one before
	// the query's microsecond was stored, and so archived, before the
	// query read the archive.
	queried = queried.Truncate(time.Microsecond)
	var ask []*xml.Element
	var at []int
	for i, om := range msgs {
		if om.Archived && stanzas[i] != nil && om.Stored.Before(queried) {
			ask = append(ask, stanzas[i])
			at = append(at, i)
		}
	}
	if len(ask) == 0 {
		return left
	}
	held, err := m.archive.StillArchived(ctx, bare, ask)
	if err != nil {
		m.log.Warn("offline: archive not asked, sending every message", "user", bare, "err", err)
		return left
	}
	for j, i := range at {
		left[i] = held[j]
	}
	return left
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
