package presence_test

import (
	"slices"
	"testing"

	"github.com/skald-xmpp/skald/storage"
)

func push(to, item string) string {
	return `<iq type="set" id="P" to="` + to + `"><query xmlns="jabber:iq:roster" ver="V">` + item + `</query></iq>`
}

// TestMutualSubscription adds a contact both ways, as RFC 6121 §3.1 walks
// through it, checking every stanza both clients see.
func TestMutualSubscription(t *testing.T) {
	e := newEnv(t, "a@x", "b@x")
	e.online("a@x/1")
	e.online("b@x/1")

	type step struct {
		from, send string
		want       map[string][]string
	}
	steps := []step{
		{"a@x/1", `<iq type="set" id="s1"><query xmlns="jabber:iq:roster"><item jid="b@x" name="B"/></query></iq>`,
			map[string][]string{"a@x/1": {
				push("a@x/1", `<item jid="b@x" name="B" subscription="none"/>`),
				`<iq type="result" id="s1" to="a@x/1"/>`,
			}}},
		{"a@x/1", `<presence to="b@x" type="subscribe"><status>hi</status></presence>`,
			map[string][]string{
				"a@x/1": {push("a@x/1", `<item jid="b@x" name="B" subscription="none" ask="subscribe"/>`)},
				"b@x/1": {`<presence to="b@x" type="subscribe" from="a@x"><status>hi</status></presence>`},
			}},
		{"b@x/1", `<presence to="a@x" type="subscribed"/>`,
			map[string][]string{
				"b@x/1": {push("b@x/1", `<item jid="a@x" subscription="from"/>`)},
				"a@x/1": { // RFC 6121 §3.1.6: the approval before the push
					`<presence to="a@x" type="subscribed" from="b@x"/>`,
					push("a@x/1", `<item jid="b@x" name="B" subscription="to"/>`),
					`<presence from="b@x/1" to="a@x"/>`,
				},
			}},
		{"b@x/1", `<presence to="a@x" type="subscribe"/>`,
			map[string][]string{
				"b@x/1": {push("b@x/1", `<item jid="a@x" subscription="from" ask="subscribe"/>`)},
				"a@x/1": {`<presence to="a@x" type="subscribe" from="b@x"/>`},
			}},
		{"a@x/1", `<presence to="b@x/1" type="subscribed"/>`, // a full JID means its bare JID
			map[string][]string{
				"a@x/1": {push("a@x/1", `<item jid="b@x" name="B" subscription="both"/>`)},
				"b@x/1": {
					`<presence to="b@x" type="subscribed" from="a@x"/>`,
					push("b@x/1", `<item jid="a@x" subscription="both"/>`),
					`<presence from="a@x/1" to="b@x"/>`,
				},
			}},
		{"a@x/1", `<presence><show>away</show></presence>`,
			map[string][]string{
				"a@x/1": {`<presence from="a@x/1" to="a@x"><show>away</show></presence>`},
				"b@x/1": {`<presence from="a@x/1" to="b@x"><show>away</show></presence>`},
			}},
	}
	for i, st := range steps {
		e.send(st.from, st.send)
		t.Logf("step %d", i)
		e.expect(st.want)
	}
}

// TestInitialPresence checks what a session's first available presence
// brings it (RFC 6121 §4.2, §4.3, §3.1.3) and that later presence does not.
func TestInitialPresence(t *testing.T) {
	e := newEnv(t, "a@x", "b@x", "c@x", "d@x")
	e.put("a@x", storage.RosterItem{JID: "b@x", Subscription: storage.SubBoth})
	e.put("b@x", storage.RosterItem{JID: "a@x", Subscription: storage.SubBoth})
	// a thinks it may see d, but d's roster disagrees: no presence of d
	// (and a@x/2's initial presence already cancelled a's subscription,
	// see TestProbeOfStaleSubscription).
	e.put("a@x", storage.RosterItem{JID: "d@x", Subscription: storage.SubTo})
	e.online("d@x/1")
	e.online("b@x/1")
	e.send("b@x/1", `<presence><status>here</status></presence>`)
	e.online("c@x/1")
	e.send("c@x/1", `<presence to="a@x" type="subscribe"/>`) // a is offline: stored
	e.online("a@x/2")
	e.drain()
	e.avail.got = nil

	e.bind("a@x/1")
	e.send("a@x/1", `<iq type="get" id="g"><query xmlns="jabber:iq:roster"/></iq>`)
	e.send("a@x/1", `<presence/>`)
	e.expect(map[string][]string{
		"a@x/1": {
			`<iq type="result" id="g" to="a@x/1"><query xmlns="jabber:iq:roster">` +
				`<item jid="b@x" subscription="both"/><item jid="d@x" subscription="none"/></query></iq>`,
			`<presence from="a@x/1" to="a@x"/>`,
			`<presence from="b@x/1" to="a@x/1"><status>here</status></presence>`,
			`<presence from="a@x/2" to="a@x/1"/>`,
			`<presence from="c@x" to="a@x" type="subscribe"/>`,
		},
		"a@x/2": {`<presence from="a@x/1" to="a@x"/>`},
		"b@x/1": {`<presence from="a@x/1" to="b@x"/>`},
	})
	if !slices.Equal(e.avail.got, []string{"a@x/1"}) {
		t.Errorf("NotifyAvailable for %q, want [a@x/1]", e.avail.got)
	}

	e.send("a@x/1", `<presence><priority>5</priority></presence>`)
	e.expect(map[string][]string{
		"a@x/1": {`<presence from="a@x/1" to="a@x"><priority>5</priority></presence>`},
		"a@x/2": {`<presence from="a@x/1" to="a@x"><priority>5</priority></presence>`},
		"b@x/1": {`<presence from="a@x/1" to="b@x"><priority>5</priority></presence>`},
	})
	if s := e.r.Session(mustJID("a@x/1")); s.Priority() != 5 || !s.Available() {
		t.Errorf("session: priority %d, available %v", s.Priority(), s.Available())
	}
	if len(e.avail.got) != 1 {
		t.Errorf("NotifyAvailable again: %q", e.avail.got)
	}
}

// TestProbeOfStaleSubscription: the user's roster says 'to' but the
// contact's does not say 'from' (the contact's account was deleted and made
// again, say). The contact's server SHOULD answer the probe of the user's
// initial presence with unsubscribed (RFC 6121 §4.3.2), which the user's
// server handles as §3.2.3 says: delivered, then the push of the item with
// the subscription cancelled. A pre-approval survives it.
func TestProbeOfStaleSubscription(t *testing.T) {
	e := newEnv(t, "a@x", "d@x")
	e.put("a@x", storage.RosterItem{JID: "d@x", Subscription: storage.SubTo, PreApproved: true, Name: "D"})
	e.online("d@x/1")
	e.bind("a@x/1")
	e.send("a@x/1", `<iq type="get" id="g"><query xmlns="jabber:iq:roster"/></iq>`)
	e.take("a@x/1")
	e.send("a@x/1", `<presence/>`)
	e.expect(map[string][]string{
		"a@x/1": {
			`<presence from="a@x/1" to="a@x"/>`,
			`<presence from="d@x" to="a@x" type="unsubscribed"/>`,
			push("a@x/1", `<item jid="d@x" name="D" subscription="none" approved="true"/>`),
		},
	})
	// Consistent rosters: nothing of the kind.
	e.put("a@x", storage.RosterItem{JID: "d@x", Subscription: storage.SubTo})
	e.put("d@x", storage.RosterItem{JID: "a@x", Subscription: storage.SubFrom})
	e.bind("a@x/2")
	e.send("a@x/2", `<presence/>`)
	e.expect(map[string][]string{
		"a@x/1": {`<presence from="a@x/2" to="a@x"/>`},
		"a@x/2": {`<presence from="a@x/2" to="a@x"/>`, `<presence from="d@x/1" to="a@x/2"/>`, `<presence from="a@x/1" to="a@x/2"/>`},
	})
}

// TestPendingRequestRedelivery checks a request made while the contact was
// offline reaches each new session until answered (RFC 6121 §3.1.3), and
// that the hidden item it created is never shown.
func TestPendingRequestRedelivery(t *testing.T) {
	e := newEnv(t, "a@x", "b@x")
	e.online("b@x/1")
	e.send("b@x/1", `<presence to="a@x" type="subscribe"/>`)
	e.drain()
	if got := stateOf(e.item("a@x", "b@x")); got != "none+in+hidden" {
		t.Fatalf("a's item: %s", got)
	}
	for _, full := range []string{"a@x/1", "a@x/2"} {
		e.bind(full)
		e.send(full, `<iq type="get" id="g"><query xmlns="jabber:iq:roster" ver=""/></iq>`)
		e.send(full, `<presence/>`)
		want := map[string][]string{full: {
			`<iq type="result" id="g" to="` + full + `"><query xmlns="jabber:iq:roster" ver="V"/></iq>`,
			`<presence from="` + full + `" to="a@x"/>`,
			`<presence from="b@x" to="a@x" type="subscribe"/>`,
		}}
		if full == "a@x/2" {
			want["a@x/1"] = []string{`<presence from="a@x/2" to="a@x"/>`}
			want[full] = slices.Insert(want[full], 2, `<presence from="a@x/1" to="a@x/2"/>`)
		}
		e.expect(want)
	}
	// Denying the request drops the hidden item without a push.
	e.send("a@x/2", `<presence to="b@x" type="unsubscribed"/>`)
	e.expect(map[string][]string{
		"b@x/1": { // the denial ahead of the push (RFC 6121 §3.2.3)
			`<presence to="b@x" type="unsubscribed" from="a@x"/>`,
			push("b@x/1", `<item jid="a@x" subscription="none"/>`),
		},
	})
	if it := e.item("a@x", "b@x"); it != nil {
		t.Errorf("a's item after denial: %s", stateOf(it))
	}
	e.bind("a@x/3")
	e.send("a@x/3", `<presence/>`)
	e.expect(map[string][]string{
		"a@x/1": {`<presence from="a@x/3" to="a@x"/>`},
		"a@x/2": {`<presence from="a@x/3" to="a@x"/>`},
		"a@x/3": {
			`<presence from="a@x/3" to="a@x"/>`,
			`<presence from="a@x/1" to="a@x/3"/>`,
			`<presence from="a@x/2" to="a@x/3"/>`,
		},
	})
}

// TestPreApproval checks RFC 6121 §3.4: a 'subscribed' sent first answers
// the later request without asking the user.
func TestPreApproval(t *testing.T) {
	e := newEnv(t, "a@x", "b@x")
	e.online("a@x/1")
	e.online("b@x/1")
	e.send("a@x/1", `<presence to="b@x" type="subscribed"/>`)
	e.expect(map[string][]string{
		"a@x/1": {push("a@x/1", `<item jid="b@x" subscription="none" approved="true"/>`)},
	})
	e.send("b@x/1", `<presence to="a@x" type="subscribe"/>`)
	e.expect(map[string][]string{
		"a@x/1": {push("a@x/1", `<item jid="b@x" subscription="from"/>`)},
		"b@x/1": {
			push("b@x/1", `<item jid="a@x" subscription="none" ask="subscribe"/>`),
			`<presence from="a@x" to="b@x" type="subscribed"/>`,
			push("b@x/1", `<item jid="a@x" subscription="to"/>`),
			`<presence from="a@x/1" to="b@x"/>`,
		},
	})
}

// TestAnswersReachInterestedResources: RFC 6121 §3.1.6, §3.2.3 and
// §3.3.3 deliver an inbound subscribed, unsubscribed or unsubscribe to
// every interested resource (one that requested the roster), available or
// not, ahead of the roster push it causes; a resource that is neither
// interested nor available gets nothing.
func TestAnswersReachInterestedResources(t *testing.T) {
	e := newEnv(t, "a@x", "b@x")
	e.online("a@x/1")
	e.online("b@x/1")
	e.bind("a@x/roster")
	e.send("a@x/roster", `<iq type="get" id="r"><query xmlns="jabber:iq:roster"/></iq>`)
	e.bind("b@x/roster")
	e.send("b@x/roster", `<iq type="get" id="r"><query xmlns="jabber:iq:roster"/></iq>`)
	e.bind("a@x/bare")
	e.drain()

	e.send("a@x/1", `<presence to="b@x" type="subscribe"/>`)
	e.drain()
	e.send("b@x/1", `<presence to="a@x" type="subscribed"/>`)
	e.take("b@x/1")
	e.take("b@x/roster")
	subscribed := `<presence to="a@x" type="subscribed" from="b@x"/>`
	pushTo := func(full string) string { return push(full, `<item jid="b@x" subscription="to"/>`) }
	e.expect(map[string][]string{
		"a@x/1":      {subscribed, pushTo("a@x/1"), `<presence from="b@x/1" to="a@x"/>`},
		"a@x/roster": {subscribed, pushTo("a@x/roster")},
	})

	e.send("a@x/1", `<presence to="b@x" type="unsubscribe"/>`)
	e.take("a@x/1")
	e.take("a@x/roster")
	unsubscribe := `<presence to="b@x" type="unsubscribe" from="a@x"/>`
	pushNone := func(full string) string { return push(full, `<item jid="a@x" subscription="none"/>`) }
	e.expect(map[string][]string{
		"b@x/1":      {unsubscribe, pushNone("b@x/1")},
		"b@x/roster": {unsubscribe, pushNone("b@x/roster")},
	})

	e.send("b@x/1", `<presence to="a@x" type="subscribe"/>`)
	e.send("a@x/1", `<presence to="b@x" type="subscribed"/>`)
	e.drain()
	e.send("a@x/1", `<presence to="b@x" type="unsubscribed"/>`)
	e.take("a@x/1")
	e.take("a@x/roster")
	e.expect(map[string][]string{
		"b@x/1": {`<presence type="unavailable" from="a@x/1" to="b@x"/>`,
			`<presence to="b@x" type="unsubscribed" from="a@x"/>`, pushNone("b@x/1")},
		"b@x/roster": {`<presence to="b@x" type="unsubscribed" from="a@x"/>`, pushNone("b@x/roster")},
	})
}

// TestRemoveItem checks a roster remove cancels both directions first
// (RFC 6121 §2.5.2).
func TestRemoveItem(t *testing.T) {
	e := newEnv(t, "a@x", "b@x", "c@x")
	e.put("a@x", storage.RosterItem{JID: "b@x", Subscription: storage.SubBoth, Groups: []string{"G"}})
	e.put("b@x", storage.RosterItem{JID: "a@x", Subscription: storage.SubBoth})
	e.online("a@x/1")
	e.online("b@x/1")
	e.send("a@x/1", `<iq type="set" id="rm"><query xmlns="jabber:iq:roster"><item jid="b@x" subscription="remove"/></query></iq>`)
	e.expect(map[string][]string{
		"a@x/1": {
			`<presence type="unavailable" from="b@x/1" to="a@x"/>`,
			push("a@x/1", `<item jid="b@x" subscription="remove"/>`),
			`<iq type="result" id="rm" to="a@x/1"/>`,
		},
		"b@x/1": { // §3.3.3, then §3.2.2 (unavailable first) and §3.2.3
			`<presence from="a@x" to="b@x" type="unsubscribe"/>`,
			push("b@x/1", `<item jid="a@x" subscription="to"/>`),
			`<presence type="unavailable" from="a@x/1" to="b@x"/>`,
			`<presence from="a@x" to="b@x" type="unsubscribed"/>`,
			push("b@x/1", `<item jid="a@x" subscription="none"/>`),
		},
	})
	if it := e.item("a@x", "b@x"); it != nil {
		t.Errorf("a's item still there: %s", stateOf(it))
	}
	if got := stateOf(e.item("b@x", "a@x")); got != "none" {
		t.Errorf("b's item: %s", got)
	}

	// A pending request either way is withdrawn too; c never added a, so
	// c's hidden item goes without a trace.
	e.online("c@x/1")
	e.send("a@x/1", `<presence to="c@x" type="subscribe"/>`)
	e.drain()
	e.send("a@x/1", `<iq type="set" id="rm2"><query xmlns="jabber:iq:roster"><item jid="c@x" subscription="remove"/></query></iq>`)
	e.expect(map[string][]string{
		"a@x/1": {
			push("a@x/1", `<item jid="c@x" subscription="remove"/>`),
			`<iq type="result" id="rm2" to="a@x/1"/>`,
		},
		"c@x/1": {`<presence from="a@x" to="c@x" type="unsubscribe"/>`},
	})
	if it := e.item("c@x", "a@x"); it != nil {
		t.Errorf("c's item still there: %s", stateOf(it))
	}
}

// TestBroadcastAudience checks who gets broadcast presence: subscribers
// ('from', 'both') and the account's own available resources, never
// contacts with only 'to' or none, nor resources not yet available.
func TestBroadcastAudience(t *testing.T) {
	e := newEnv(t, "a@x", "from@x", "to@x", "none@x", "both@y")
	for c, sub := range map[string]string{"from@x": "from", "to@x": "to", "none@x": "none", "both@y": "both"} {
		e.put("a@x", storage.RosterItem{JID: c, Subscription: sub})
	}
	for _, full := range []string{"from@x/1", "to@x/1", "none@x/1", "both@y/1"} {
		e.online(full)
	}
	e.bind("from@x/idle") // bound, no initial presence
	e.bind("a@x/idle")
	e.online("a@x/1")
	e.send("a@x/1", `<presence><status>s</status></presence>`)
	e.expect(map[string][]string{
		"a@x/1":    {`<presence from="a@x/1" to="a@x"><status>s</status></presence>`},
		"from@x/1": {`<presence from="a@x/1" to="from@x"><status>s</status></presence>`},
		"both@y/1": {`<presence from="a@x/1" to="both@y"><status>s</status></presence>`},
	})
}

// TestUnavailable checks explicit unavailable presence and the implicit
// one when a session ends (RFC 6121 §4.5).
func TestUnavailable(t *testing.T) {
	e := newEnv(t, "a@x", "b@x")
	e.put("a@x", storage.RosterItem{JID: "b@x", Subscription: storage.SubBoth})
	e.put("b@x", storage.RosterItem{JID: "a@x", Subscription: storage.SubBoth})
	a1 := e.online("a@x/1")
	a2 := e.online("a@x/2")
	e.online("b@x/1")
	idle := e.bind("a@x/idle")
	e.drain()

	e.send("a@x/1", `<presence type="unavailable"><status>bye</status></presence>`)
	e.expect(map[string][]string{
		"a@x/2": {`<presence type="unavailable" from="a@x/1" to="a@x"><status>bye</status></presence>`},
		"b@x/1": {`<presence type="unavailable" from="a@x/1" to="b@x"><status>bye</status></presence>`},
	})
	if a1.Available() || a1.Presence() != nil {
		t.Error("a@x/1 still available")
	}
	// Unavailable again, and ending an unavailable session: nothing.
	e.send("a@x/1", `<presence type="unavailable"/>`)
	e.r.Unbind(e.ctx, a1)
	e.r.Unbind(e.ctx, idle)
	e.expect(nil)

	e.r.Unbind(e.ctx, a2)
	e.expect(map[string][]string{
		"b@x/1": {`<presence type="unavailable" from="a@x/2" to="b@x"/>`},
	})
	if a2.Available() {
		t.Error("a@x/2 still available after it ended")
	}

	// A session taken over by a new one with the same resource ends too.
	e.online("a@x/3")
	e.drain()
	e.bind("a@x/3")
	e.expect(map[string][]string{
		"b@x/1": {`<presence type="unavailable" from="a@x/3" to="b@x"/>`},
	})
}

// TestDirectedPresence checks presence sent to a JID is delivered and
// remembered, and that its recipients learn when the sender goes away
// (RFC 6121 §4.6).
func TestDirectedPresence(t *testing.T) {
	e := newEnv(t, "a@x", "b@x", "c@x", "d@x")
	e.put("a@x", storage.RosterItem{JID: "b@x", Subscription: storage.SubFrom})
	e.put("b@x", storage.RosterItem{JID: "a@x", Subscription: storage.SubTo})
	a1 := e.online("a@x/1")
	e.online("b@x/1")
	e.online("c@x/1")
	e.online("d@x/1")
	e.drain()

	steps := []struct {
		send string
		want map[string][]string
	}{
		{`<presence to="c@x"/>`, map[string][]string{"c@x/1": {`<presence to="c@x" from="a@x/1"/>`}}},
		{`<presence to="d@x/1"><show>dnd</show></presence>`,
			map[string][]string{"d@x/1": {`<presence to="d@x/1" from="a@x/1"><show>dnd</show></presence>`}}},
		{`<presence to="d@x/1" type="unavailable"/>`,
			map[string][]string{"d@x/1": {`<presence to="d@x/1" type="unavailable" from="a@x/1"/>`}}},
		{`<presence to="b@x/1"/>`, map[string][]string{"b@x/1": {`<presence to="b@x/1" from="a@x/1"/>`}}},
		{`<presence to="d@x/nope"/>`, nil}, // unbound resource
		{`<presence to="nobody@x"/>`, nil}, // no such account: silently dropped
		// No server-to-server: a remote JID is unroutable (RFC 6120 §10.4.3).
		{`<presence to="e@remote.example"/>`, map[string][]string{"a@x/1": {
			`<presence from="e@remote.example" to="a@x/1" type="error">` + remoteServerNotFound + `</presence>`}}},
		{`<presence to="x"/>`, nil},
		// The broadcast covers b; c gets its own unavailable; d was told.
		{`<presence type="unavailable"/>`, map[string][]string{
			"b@x/1": {`<presence type="unavailable" from="a@x/1" to="b@x"/>`},
			"c@x/1": {`<presence type="unavailable" from="a@x/1" to="c@x"/>`},
		}},
		// Directed presence while unavailable is remembered too.
		{`<presence to="c@x/1"/>`, map[string][]string{"c@x/1": {`<presence to="c@x/1" from="a@x/1"/>`}}},
	}
	for i, st := range steps {
		e.send("a@x/1", st.send)
		t.Logf("step %d: %s", i, st.send)
		e.expect(st.want)
	}
	e.r.Unbind(e.ctx, a1)
	e.expect(map[string][]string{
		"c@x/1": {`<presence type="unavailable" from="a@x/1" to="c@x/1"/>`},
	})
}

// TestBadPresence checks stanzas answered with errors, ignored, or routed
// only to a full JID.
func TestBadPresence(t *testing.T) {
	const badRequest = `<error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>` +
		`<text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">`
	tests := []struct {
		name, send string
		want       map[string][]string
	}{
		{"unknown type", `<presence id="p" type="away"/>`, map[string][]string{"a@x/1": {
			`<presence id="p" to="a@x/1" type="error">` + badRequest + `unknown presence type</text></error></presence>`}}},
		{"priority too high", `<presence id="p"><priority>128</priority></presence>`, map[string][]string{"a@x/1": {
			`<presence id="p" to="a@x/1" type="error"><priority>128</priority>` + badRequest +
				`priority must be an integer from -128 to 127</text></error></presence>`}}},
		{"priority not a number", `<presence to="b@x"><priority>high</priority></presence>`, map[string][]string{"a@x/1": {
			`<presence from="b@x" to="a@x/1" type="error"><priority>high</priority>` + badRequest +
				`priority must be an integer from -128 to 127</text></error></presence>`}}},
		{"bad show", `<presence><show>busy</show></presence>`, map[string][]string{"a@x/1": {
			`<presence to="a@x/1" type="error"><show>busy</show>` + badRequest + `unknown show value</text></error></presence>`}}},
		{"subscribe without to", `<presence type="subscribe"/>`, map[string][]string{"a@x/1": {
			`<presence to="a@x/1" type="error">` + badRequest + `subscription stanza without 'to'</text></error></presence>`}}},
		// A client's probe is processed (RFC 6121 §4.3): the subscribed
		// prober gets the contact's presence.
		{"probe answered", `<presence to="b@x" type="probe"/>`, map[string][]string{"a@x/1": {
			`<presence from="b@x/1" to="a@x/1"/>`}}},
		{"probe of oneself ignored", `<presence to="a@x" type="probe"/>`, nil},
		{"error to full JID", `<presence to="b@x/1" type="error"/>`, map[string][]string{"b@x/1": {
			`<presence to="b@x/1" type="error" from="a@x/1"/>`}}},
		{"error to bare JID dropped", `<presence to="b@x" type="error"/>`, nil},
		{"subscribe to oneself ignored", `<presence to="a@x" type="subscribe"/>`, nil},
		{"lowest priority", `<presence><priority>-128</priority></presence>`, map[string][]string{
			"a@x/1": {`<presence from="a@x/1" to="a@x"><priority>-128</priority></presence>`, `<presence from="b@x/1" to="a@x/1"/>`},
			"b@x/1": {`<presence from="a@x/1" to="b@x"><priority>-128</priority></presence>`},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "a@x", "b@x")
			e.put("a@x", storage.RosterItem{JID: "b@x", Subscription: storage.SubBoth})
			e.put("b@x", storage.RosterItem{JID: "a@x", Subscription: storage.SubBoth})
			e.bind("a@x/1").SetInterested()
			e.online("b@x/1")
			e.send("a@x/1", tc.send)
			e.expect(tc.want)
			if it := e.item("a@x", "a@x"); it != nil {
				t.Errorf("item for oneself: %s", stateOf(it))
			}
		})
	}
}

// remoteServerNotFound is the error element of a stanza bounced for want
// of server-to-server.
const remoteServerNotFound = `<error type="cancel"><remote-server-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`

// TestUnknownAndRemoteContacts checks that subscribing to an account that
// does not exist looks exactly like subscribing to one that never answers,
// and that subscription stanzas to a remote domain change the local side,
// then are answered with remote-server-not-found (no server-to-server yet,
// RFC 6120 §10.4.3) whenever they would have been routed: a pre-approval
// stays local.
func TestUnknownAndRemoteContacts(t *testing.T) {
	e := newEnv(t, "a@x")
	e.online("a@x/1")
	for _, c := range []string{"nobody@x", "r@remote.example"} {
		bounce := func() []string {
			if c == "nobody@x" {
				return nil
			}
			return []string{`<presence from="` + c + `" to="a@x/1" type="error">` + remoteServerNotFound + `</presence>`}
		}
		e.send("a@x/1", `<presence to="`+c+`" type="subscribe"/>`)
		e.expect(map[string][]string{"a@x/1": append([]string{push("a@x/1", `<item jid="`+c+`" subscription="none" ask="subscribe"/>`)}, bounce()...)})
		e.send("a@x/1", `<presence to="`+c+`" type="subscribed"/>`)
		e.expect(map[string][]string{"a@x/1": {push("a@x/1", `<item jid="`+c+`" subscription="none" ask="subscribe" approved="true"/>`)}})
		e.send("a@x/1", `<presence to="`+c+`" type="unsubscribe"/>`)
		e.expect(map[string][]string{"a@x/1": append([]string{push("a@x/1", `<item jid="`+c+`" subscription="none" approved="true"/>`)}, bounce()...)})
		e.send("a@x/1", `<presence to="`+c+`" type="unsubscribed"/>`)
		e.expect(map[string][]string{"a@x/1": append([]string{push("a@x/1", `<item jid="`+c+`" subscription="none"/>`)}, bounce()...)})
	}
}

// TestRemoveRemoteContact: removing a remote contact with a subscription
// both ways removes it; what the removal would send the contact
// (unsubscribe, unsubscribed) has no route and no client stanza to answer,
// so nothing comes back.
func TestRemoveRemoteContact(t *testing.T) {
	e := newEnv(t, "a@x")
	e.put("a@x", storage.RosterItem{JID: "r@remote.example", Subscription: storage.SubBoth})
	e.bind("a@x/1").SetInterested()
	e.send("a@x/1", `<iq type="set" id="rm"><query xmlns="jabber:iq:roster"><item jid="r@remote.example" subscription="remove"/></query></iq>`)
	e.expect(map[string][]string{"a@x/1": {
		push("a@x/1", `<item jid="r@remote.example" subscription="remove"/>`),
		`<iq type="result" id="rm" to="a@x/1"/>`,
	}})
	if it := e.item("a@x", "r@remote.example"); it != nil {
		t.Errorf("item kept: %s", stateOf(it))
	}
}
