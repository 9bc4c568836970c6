package server_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestBookmarksMoreThanTheNodeHolds: urn:xmpp:bookmarks:1 keeps at most
// [pep] max_items items ("max"), so a private XML list (or an XEP-0048
// list published to storage:bookmarks) with more rooms cannot be
// converted. Publishing it item by item would evict the oldest items,
// and the next get, which reads the node, would have lost those
// bookmarks; each set of the list again would publish the evicted ones
// anew. The set is refused (policy-violation) with nothing changed; the
// PEP publish of such a list converts nothing.
func TestBookmarksMoreThanTheNodeHolds(t *testing.T) {
	s := startServerConfig(t, loadConfigFile(t, "[pep]\nmax_items = 3\n"), nil, nil)
	c := newAccount(t, s, "many", "legacy")
	list := func(n int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "<storage xmlns='%s'>", nsBookmarks)
		for i := range n {
			fmt.Fprintf(&b, "<conference jid='room%d@conference.localhost' autojoin='true'/>", i)
		}
		b.WriteString("</storage>")
		return b.String()
	}
	set := func(id string, n int) (string, string) {
		got, el := ask(t, c, id, fmt.Sprintf(`<iq type='set' id='%s'><query xmlns='%s'>%s</query></iq>`, id, privateQueryNS, list(n)))
		return got, el.String()
	}
	if got, el := set("s1", 3); got != "result" {
		t.Fatalf("3 bookmarks, as many as the node holds: %s", el)
	}
	if got, el := set("s2", 4); got != "policy-violation" {
		t.Fatalf("4 bookmarks: got %s (%s), want policy-violation", got, el)
	}
	if n := len(pepBookmarks(t, c, "p1")); n != 3 {
		t.Fatalf("after the refused set: %d items in the node, want the 3 of before", n)
	}
	if n := len(privateBookmarks(t, c, "g1").ChildrenNamed(nsBookmarks, "conference")); n != 3 {
		t.Fatalf("after the refused set: a get answers %d bookmarks, want 3", n)
	}

	// The same list published by an XEP-0048 client over PEP: the
	// publish is its own (a node of the account's), the conversion is
	// not made.
	mustResult(t, c, "pub", fmt.Sprintf(`<iq type='set' id='pub'><pubsub xmlns='%s'><publish node='%s'><item id='current'>%s</item></publish></pubsub></iq>`, nsPubSub, nsBookmarks, list(5)))
	items := pepBookmarks(t, c, "p2")
	if len(items) != 3 || items["room0@conference.localhost"] == nil {
		t.Fatalf("after a 5-room list published to %s: items %v, want the 3 of before", nsBookmarks, items)
	}
}

// TestBookmarksRoomJIDLongerThanAnItemID: a room JID may be longer than
// the 1024 bytes pep takes as an item id. Such a bookmark cannot be an
// item of urn:xmpp:bookmarks:1; like a conference without a bare room
// JID it stays in private XML only, instead of the whole set being
// refused for an item id the client never sent.
func TestBookmarksRoomJIDLongerThanAnItemID(t *testing.T) {
	s := startServer(t, nil, nil)
	c := newAccount(t, s, "longroom", "legacy")
	long := strings.Repeat("r", 1023) + "@conference.localhost"
	list := fmt.Sprintf("<storage xmlns='%s'><conference jid='%s' name='long'/><conference jid='short@conference.localhost' name='short'/></storage>", nsBookmarks, long)
	if got, el := ask(t, c, "s", fmt.Sprintf(`<iq type='set' id='s'><query xmlns='%s'>%s</query></iq>`, privateQueryNS, list)); got != "result" {
		t.Fatalf("set: %s", el)
	}
	if items := pepBookmarks(t, c, "p"); len(items) != 1 || items["short@conference.localhost"] == nil {
		t.Fatalf("node items %v, want the short room's only", items)
	}
	got := privateBookmarks(t, c, "g")
	if conferenceOf(got, long) == nil || conferenceOf(got, "short@conference.localhost") == nil {
		t.Fatalf("get: %s, want both bookmarks", got)
	}
}
