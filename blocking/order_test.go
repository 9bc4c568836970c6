package blocking

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/jid"
)

// gate is a presence notifier that holds a block inside Blocked until
// released: the block is stored, its presence and push not yet sent.
type gate struct{ entered, release chan struct{} }

func (g *gate) Blocked(context.Context, jid.JID, func(jid.JID) bool)   { close(g.entered); <-g.release }
func (g *gate) Unblocked(context.Context, jid.JID, func(jid.JID) bool) {}

// TestChangesPushInStoreOrder: balcony blocks tybalt while chamber
// unblocks him. Whatever the interleaving, the pushes (and presence) go
// out in the order the store took the changes, so a client that applies
// pushes ends with the server's list: here empty, the unblock coming
// second.
func TestChangesPushInStoreOrder(t *testing.T) {
	e := routertest.New(t, romeo, juliet, tybalt)
	m := New(e.Store, e.Router, nil)
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	m.SetPresence(g)
	e.Router.Register(m)
	bal, balRec := e.Bind(juliet+"/balcony", true, 0)
	ch, chRec := e.Bind(juliet+"/chamber", true, 0)
	e.Send(bal, `<iq type="get" id="g1"><blocklist xmlns="urn:xmpp:blocking"/></iq>`)
	e.Send(ch, `<iq type="get" id="g2"><blocklist xmlns="urn:xmpp:blocking"/></iq>`)
	balRec.Take()
	chRec.Take()
	blocked := make(chan struct{})
	go func() {
		e.Send(bal, `<iq type="set" id="b"><block xmlns="urn:xmpp:blocking"><item jid="tybalt@example.org"/></block></iq>`)
		close(blocked)
	}()
	<-g.entered // the block is stored; its push is not sent yet
	unblocked := make(chan struct{})
	go func() {
		e.Send(ch, `<iq type="set" id="u"><unblock xmlns="urn:xmpp:blocking"><item jid="tybalt@example.org"/></unblock></iq>`)
		close(unblocked)
	}()
	// Let the unblock go as far as it can while the block is held: without
	// the ordering it completes, push included; with it, it waits for the
	// block to finish.
	select {
	case <-unblocked:
	case <-time.After(200 * time.Millisecond):
	}
	close(g.release)
	<-blocked
	<-unblocked
	if b, err := m.Blocks(context.Background(), juliet, jid.MustParse(tybalt)); err != nil || b {
		t.Fatalf("server: blocked=%v err=%v, want unblocked", b, err)
	}
	var last string
	for _, s := range chRec.Take() {
		if strings.Contains(s, `type="set"`) {
			last = s
		}
	}
	if !strings.Contains(last, "<unblock ") {
		t.Errorf("last push to chamber %q, want the unblock (the server's list is empty)", last)
	}
}
