-- 0008: the origin-id lookup by a hash (see originkey.go).
--
-- archive_origin (owner, with_jid, origin_id) cost every appended row an
-- insert among long random text keys; archive_origin_key indexes one
-- 64-bit hash of (owner, with_jid, outgoing, origin_id) instead, computed
-- by Skald (skald_origin_key, registered on the connection that migrates;
-- every row Skald appends from now on carries its key). NULL, and not
-- indexed, when the row has no origin-id.
ALTER TABLE archive ADD COLUMN origin_key INTEGER;
UPDATE archive SET origin_key = skald_origin_key(owner, with_jid, outgoing, origin_id)
	WHERE origin_id IS NOT NULL;
DROP INDEX archive_origin;
CREATE INDEX archive_origin_key ON archive(origin_key) WHERE origin_key IS NOT NULL;
