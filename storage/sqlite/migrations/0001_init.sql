-- 0001: accounts, rosters, offline messages, message archive.

CREATE TABLE users (
	bare          TEXT PRIMARY KEY,          -- normalised bare JID
	domain        TEXT NOT NULL,             -- domainpart of bare, for ListUsers
	sha1_salt     BLOB,
	sha1_iter     INTEGER NOT NULL DEFAULT 0,
	sha1_stored   BLOB,
	sha1_server   BLOB,
	sha256_salt   BLOB,
	sha256_iter   INTEGER NOT NULL DEFAULT 0,
	sha256_stored BLOB,
	sha256_server BLOB
) WITHOUT ROWID;
CREATE INDEX users_domain ON users(domain, bare);

-- One row per roster: its XEP-0237 version counter. Items cascade.
CREATE TABLE roster (
	owner   TEXT PRIMARY KEY,
	version INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE roster_item (
	owner        TEXT NOT NULL REFERENCES roster(owner) ON DELETE CASCADE,
	contact      TEXT NOT NULL,
	name         TEXT NOT NULL DEFAULT '',
	subscription TEXT NOT NULL DEFAULT 'none',
	ask_out      INTEGER NOT NULL DEFAULT 0,
	pending_in   INTEGER NOT NULL DEFAULT 0,
	pre_approved INTEGER NOT NULL DEFAULT 0,
	hidden       INTEGER NOT NULL DEFAULT 0,
	groups       TEXT,                       -- JSON array of strings, NULL = none
	PRIMARY KEY (owner, contact)
) WITHOUT ROWID;

CREATE TABLE offline (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	owner    TEXT NOT NULL,
	stored   INTEGER NOT NULL,               -- unix microseconds
	archived INTEGER NOT NULL DEFAULT 0,
	stanza   BLOB NOT NULL
);
CREATE INDEX offline_owner ON offline(owner);  -- (owner, rowid)

-- The message archive (XEP-0313). id order is arrival order, store-wide,
-- never reused (AUTOINCREMENT); stamp never decreases with id.
-- owner may be a user or a MUC room.
CREATE TABLE archive (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	owner         TEXT NOT NULL,
	with_jid      TEXT NOT NULL,
	with_resource TEXT NOT NULL DEFAULT '',
	outgoing      INTEGER NOT NULL,
	stamp         INTEGER NOT NULL,          -- unix microseconds, UTC
	origin_id     TEXT,                      -- NULL when the message had none
	body          TEXT NOT NULL DEFAULT '',
	stanza        BLOB NOT NULL
);
-- Every index ends in the implicit rowid (= id), so (owner) is (owner, id)
-- and (owner, with_jid) is (owner, with_jid, id) without storing id twice.
CREATE INDEX archive_owner ON archive(owner);
CREATE INDEX archive_with  ON archive(owner, with_jid);
CREATE INDEX archive_stamp ON archive(owner, stamp);
CREATE INDEX archive_origin ON archive(owner, with_jid, origin_id) WHERE origin_id IS NOT NULL;

-- Item count per archive owner, maintained in the same transaction as every
-- insert and delete, so an unfiltered count is one lookup.
CREATE TABLE archive_count (
	owner TEXT PRIMARY KEY,
	n     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE archive_prefs (
	owner        TEXT PRIMARY KEY,
	default_mode TEXT NOT NULL,
	always       TEXT,                       -- JSON array, NULL = none
	never        TEXT
) WITHOUT ROWID;
