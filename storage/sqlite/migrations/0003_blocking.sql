-- 0003: blocklists (XEP-0191). One row per blocked JID; an account that
-- never blocked anyone has no rows. Keyed (owner, jid) so a blocklist is
-- one range of the primary key and there is no rowid to store.
CREATE TABLE blocklist (
	owner TEXT NOT NULL,                     -- normalised bare JID
	jid   TEXT NOT NULL,                     -- normalised blocked JID
	PRIMARY KEY (owner, jid)
) WITHOUT ROWID;
