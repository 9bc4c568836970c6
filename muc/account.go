package muc

import (
	"context"

	"github.com/skald-xmpp/skald/jid"
)

// ForgetAccount removes a deleted account's ownership, administration and
// membership from every room (XEP-0077 §3.2: the account and what belongs
// to it go). Without it a new account of the same name would inherit
// them. A ban stays: it is the room's, and deleting and registering the
// name again must not lift it. Rooms are taken one at a time (the lock
// order of doc.go); the account's occupants leave as its sessions end. A
// room left without an owner stays as it was configured.
func (m *Module) ForgetAccount(_ context.Context, account jid.JID) error {
	account = account.Bare()
	for _, rm := range m.roomList() {
		rm.mu.Lock()
		if aff := rm.affiliation(account); !rm.gone && aff != affNone && aff != affOutcast {
			rm.setAffiliation(account, affNone)
			m.persistLocked(rm)
		}
		rm.mu.Unlock()
	}
	return nil
}
