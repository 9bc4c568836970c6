-- 0010: XEP-0484 FAST tokens (storage.FastTokens).
--
-- Two slots per account and client (the SASL2 user-agent id): slot 1
-- "new" (issued, not yet used), slot 0 "current" (the one last used).
-- hash is the token's SHA-256, never the token; expiry is unix seconds.
-- The account's tokens go with it (DeleteUser).
CREATE TABLE fast_token (
	owner     TEXT NOT NULL REFERENCES users(bare) ON DELETE CASCADE,
	client    TEXT NOT NULL,
	slot      INTEGER NOT NULL,
	hash      BLOB NOT NULL,
	mechanism TEXT NOT NULL,
	expiry    INTEGER NOT NULL,
	PRIMARY KEY (owner, client, slot)
) WITHOUT ROWID;
