-- 0004: persistent multi-user chat rooms (storage.Rooms, XEP-0045): the
-- configuration the muc module serialises (opaque here), and the
-- affiliations, one row each, so that a change to one member of a big
-- room writes one row. A room's affiliations go with it (ON DELETE
-- CASCADE), so DeleteRoom is one statement. The room's messages are in
-- the archive like any owner's.
CREATE TABLE muc_rooms (
	jid    text COLLATE "C" PRIMARY KEY,  -- room@service, bare
	config bytea NOT NULL
);
CREATE TABLE muc_affiliations (
	room        text COLLATE "C" NOT NULL REFERENCES muc_rooms (jid) ON DELETE CASCADE,
	jid         text COLLATE "C" NOT NULL,  -- bare JID, local or remote
	affiliation text NOT NULL,              -- owner, admin, member, outcast
	PRIMARY KEY (room, jid)
);
