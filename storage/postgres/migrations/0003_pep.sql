-- 0003: PEP services (XEP-0163, storage.PEP). One row per node with its
-- configuration (XEP-0060 pubsub#node_config fields), one row per item.
-- A node's items go with it (ON DELETE CASCADE), so deleting a node or an
-- account's nodes is one statement.
CREATE TABLE pep_node (
	owner            text COLLATE "C" NOT NULL,  -- normalised bare JID
	node             text COLLATE "C" NOT NULL,
	access_model     text NOT NULL,              -- presence, open, whitelist
	persist_items    boolean NOT NULL,
	max_items        integer NOT NULL,           -- > 0
	send_last        text NOT NULL,              -- never, on_sub, on_sub_and_presence
	notify_retract   boolean NOT NULL,
	deliver_payloads boolean NOT NULL,
	PRIMARY KEY (owner, node)
);

-- seq orders a node's items by publication: a republished id takes a new,
-- higher seq. Publishers of one node are serialised by its pep_node row
-- lock (pep.go), so within a node seq order is commit order; across nodes
-- the numbers only need to be unique.
CREATE SEQUENCE pep_item_seq_gen AS bigint;
CREATE TABLE pep_item (
	owner   text COLLATE "C" NOT NULL,
	node    text COLLATE "C" NOT NULL,
	id      text COLLATE "C" NOT NULL,
	seq     bigint NOT NULL DEFAULT nextval('pep_item_seq_gen'),
	payload bytea NOT NULL,
	PRIMARY KEY (owner, node, id),
	FOREIGN KEY (owner, node) REFERENCES pep_node (owner, node) ON DELETE CASCADE
);
-- Newest-first reads and trimming to max_items: one backward range scan.
CREATE INDEX pep_item_order ON pep_item (owner, node, seq);
