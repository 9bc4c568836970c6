package offline

import (
	"context"
	"errors"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/jid"
)

type failingBlocker struct{}

func (failingBlocker) Blocks(context.Context, string, jid.JID) (bool, error) {
	return false, errors.New("store unavailable")
}

// TestDeliverBlocklistError: when the blocklist cannot be read, stored
// messages stay stored rather than reach a user who may have blocked
// their sender.
func TestDeliverBlocklistError(t *testing.T) {
	e, m, romeo, _ := setup(t, 10)
	e.Send(romeo, `<message type="chat" to="juliet@example.org"><body>maybe blocked</body></message>`)
	m.SetBlocker(failingBlocker{})
	routertest.Expect(t, online(e, "balcony", 0, false))
	// Still stored: delivered once the blocklist can be read again.
	m.SetBlocker(nil)
	rec := online(e, "chamber", 0, false)
	if got := rec.Take(); len(got) != 1 {
		t.Fatalf("after the blocklist came back, chamber got %q, want the stored message", got)
	}
}
