-- 0007: full-text index of archive bodies (see fulltext.go).
--
-- archive_fts holds, per archive row (rowid = archive.id), the row's owner
-- marker (o: three private-use characters derived from the owner, one
-- trigram, so that "this owner's rows" is one posting list) and its body
-- folded by storage.FoldText (b). It is contentless (content=''): the
-- folded text is not stored twice, only its trigrams; contentless_delete
-- lets a row's entry be deleted by rowid. The tokenizer folds nothing
-- itself (case_sensitive 1, no diacritics option): the text arrives
-- folded, the same way as the query's terms.
--
-- The index is built after the fact, off the append path, by the writer
-- in low-priority batches: archive_fts_mark.id is the highest archive id
-- indexed, and queries scan the rows above it directly. A new or upgraded
-- database starts with the mark at 0 and the indexer catches up.
CREATE VIRTUAL TABLE archive_fts USING fts5(o, b, content='', contentless_delete=1,
	tokenize='trigram case_sensitive 1');

CREATE TABLE archive_fts_mark (
	one INTEGER PRIMARY KEY CHECK (one = 0),
	id  INTEGER NOT NULL
);
INSERT INTO archive_fts_mark VALUES (0, 0);

-- Every way of deleting archive rows (purge, expiry, trim, account
-- deletion, skald archive) deletes their index entries, if they have any.
CREATE TRIGGER archive_fts_delete AFTER DELETE ON archive
	WHEN old.id <= (SELECT id FROM archive_fts_mark WHERE one = 0)
BEGIN
	DELETE FROM archive_fts WHERE rowid = old.id;
END;
