package postgres

import (
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/postgres/pgtest"
	"github.com/skald-xmpp/skald/storage/storagetest"
)

var nilTime time.Time

func archiveOf(owner string) storage.ArchiveQuery { return storage.ArchiveQuery{Owner: owner} }

// TestAppendArchiveOnce: the resend check in the append transaction
// (storagetest.AppendArchiveOnce), keeping archive_count right.
func TestAppendArchiveOnce(t *testing.T) {
	s := openTest(t, Options{})
	storagetest.AppendArchiveOnce(t, s)
	checkCounts(t, s)
}

// TestAppendArchiveOnceRacingCopies: copies of one message appended
// concurrently, through two stores (two processes), are stored once,
// which a look-up before the append cannot promise.
func TestAppendArchiveOnceRacingCopies(t *testing.T) {
	dsn := pgtest.DSN(t)
	storagetest.AppendArchiveOnceRacing(t, openDSN(t, dsn, Options{}), openDSN(t, dsn, Options{}))
}
