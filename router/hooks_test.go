package router_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// archiver imitates the archive module: it counts outbound hook calls and
// stamps the recipient's stanza-id inbound; its offline store can fail.
type archiver struct {
	mu          sync.Mutex
	outbound    int
	failOffline bool
}

func (a *archiver) Name() string { return "archiver" }

func (a *archiver) OutboundMessage(_ context.Context, ev *router.MessageEvent) error {
	a.mu.Lock()
	a.outbound++
	a.mu.Unlock()
	return nil
}

func (a *archiver) InboundMessage(_ context.Context, ev *router.MessageEvent) error {
	ev.Stanza.Append(xml.New("urn:xmpp:sid:0", "stanza-id", "by", ev.To.Bare().String(), "id", "SECRET"))
	ev.Archived = true
	return nil
}

func (a *archiver) StoreOffline(context.Context, *router.MessageEvent) (bool, error) {
	if a.failOffline {
		return false, errors.New("disk full")
	}
	return true, nil
}

func TestHooksAndBounces(t *testing.T) {
	tests := []struct {
		name         string
		to           string
		failOffline  bool
		wantOutbound int
		wantReply    string // condition of the error bounced to alice, "" for none
	}{
		{"unknown local user: bounced before archiving", "nobody@localhost", false, 0, "service-unavailable"},
		{"remote domain: bounced before archiving", "someone@example.net", false, 0, "remote-server-not-found"},
		{"normal to a gone resource: bounced before archiving (RFC 6121 §8.5.3.2.1)", "bob@localhost/gone", false, 0, "service-unavailable"},
		{"offline user: archived and stored", "bob@localhost", false, 1, ""},
		{"offline store fails but the archive holds it: no bounce", "bob@localhost", true, 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := directory{"alice@localhost": true, "bob@localhost": true}
			r := router.New(router.Config{Domains: []string{"localhost"}, Users: dir})
			a := &archiver{failOffline: tc.failOffline}
			r.Register(a)
			e := &env{t: t, r: r}
			alice, out := e.bind("alice@localhost/a", "a", prio(0))
			e.mustSend(alice, `<message to='`+tc.to+`' type='normal' id='m1'><body>hi</body></message>`)
			if a.outbound != tc.wantOutbound {
				t.Errorf("outbound hook ran %d times, want %d", a.outbound, tc.wantOutbound)
			}
			got := out.Take()
			if tc.wantReply == "" {
				if len(got) != 0 {
					t.Fatalf("unexpected reply %v", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], "<"+tc.wantReply+" ") {
				t.Fatalf("reply %v, want %s", got, tc.wantReply)
			}
		})
	}
}

// TestBounceNeverLeaksRecipientStanzaID: when delivery fails after the
// inbound hooks added the recipient's archive id, the bounce to the sender
// must not carry it (XEP-0359).
func TestBounceNeverLeaksRecipientStanzaID(t *testing.T) {
	dir := directory{"alice@localhost": true, "bob@localhost": true}
	r := router.New(router.Config{Domains: []string{"localhost"}, Users: dir})
	r.Register(stampOnly{})
	e := &env{t: t, r: r}
	alice, out := e.bind("alice@localhost/a", "a", prio(0))
	// bob is offline and there is no offline storage: the message bounces.
	e.mustSend(alice, `<message to='bob@localhost' type='chat' id='m1'><body>hi</body></message>`)
	got := out.Take()
	if len(got) != 1 || !strings.Contains(got[0], "service-unavailable") {
		t.Fatalf("reply %v", got)
	}
	if strings.Contains(got[0], "stanza-id") {
		t.Fatalf("bounce leaks the recipient's archive id: %s", got[0])
	}
}

// stampOnly adds a stanza-id inbound without archiving.
type stampOnly struct{}

func (stampOnly) Name() string { return "stamp" }
func (stampOnly) InboundMessage(_ context.Context, ev *router.MessageEvent) error {
	ev.Stanza.Append(xml.New("urn:xmpp:sid:0", "stanza-id", "by", ev.To.Bare().String(), "id", "SECRET"))
	return nil
}

// unavailRecorder records the unavailable presences it is shown.
type unavailRecorder struct{ seen []string }

func (*unavailRecorder) Name() string { return "unavail" }
func (u *unavailRecorder) UnavailablePresenceHandled(_ context.Context, s *router.Session, p *xml.Element) {
	u.seen = append(u.seen, s.JID().String()+" "+p.ChildText(p.Space, "status"))
}

// failingPresence refuses presence whose status is "refuse".
type failingPresence struct{}

func (failingPresence) Name() string { return "presence" }
func (failingPresence) HandlePresence(_ context.Context, _ *router.Session, p *xml.Element, _ jid.JID) error {
	if p.Child(p.Space, "status").Text() == "refuse" {
		return stanza.E(stanza.BadRequest, "")
	}
	return nil
}

// TestUnavailablePresenceObserver: only broadcast unavailable presence
// that the presence handler accepted reaches the observers.
func TestUnavailablePresenceObserver(t *testing.T) {
	env := routertest.New(t, "alice@example.org", "bob@example.org")
	obs := &unavailRecorder{}
	env.Router.Register(failingPresence{}, obs)
	alice, _ := env.Bind("alice@example.org/a", true, 0)
	env.Send(alice, `<presence/>`)
	env.Send(alice, `<presence type="unavailable" to="bob@example.org"><status>directed</status></presence>`)
	env.Send(alice, `<presence type="unavailable"><status>refuse</status></presence>`)
	env.Send(alice, `<presence type="unavailable"><status>bye</status></presence>`)
	if len(obs.seen) != 1 || obs.seen[0] != "alice@example.org/a bye" {
		t.Errorf("observed %q", obs.seen)
	}
}
