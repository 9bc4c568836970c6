package muc

import "github.com/skald-xmpp/skald/storage"

// RoomStore keeps persistent rooms across restarts.
type RoomStore = storage.Rooms

// persistLocked saves a persistent room, or forgets a room that is no
// longer persistent.
func (m *Module) persistLocked(rm *room) {}
