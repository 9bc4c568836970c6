-- 0009: disabled accounts (storage.Users.SetUserDisabled).
--
-- An operator disables an abusive account instead of deleting it: its
-- roster and archive stay as evidence. disabled_at (Unix microseconds)
-- is NULL for an enabled account; the reason is the operator's note.
-- The partial index lists the few disabled accounts without a scan.
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
ALTER TABLE users ADD COLUMN disabled_reason TEXT;
CREATE INDEX users_disabled ON users(domain, bare) WHERE disabled_at IS NOT NULL;
