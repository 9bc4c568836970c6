package muc

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// Room avatars (XEP-0486): an owner sets a vcard-temp vCard on the room's
// bare JID (XEP-0054 set, §3.2); anyone may get it, as anyone may ask the
// room's disco#info, where muc#roominfo_avatarhash gives the XEP-0153
// hash of each photo (§3.3), so that clients fetch the card only when it
// changed. Conversations, Gajim, Dino and Monal show these avatars.

// vcardIQLocked answers a vcard-temp get or set to a room; rm.mu is held.
func (m *Module) vcardIQLocked(rm *room, iq *router.IQ) (*xml.Element, error) {
	if iq.Type() == stanza.TypeGet {
		card := xml.New(nsVCard, "vCard")
		if rm.vcard != nil {
			card = rm.vcard.Clone()
		}
		// No vCard: an empty one (XEP-0054 allows it or item-not-found;
		// clients read the empty one as "nothing set").
		return stanza.Result(iq.Stanza).Append(card), nil
	}
	if rm.affiliation(iq.From.Bare()) != affOwner {
		return nil, stanza.E(stanza.Forbidden, "Only owners are allowed to set avatars.") // XEP-0486 §3.2
	}
	card := iq.Payload.Clone()
	if b := card.Bytes(""); len(b) > m.cfg.MaxVCardBytes {
		// A local size policy (RFC 6120 §8.3.3.12), as for accounts' vCards.
		return nil, stanza.E(stanza.PolicyViolation, "vCard larger than "+strconv.Itoa(m.cfg.MaxVCardBytes)+" bytes")
	}
	hashes, ok := photoHashes(card)
	if !ok {
		return nil, stanza.E(stanza.BadRequest, "PHOTO BINVAL is not base64")
	}
	if len(card.Elements()) == 0 {
		card, hashes = nil, nil // an empty vCard removes the avatar (§3.2)
	}
	rm.vcard, rm.avatarHashes = card, hashes
	// §3.2: the occupants learn that the room's information changed
	// (status 104) and ask its disco#info again.
	note := xml.New(nsClient, "message", "from", rm.jid.String(), "type", "groupchat").
		Append(xml.New(NSUser, "x").Append(xml.New(NSUser, "status", "code", statusConfigChange)))
	for _, o := range rm.sortedOccupants() {
		for _, sj := range o.order {
			m.send(sj, note.Clone())
		}
	}
	m.persistLocked(rm)
	return stanza.Result(iq.Stanza), nil
}

// photoHashes returns the SHA-1 (hex) of each PHOTO's decoded BINVAL, the
// XEP-0153 hashes muc#roominfo_avatarhash lists (XEP-0486 §4.1: all of
// them when there are several); ok is false when a BINVAL is not base64.
// A PHOTO with only an EXTVAL has no hash.
func photoHashes(card *xml.Element) (hashes []string, ok bool) {
	for _, p := range card.ChildrenNamed(nsVCard, "PHOTO") {
		bin := p.Child(nsVCard, "BINVAL")
		if bin == nil {
			continue
		}
		// BINVAL is often folded over lines.
		data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(bin.Text()), ""))
		if err != nil || len(data) == 0 {
			return nil, false
		}
		sum := sha1.Sum(data)
		hashes = append(hashes, hex.EncodeToString(sum[:]))
	}
	return hashes, true
}

// loadVCard restores a stored room's vCard; a card that does not parse is
// logged and dropped (the room goes on without its avatar).
func (m *Module) loadVCard(rm *room, stored string) {
	if stored == "" {
		return
	}
	els, err := xml.ParseElements([]byte(stored), xml.Limits{})
	if err != nil || len(els) != 1 || !els[0].Is(nsVCard, "vCard") {
		m.log.Error("muc: unreadable room vCard, avatar dropped", "room", rm.jid.String(), "err", err)
		return
	}
	hashes, ok := photoHashes(els[0])
	if !ok {
		m.log.Error("muc: room vCard with a photo that is not base64, avatar dropped", "room", rm.jid.String())
		return
	}
	rm.vcard, rm.avatarHashes = els[0], hashes
}

// storedVCard is what persistLocked keeps of a room's vCard.
func storedVCard(rm *room) string {
	if rm.vcard == nil {
		return ""
	}
	return string(rm.vcard.Bytes(""))
}
