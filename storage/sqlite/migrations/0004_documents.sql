-- 0004: XML documents accounts own (storage.Documents): vCards (XEP-0054,
-- kind 'vcard') and private XML storage (XEP-0049, kind 'private', keyed
-- by namespace). A rowid table rather than WITHOUT ROWID: a document may
-- be tens of KiB (a vCard with an avatar), and SQLite advises WITHOUT
-- ROWID only for rows well under a page. The primary key's index serves
-- both the lookups and PutDocuments' quota sum over (owner, kind).
CREATE TABLE documents (
	owner TEXT NOT NULL,                     -- normalised bare JID
	kind  TEXT NOT NULL,
	key   TEXT NOT NULL,
	xml   BLOB NOT NULL,
	PRIMARY KEY (owner, kind, key)
);
