-- 0002: one archive index fewer per appended row.
--
-- Stamps never decrease with id, so within an owner (stamp, id) order is id
-- order: one index on (owner, stamp, id) serves both the owner's pages in
-- id order and the Start/End seeks, and archive_owner (owner, id) goes.
--
-- The index names id through seq, a virtual copy of it, rather than
-- relying on the rowid every index ends in: SQLite seeks an index on a row
-- value such as (stamp, seq) > (?, ?) only when each of its terms is a
-- declared index column, and it never counts the implicit rowid (nor the
-- INTEGER PRIMARY KEY alias) as one. Without that seek a page after an id
-- would walk every earlier row of the same stamp. seq is VIRTUAL: computed
-- from id, stored only in the index.
ALTER TABLE archive ADD COLUMN seq INTEGER GENERATED ALWAYS AS (id) VIRTUAL;

DROP INDEX archive_owner;
DROP INDEX archive_stamp;
CREATE INDEX archive_time ON archive(owner, stamp, seq);
