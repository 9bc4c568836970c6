package push

import (
	"context"
	"errors"
	"fmt"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
)

// settingsKey is the key of an account's settings document, beside its
// registrations (kind Kind, key ""): <settings groupchat='…'/>.
const settingsKey = "settings"

// GroupchatSetting returns account's own choice of which room messages
// push ("" when it has made none: the server's groupchat holds) and the
// choice in force.
func (m *Module) GroupchatSetting(ctx context.Context, account jid.JID) (own, effective string, err error) {
	own, err = m.groupchatOwn(ctx, account.Bare().String())
	if err != nil {
		return "", "", err
	}
	if own == "" {
		return "", m.cfg.Groupchat, nil
	}
	return own, own, nil
}

// SetGroupchatSetting records account's own choice of which room
// messages push: GroupchatMentions, GroupchatAll, GroupchatNone, or ""
// for the server's.
func (m *Module) SetGroupchatSetting(ctx context.Context, account jid.JID, mode string) error {
	switch mode {
	case "", GroupchatMentions, GroupchatAll, GroupchatNone:
	default:
		return fmt.Errorf("push: unknown groupchat setting %q", mode)
	}
	bare := account.Bare().String()
	defer m.locks.Lock(bare)()
	doc := xml.New(NS, "settings")
	if mode != "" {
		doc.SetAttr("groupchat", mode)
	}
	if err := m.store.PutDocuments(ctx, bare, Kind, []storage.Document{{Key: settingsKey, XML: doc.Bytes("")}}, 0); err != nil {
		return err
	}
	m.mu.Lock()
	m.groupchatModes[bare] = mode
	m.mu.Unlock()
	return nil
}

// groupchatMode is the choice in force for account (a bare JID).
func (m *Module) groupchatMode(ctx context.Context, account string) (string, error) {
	own, err := m.groupchatOwn(ctx, account)
	if own == "" || err != nil {
		return m.cfg.Groupchat, err
	}
	return own, nil
}

// groupchatOwn is account's own choice, from the cache or the store
// (read once, under the account's lock, as the registrations are).
func (m *Module) groupchatOwn(ctx context.Context, account string) (string, error) {
	m.mu.Lock()
	mode, ok := m.groupchatModes[account]
	m.mu.Unlock()
	if ok {
		return mode, nil
	}
	defer m.locks.Lock(account)()
	m.mu.Lock()
	mode, ok = m.groupchatModes[account]
	m.mu.Unlock()
	if ok {
		return mode, nil
	}
	b, err := m.store.Document(ctx, account, Kind, settingsKey)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return "", err
	default:
		els, err := xml.ParseElements(b, xml.Limits{})
		if err != nil || len(els) != 1 || !els[0].Is(NS, "settings") {
			return "", fmt.Errorf("push: stored settings of %s unreadable", account)
		}
		mode = els[0].Attr("groupchat")
	}
	m.mu.Lock()
	m.groupchatModes[account] = mode
	m.mu.Unlock()
	return mode, nil
}
