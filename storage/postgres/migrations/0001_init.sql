-- 0001: accounts, rosters, offline messages, message archive, blocklists.
--
-- Every JID column is COLLATE "C": ORDER BY is byte order, as the other
-- backends sort (Go's string order), whatever the database's locale, and
-- btree comparisons are plain memcmp.

CREATE TABLE users (
	bare          text COLLATE "C" PRIMARY KEY,   -- normalised bare JID
	domain        text COLLATE "C" NOT NULL,      -- domainpart of bare, for ListUsers
	sha1_salt     bytea,
	sha1_iter     integer NOT NULL DEFAULT 0,
	sha1_stored   bytea,
	sha1_server   bytea,
	sha256_salt   bytea,
	sha256_iter   integer NOT NULL DEFAULT 0,
	sha256_stored bytea,
	sha256_server bytea
);
CREATE INDEX users_domain ON users (domain, bare);

-- One row per roster: its XEP-0237 version counter. Items cascade.
CREATE TABLE roster (
	owner   text COLLATE "C" PRIMARY KEY,
	version bigint NOT NULL
);

CREATE TABLE roster_item (
	owner        text COLLATE "C" NOT NULL REFERENCES roster (owner) ON DELETE CASCADE,
	contact      text COLLATE "C" NOT NULL,
	name         text NOT NULL DEFAULT '',
	subscription text NOT NULL DEFAULT 'none',
	ask_out      boolean NOT NULL DEFAULT false,
	pending_in   boolean NOT NULL DEFAULT false,
	pre_approved boolean NOT NULL DEFAULT false,
	hidden       boolean NOT NULL DEFAULT false,
	groups       text[],                          -- NULL = none
	PRIMARY KEY (owner, contact)
);

-- seq is taken under a per-owner advisory lock (offline.go), so one
-- owner's seqs increase in commit order.
CREATE TABLE offline (
	seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	owner    text COLLATE "C" NOT NULL,
	stored   bigint NOT NULL,                     -- unix microseconds
	archived boolean NOT NULL DEFAULT false,
	stanza   bytea NOT NULL
);
CREATE INDEX offline_owner ON offline (owner, seq);

-- The message archive (XEP-0313). Ids come from archive_id_seq, taken only
-- under the archive lock (see doc.go): id order is commit order,
-- store-wide, never reused; stamp never decreases with id. owner may be a
-- user or a MUC room.
CREATE SEQUENCE archive_id_seq AS bigint;
CREATE TABLE archive (
	id            bigint PRIMARY KEY,
	owner         text COLLATE "C" NOT NULL,
	with_jid      text COLLATE "C" NOT NULL,
	with_resource text COLLATE "C" NOT NULL DEFAULT '',
	outgoing      boolean NOT NULL,
	stamp         bigint NOT NULL,                -- unix microseconds, UTC
	origin_id     text COLLATE "C",               -- NULL when the message had none
	body          text NOT NULL DEFAULT '',
	stanza        bytea NOT NULL
);
CREATE INDEX archive_owner  ON archive (owner, id);            -- pages, counts, purge, trim
CREATE INDEX archive_with   ON archive (owner, with_jid, id);  -- pages with a peer
CREATE INDEX archive_time   ON archive (owner, stamp, id);     -- Start/End seeks, purge before
CREATE INDEX archive_origin ON archive (owner, with_jid, origin_id, id) WHERE origin_id IS NOT NULL;

-- Item count per archive owner, changed in the same transaction as every
-- insert and delete (under the archive lock), so an unfiltered count is
-- one lookup.
CREATE TABLE archive_count (
	owner text COLLATE "C" PRIMARY KEY,
	n     bigint NOT NULL
);

CREATE TABLE archive_prefs (
	owner        text COLLATE "C" PRIMARY KEY,
	default_mode text NOT NULL,
	always       text[],                          -- NULL = none
	never        text[]
);

-- Blocklists (XEP-0191): one row per blocked JID.
CREATE TABLE blocklist (
	owner text COLLATE "C" NOT NULL,
	jid   text COLLATE "C" NOT NULL,
	PRIMARY KEY (owner, jid)
);
