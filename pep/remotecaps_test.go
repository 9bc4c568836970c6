package pep

import (
	"context"
	"fmt"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
)

// sendCapsPresence hands romeo presence from a remote resource showing a
// caps ver nobody knows, as s2s would, and returns the caps queries that
// went out for it (unanswered).
func sendCapsPresence(t *testing.T, e *env, w *wire, from, ver string) []*xml.Element {
	t.Helper()
	p := `<presence from="` + from + `" to="` + romeo + `"><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="` + capsNode + `" ver="` + ver + `"/></presence>`
	if err := e.Router.HandleFromRemote(context.Background(), "remote.example", routertest.Parse(t, p)); err != nil {
		t.Fatal(err)
	}
	var qs []*xml.Element
	for _, st := range w.take() {
		if st.Local == "iq" {
			qs = append(qs, st)
		}
	}
	return qs
}

// TestRemoteCapsQueriesBounded: a remote server decides how many
// resources its users show and which caps vers; each unknown ver is a
// disco#info query over s2s, pending in the router's table shared with
// local clients' caps queries and push (router.MaxPendingQueries) until it
// is answered or times out. Resources dropped to make room for newer
// ones keep their query out. One remote domain's queries out at once are
// bounded, whatever its resources do; once one is answered another may
// go, and a resource refused for the bound is asked at its next presence.
func TestRemoteCapsQueriesBounded(t *testing.T) {
	e, w := setupRemote(t)
	var out []*xml.Element
	for i := range maxRemoteResourcesPerDomain + 200 {
		out = append(out, sendCapsPresence(t, e, w, fmt.Sprintf("%s/r%d", paris, i), fmt.Sprintf("bogus%d=", i))...)
	}
	if len(out) != maxRemoteCapsQueriesPerDomain {
		t.Fatalf("%d caps queries out to one remote domain, want %d", len(out), maxRemoteCapsQueriesPerDomain)
	}
	refused := fmt.Sprintf("%s/r%d", paris, maxRemoteResourcesPerDomain+199)
	if qs := sendCapsPresence(t, e, w, refused, fmt.Sprintf("bogus%d=", maxRemoteResourcesPerDomain+199)); len(qs) != 0 {
		t.Fatalf("a query past the bound: %v", qs)
	}
	// One answer (an error: the client knows no such node) frees a
	// place: the refused resource's next presence is asked.
	q := out[0]
	answer := `<iq type="error" from="` + q.Attr("to") + `" to="example.org" id="` + q.Attr("id") + `"><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`
	if err := e.Router.HandleFromRemote(context.Background(), "remote.example", routertest.Parse(t, answer)); err != nil {
		t.Fatal(err)
	}
	if qs := sendCapsPresence(t, e, w, refused, fmt.Sprintf("bogus%d=", maxRemoteResourcesPerDomain+199)); len(qs) != 1 || qs[0].Attr("to") != refused {
		t.Fatalf("after an answer, the refused resource's next presence: %v", qs)
	}
}

// TestCapsWaitersBounded: sessions showing a SHA-1 ver that is being
// asked about wait for the one answer. A remote server shows as many
// resources as it likes, dropped from the table or not, all with one
// ver its first resource never answers for: the waiting list is bounded
// (asking its sessions one after the other, in vain, would otherwise
// also recurse as deep as the list is long); a session past the bound
// waits for nothing and is resolved at its next presence.
func TestCapsWaitersBounded(t *testing.T) {
	e, w := setupRemote(t)
	const ver = "never-answered="
	n := maxRemoteResourcesPerDomain + maxCapsWaiting + 10
	for i := range n {
		sendCapsPresence(t, e, w, fmt.Sprintf("%s/r%d", paris, i), ver)
	}
	e.m.caps.mu.Lock()
	waiting := len(e.m.caps.pending[ver].waiting)
	e.m.caps.mu.Unlock()
	if waiting > maxCapsWaiting {
		t.Fatalf("%d sessions wait for one ver, bound %d", waiting, maxCapsWaiting)
	}
}
