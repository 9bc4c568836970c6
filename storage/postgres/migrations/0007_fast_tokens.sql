-- 0007: XEP-0484 FAST tokens (storage.FastTokens).
--
-- Two slots per account and client (the SASL2 user-agent id): slot 1
-- "new" (issued, not yet used), slot 0 "current" (the one last used).
-- hash is the token's SHA-256, never the token. The account's tokens go
-- with it (DeleteUser).
CREATE TABLE fast_token (
	owner     text COLLATE "C" NOT NULL REFERENCES users (bare) ON DELETE CASCADE,
	client    text COLLATE "C" NOT NULL,
	slot      smallint NOT NULL,
	hash      bytea NOT NULL,
	mechanism text NOT NULL,
	expiry    timestamptz NOT NULL,
	PRIMARY KEY (owner, client, slot)
);
