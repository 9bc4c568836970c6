-- 0005: full-text search of archive bodies (storage.ArchiveQuery.Text).
--
-- body_fold is the body folded by storage.FoldText (case, compatibility
-- forms, diacritics), written with the row; a text query adds one
-- body_fold LIKE '%term%' per term, which the trigram GIN index of
-- pg_trgm answers (terms of three characters or more), ANDed by the
-- planner with the owner's range of archive_owner. pg_trgm ships with the
-- server (postgresql-contrib is part of Debian's package) and is trusted:
-- the database owner may create it. It goes to the schema the store uses
-- unless it exists already, in a schema of the search_path.
--
-- Rows that exist before this migration get their body_fold from the
-- store at startup (Open), in batches, found through archive_unfolded,
-- which is empty afterwards.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER TABLE archive ADD COLUMN body_fold text;
CREATE INDEX archive_text ON archive USING gin (body_fold gin_trgm_ops);
CREATE INDEX archive_unfolded ON archive (id) WHERE body_fold IS NULL;
