package pep

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
)

const (
	tybalt   = "tybalt@remote.example"   // romeo: from (we get none of his presence)
	paris    = "paris@remote.example"    // romeo: both
	benvolio = "benvolio@remote.example" // no subscription
	mercury  = "mercury@remote.example"  // romeo: to (romeo sees him, not the reverse)
)

// wire records what the router hands the remote transport.
type wire struct {
	mu   sync.Mutex
	sent []*xml.Element
}

func (w *wire) SendRemote(st *xml.Element, _, _ jid.JID) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sent = append(w.sent, st.Clone())
	return nil
}

func (w *wire) take() []*xml.Element {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.sent
	w.sent = nil
	return out
}

// eventsTo lists the 'to' of the tune events in sts.
func eventsTo(sts []*xml.Element) []string {
	var out []string
	for _, st := range sts {
		if st.Local == "message" && st.Attr("type") == "headline" {
			out = append(out, st.Attr("to"))
		}
	}
	return out
}

func setupRemote(t *testing.T) (*env, *wire) {
	e := setup(t)
	w := &wire{}
	e.Router.SetRemote(w)
	e.m.ros.(*fakeRosters).items[romeo] = append(e.m.ros.(*fakeRosters).items[romeo],
		storage.RosterItem{JID: tybalt, Subscription: storage.SubFrom},
		storage.RosterItem{JID: paris, Subscription: storage.SubBoth},
		storage.RosterItem{JID: mercury, Subscription: storage.SubTo})
	return e, w
}

// remotePresence hands presence from a remote resource to romeo as s2s
// would, and answers a caps query over the wire if one goes out.
func remotePresence(t *testing.T, e *env, w *wire, from, typ string, features ...string) {
	t.Helper()
	p := `<presence from="` + from + `" to="` + romeo + `"`
	if typ != "" {
		p += ` type="` + typ + `"`
	}
	p += `>`
	if features != nil {
		p += `<c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="` + capsNode + `" ver="` + verOf(features...) + `"/>`
	}
	ctx := context.Background()
	if err := e.Router.HandleFromRemote(ctx, "remote.example", routertest.Parse(t, p+`</presence>`)); err != nil {
		t.Fatal(err)
	}
	for _, st := range w.take() {
		q := st.Child("http://jabber.org/protocol/disco#info", "query")
		if st.Local != "iq" || q == nil {
			w.sent = append(w.sent, st)
			continue
		}
		if st.Attr("from") != "example.org" || st.Attr("to") != from {
			t.Fatalf("caps query %s", st)
		}
		answer := `<iq type="result" from="` + from + `" to="example.org" id="` + st.Attr("id") + `"><query xmlns="http://jabber.org/protocol/disco#info" node="` + q.Attr("node") + `"><identity category="client" type="pc"/>`
		for _, f := range features {
			answer += `<feature var="` + f + `"/>`
		}
		if err := e.Router.HandleFromRemote(ctx, "remote.example", routertest.Parse(t, answer+`</query></iq>`)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRemoteContacts: notifications reach the remote resources that
// asked for them and may see the owner (their caps learned with a
// disco#info query over s2s), a "from" contact of whom nothing is known
// gets one at its bare JID, a "both" contact with no resource known
// none, and strangers none; unavailable presence forgets a resource.
func TestRemoteContacts(t *testing.T) {
	e, w := setupRemote(t)
	home, homeRec := e.withCaps(romeo+"/home", tune+"+notify")
	homeRec.Take()
	remotePresence(t, e, w, paris+"/ball", "", tune+"+notify")
	remotePresence(t, e, w, paris+"/mute", "", "urn:xmpp:avatar:metadata+notify") // no tune+notify
	remotePresence(t, e, w, benvolio+"/x", "", tune+"+notify")                    // a stranger: not kept
	remotePresence(t, e, w, mercury+"/x", "", tune+"+notify")                     // kept, but may not see romeo
	if got := e.m.RemoteResources(); got != 3 {
		t.Fatalf("%d remote resources tracked, want 3", got)
	}
	w.take()

	e.Send(home, publishTune("t1", "Yesterday"))
	routertest.Equal(t, "remote events", eventsTo(w.take()), tybalt, paris+"/ball")

	// paris/ball leaves: "both", nothing known: nothing sent.
	remotePresence(t, e, w, paris+"/ball", "unavailable")
	remotePresence(t, e, w, paris+"/mute", "unavailable")
	if got := e.m.RemoteResources(); got != 1 {
		t.Fatalf("%d remote resources tracked after unavailable", got)
	}
	e.Send(home, publishTune("t2", "Today"))
	routertest.Equal(t, "remote events", eventsTo(w.take()), tybalt)

	// A resource coming online with a known ver gets the last item at
	// once.
	remotePresence(t, e, w, paris+"/ball", "", tune+"+notify")
	sent := w.take()
	routertest.Equal(t, "last item", eventsTo(sent), paris+"/ball")
	if !strings.Contains(sent[0].String(), "Today") {
		t.Fatalf("last item %s", sent[0])
	}
}

// TestRemoteResourceBounds: one remote domain's resources are bounded;
// at the bound the one heard of longest ago makes room.
func TestRemoteResourceBounds(t *testing.T) {
	e, w := setupRemote(t)
	for i := range maxRemoteResourcesPerDomain + 5 {
		remotePresence(t, e, w, fmt.Sprintf("%s/r%d", paris, i), "")
		if i == maxRemoteResourcesPerDomain-1 {
			remotePresence(t, e, w, paris+"/r0", "") // heard again: kept
		}
	}
	if got := e.m.RemoteResources(); got != maxRemoteResourcesPerDomain {
		t.Fatalf("%d remote resources tracked, want %d", got, maxRemoteResourcesPerDomain)
	}
	known := map[string]bool{}
	for _, s := range e.m.remoteSessions(jid.MustParse(paris)) {
		known[s.JID().Resource()] = true
	}
	last := fmt.Sprintf("r%d", maxRemoteResourcesPerDomain+4)
	if !known["r0"] || known["r1"] || !known[last] {
		t.Fatalf("kept r0 %v, r1 %v, %s %v", known["r0"], known["r1"], last, known[last])
	}
}
