package muc

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
)

// RoomStore keeps persistent rooms across restarts.
type RoomStore = storage.Rooms

// storedRoom is what a persistent room keeps besides its affiliations:
// the configuration and the subject. JSON, so that fields added later
// read back from older rows as their zero values.
type storedRoom struct {
	Config    roomConfig
	Subject   string `json:",omitempty"`
	SubjectBy string `json:",omitempty"`
	SubjectID string `json:",omitempty"` // the setter's occupant id (XEP-0421)
	Creator   string `json:",omitempty"` // bare JID, for max_rooms_per_account
	// Nicks are the reserved nicks (§7.10), by bare JID; only those of
	// members and up are read back (storage.Rooms' DeleteUser removes
	// affiliations, not this blob).
	Nicks map[string]string `json:",omitempty"`
	// VCard is the room's vCard (XEP-0486 avatar), serialised.
	VCard string `json:",omitempty"`
}

// Load reads the persistent rooms of this service's domains from the
// store; internal/server calls it once, before serving.
func (m *Module) Load(ctx context.Context) error {
	rooms, err := m.store.Rooms(ctx)
	if err != nil {
		return fmt.Errorf("muc: loading rooms: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, sr := range rooms {
		j, err := jid.Parse(sr.JID)
		if err != nil || !slices.Contains(m.domains, j.Domain()) {
			continue // another service's, or the domain is no longer hosted
		}
		var st storedRoom
		if err := json.Unmarshal(sr.Config, &st); err != nil {
			m.log.Error("muc: unreadable room configuration, room skipped", "room", sr.JID, "err", err)
			continue
		}
		rm := newRoom(j, st.Config)
		rm.subject, rm.subjectBy, rm.subjectID, rm.stored = st.Subject, st.SubjectBy, st.SubjectID, true
		if c, err := jid.Parse(st.Creator); err == nil && st.Creator != "" {
			rm.creator = c.Bare()
		}
		for a, aff := range sr.Affiliations {
			if b, err := jid.Parse(a); err == nil {
				rm.setAffiliation(b.Bare(), aff)
			}
		}
		rm.loadNicks(st.Nicks)
		m.loadVCard(rm, st.VCard)
		m.loadHistory(ctx, rm)
		m.rooms[j.String()] = rm
	}
	return nil
}

// loadHistory gives a room read back from the store the discussion
// history it had, from its archive. A failure is logged: the room starts
// without history, and its archive stays readable.
func (m *Module) loadHistory(ctx context.Context, rm *room) {
	if m.archive == nil || m.cfg.HistoryMessages == 0 {
		return
	}
	msgs, err := m.archive.RoomHistory(ctx, rm.jid, m.cfg.HistoryMessages)
	if err != nil {
		m.log.Error("muc: reading room history failed", "room", rm.jid.String(), "err", err)
		return
	}
	for _, msg := range msgs {
		st := msg.Stanza
		st.Append(xml.New(nsSID, "stanza-id", "by", rm.jid.String(), "id", msg.ID))
		rm.addHistory(historyItem{msg: st, stamp: msg.Stamp, size: len(st.String())}, m.cfg.HistoryMessages)
	}
}

// persistLocked saves a persistent, configured room, or forgets a stored
// room that is no longer persistent. A failure is logged: the room goes
// on in memory, and the next change tries again.
func (m *Module) persistLocked(rm *room) {
	ctx := context.Background()
	if !rm.cfg.Persistent || rm.locked {
		if rm.stored {
			if err := m.store.DeleteRoom(ctx, rm.jid.String()); err != nil {
				m.log.Error("muc: forgetting room failed", "room", rm.jid.String(), "err", err)
				return
			}
			rm.stored = false
		}
		return
	}
	b, err := json.Marshal(storedRoom{Config: rm.cfg, Subject: rm.subject, SubjectBy: rm.subjectBy, SubjectID: rm.subjectID, Creator: creatorString(rm.creator), Nicks: rm.nicks, VCard: storedVCard(rm)})
	if err == nil {
		err = m.store.PutRoom(ctx, storage.Room{JID: rm.jid.String(), Config: b, Affiliations: rm.affs})
	}
	if err != nil {
		m.log.Error("muc: saving room failed", "room", rm.jid.String(), "err", err)
		return
	}
	rm.stored = true
}

func creatorString(c jid.JID) string {
	if c.IsZero() {
		return ""
	}
	return c.String()
}
