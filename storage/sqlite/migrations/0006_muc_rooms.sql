-- 0006: persistent multi-user chat rooms (storage.Rooms, XEP-0045): the
-- configuration the muc module serialises, and the affiliations, one row
-- each so that a room of many members changes one row per change. The
-- room's messages are in the archive like any owner's.
CREATE TABLE muc_rooms (
	jid    TEXT PRIMARY KEY,                 -- room@service, bare
	config BLOB NOT NULL
);
CREATE TABLE muc_affiliations (
	room        TEXT NOT NULL REFERENCES muc_rooms (jid) ON DELETE CASCADE,
	jid         TEXT NOT NULL,               -- bare JID
	affiliation TEXT NOT NULL,               -- owner, admin, member, outcast
	PRIMARY KEY (room, jid)
) WITHOUT ROWID;
