package memory_test

import (
	"testing"

	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
	"github.com/skald-xmpp/skald/storage/storagetest"
)

func TestContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s := memory.New()
		t.Cleanup(func() { s.Close() })
		return s
	})
}
