-- 0005: PEP services (XEP-0163). One row per node with its configuration
-- (XEP-0060 pubsub#node_config fields), one row per item. seq orders a
-- node's items by publication: a republished id gets a new, higher seq.
CREATE TABLE pep_node (
	owner            TEXT NOT NULL,    -- normalised bare JID
	node             TEXT NOT NULL,
	access_model     TEXT NOT NULL,    -- presence, open, whitelist
	persist_items    INTEGER NOT NULL, -- 0/1
	max_items        INTEGER NOT NULL, -- > 0
	send_last        TEXT NOT NULL,    -- never, on_sub, on_sub_and_presence
	notify_retract   INTEGER NOT NULL,
	deliver_payloads INTEGER NOT NULL,
	PRIMARY KEY (owner, node)
) WITHOUT ROWID;

CREATE TABLE pep_item (
	owner   TEXT NOT NULL,
	node    TEXT NOT NULL,
	id      TEXT NOT NULL,
	seq     INTEGER NOT NULL,
	payload BLOB NOT NULL,
	PRIMARY KEY (owner, node, id)
) WITHOUT ROWID;

CREATE INDEX pep_item_seq ON pep_item (owner, node, seq);
