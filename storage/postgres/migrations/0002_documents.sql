-- 0002: XML documents accounts own (storage.Documents): vCards (XEP-0054,
-- kind 'vcard') and private XML storage (XEP-0049, kind 'private', keyed
-- by namespace). The primary key serves the lookups and PutDocuments'
-- quota sum over (owner, kind).
CREATE TABLE documents (
	owner text COLLATE "C" NOT NULL,          -- normalised bare JID
	kind  text COLLATE "C" NOT NULL,
	key   text COLLATE "C" NOT NULL,
	xml   bytea NOT NULL,
	PRIMARY KEY (owner, kind, key)
);
