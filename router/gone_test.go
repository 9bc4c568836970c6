package router_test

import (
	"context"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
)

// unbindingArchiver is the hooks tests' archiver that, while archiving,
// unbinds the resource the message is addressed to: the recipient leaves
// between admission and delivery.
type unbindingArchiver struct {
	archiver
	r    *router.Router
	gone string
}

func (a *unbindingArchiver) OutboundMessage(ctx context.Context, ev *router.MessageEvent) error {
	if s := a.r.Session(jid.MustParse(a.gone)); s != nil {
		a.r.Unbind(ctx, s)
	}
	return a.archiver.OutboundMessage(ctx, ev)
}

// TestArchivedNormalToGoneResourceNotBounced: a normal message whose full
// JID goes away after admission but after the recipient's archive took it
// is dropped, not bounced (RFC 6121 §8.5.3.2.1 allows either): a bounce
// would have the sender resend what both archives hold.
func TestArchivedNormalToGoneResourceNotBounced(t *testing.T) {
	dir := directory{"alice@localhost": true, "bob@localhost": true}
	r := router.New(router.Config{Domains: []string{"localhost"}, Users: dir})
	r.Register(&unbindingArchiver{r: r, gone: "bob@localhost/phone"})
	e := &env{t: t, r: r}
	alice, out := e.bind("alice@localhost/a", "a", prio(0))
	e.bind("bob@localhost/phone", "b", prio(0))
	e.mustSend(alice, `<message to='bob@localhost/phone' id='m1'><body>hi</body></message>`)
	for _, s := range out.Take() {
		if strings.Contains(s, "service-unavailable") {
			t.Fatalf("archived message bounced: %s", s)
		}
	}
}
