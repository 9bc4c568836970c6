package storage

import "context"

// Room is a persistent multi-user chat room (XEP-0045) as stored: its
// configuration, serialised by the muc module, and its affiliations.
type Room struct {
	JID          string            // room@service, bare
	Config       []byte            // opaque to the store
	Affiliations map[string]string // bare JID -> owner, admin, member or outcast
}

// Rooms stores persistent rooms. It is not part of Store: a backend that
// lacks it serves rooms that end with the process.
type Rooms interface {
	// PutRoom creates or replaces a room.
	PutRoom(ctx context.Context, r Room) error
	// DeleteRoom removes a room; removing one that does not exist is not
	// an error.
	DeleteRoom(ctx context.Context, jid string) error
	// Rooms returns every stored room, ordered by JID.
	Rooms(ctx context.Context) ([]Room, error)
}
