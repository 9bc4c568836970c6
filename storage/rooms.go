package storage

import "context"

// Room is a persistent multi-user chat room (XEP-0045) as stored: its
// configuration, serialised by the muc module, and its affiliations.
type Room struct {
	JID          string            // room@service, bare
	Config       []byte            // opaque to the store
	Affiliations map[string]string // bare JID -> owner, admin, member or outcast
}

// Rooms stores persistent rooms. It is part of Store: every backend
// keeps persistent rooms (on memory, until the process ends). A room
// belongs to no account: DeleteUser leaves the rooms, but removes the
// deleted account's owner, admin and member affiliations from them, so
// that a new account of the same name inherits none (XEP-0077 §3.2: what
// belongs to the account goes). Its bans ("outcast") stay: they are the
// room's, and deleting and registering the name again must not lift them.
// A running MUC service holds its rooms in memory and forgets the
// affiliations itself (muc.ForgetAccount, on in-band deletion).
type Rooms interface {
	// PutRoom creates or replaces a room.
	PutRoom(ctx context.Context, r Room) error
	// DeleteRoom removes a room; removing one that does not exist is not
	// an error.
	DeleteRoom(ctx context.Context, jid string) error
	// Rooms returns every stored room, ordered by JID.
	Rooms(ctx context.Context) ([]Room, error)
}
