package sqlite

import (
	"testing"

	"github.com/skald-xmpp/skald/storage/storagetest"
)

// TestAppendArchiveOnce: the resend check in the append transaction
// (storagetest.AppendArchiveOnce).
func TestAppendArchiveOnce(t *testing.T) {
	storagetest.AppendArchiveOnce(t, openTest(t, Options{Synchronous: SyncOff}))
}

// TestAppendArchiveOnceRacingCopies: copies of one message appended
// concurrently (a client resending while the first copy is being stored)
// are stored once, which a look-up before the append cannot promise.
func TestAppendArchiveOnceRacingCopies(t *testing.T) {
	storagetest.AppendArchiveOnceRacing(t, openTest(t, Options{Synchronous: SyncOff}))
}
