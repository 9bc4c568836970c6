-- 0006: disabled accounts (storage.Users.SetUserDisabled).
--
-- An operator disables an abusive account instead of deleting it: its
-- roster and archive stay as evidence. disabled_at is NULL for an
-- enabled account; the reason is the operator's note. The partial index
-- lists the few disabled accounts without a scan.
ALTER TABLE users ADD COLUMN disabled_at timestamptz;
ALTER TABLE users ADD COLUMN disabled_reason text;
CREATE INDEX users_disabled ON users (domain, bare) WHERE disabled_at IS NOT NULL;
