package mam

import (
	"context"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
)

// StillArchived reports, for each of owner's stanzas (messages as they
// were delivered or stored offline, carrying owner's <stanza-id/>),
// whether owner's archive still holds it: a client catching up from MAM
// (the offline module's MAMQueried rule, XEP-0386 Bind 2) finds only
// those there. Archives lose items to expiry, archive_max_items and
// purges; a stanza without a stanza-id of owner's is reported not held.
// It implements offline.ArchiveChecker.
func (m *Module) StillArchived(ctx context.Context, owner string, stanzas []*xml.Element) ([]bool, error) {
	held := make([]bool, len(stanzas))
	bare, err := jid.Parse(owner)
	if err != nil {
		return held, err
	}
	by := bare.Bare().String()
	var ids []int64
	idx := make([]int64, len(stanzas)) // 0: no id of ours
	for i, st := range stanzas {
		for _, c := range st.Elements() {
			if !c.Is(NSSID, "stanza-id") || c.Attr("by") != by {
				continue
			}
			if n, ok := m.ids.decode(c.Attr("id")); ok {
				idx[i] = n
				ids = append(ids, n)
			}
			break
		}
	}
	if len(ids) == 0 {
		return held, nil
	}
	exist, err := m.store.ArchiveIDsExist(ctx, by, ids)
	if err != nil {
		return held, err
	}
	for i, n := range idx {
		held[i] = n != 0 && exist[n]
	}
	return held, nil
}
