package pep

import (
	"strconv"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
)

// payloadOf is an item payload of exactly size bytes as stored.
func payloadOf(size int) string {
	const open, end = `<x xmlns="urn:x">`, `</x>`
	return open + strings.Repeat("a", size-len(open)-len(end)) + end
}

func publishReq(id, node, itemID, payload string) string {
	return `<iq type="set" id="` + id + `"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="` + node + `"><item id="` + itemID + `">` + payload + `</item></publish></pubsub></iq>`
}

func publishResult(id, node, itemID string) string {
	return `<iq xmlns="jabber:client" type="result" id="` + id + `" to="romeo@example.org/home"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="` + node + `"><item id="` + itemID + `"/></publish></pubsub></iq>`
}

// TestPublishLimits: an item over max_item_bytes is refused with
// not-acceptable + <payload-too-big/> (XEP-0060 §7.1.3) before any node is
// created; a publish that would take the account over
// max_bytes_per_account is refused with policy-violation and stores
// nothing; replacing an item counts only the difference.
func TestPublishLimits(t *testing.T) {
	e := setupWith(t, func(c *Config) { c.MaxItemBytes, c.MaxBytesPerAccount, c.MaxReplyBytes = 200, 300, 1000 })
	s, rec := e.Bind(romeo+"/home", true, 0)
	const to = "romeo@example.org/home"
	quota := `<iq xmlns="jabber:client" id="%s" to="romeo@example.org/home" type="error"><error type="modify"><policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">the account's PEP items would exceed 300 bytes</text></error></iq>`
	for _, tc := range []struct {
		name, req, want string
	}{
		{"item over max_item_bytes", publishReq("p1", "big", "1", payloadOf(200)), errorReply(to, "", "p1", "modify", "not-acceptable", "payload-too-big")},
		{"item at max_item_bytes", publishReq("p2", "a", "1", payloadOf(199)), publishResult("p2", "a", "1")},
		{"second node over the quota", publishReq("p3", "b", "2", payloadOf(150)), strings.Replace(quota, "%s", "p3", 1)},
		{"second node within the quota", publishReq("p4", "b", "2", payloadOf(99)), publishResult("p4", "b", "2")},
		{"replacement that grows over the quota", publishReq("p5", "b", "2", payloadOf(101)), strings.Replace(quota, "%s", "p5", 1)},
		{"replacement that shrinks", publishReq("p6", "a", "1", payloadOf(100)), publishResult("p6", "a", "1")},
		{"replacement that grows within the quota", publishReq("p7", "b", "2", payloadOf(150)), publishResult("p7", "b", "2")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.Send(s, tc.req)
			routertest.Expect(t, rec, tc.want)
		})
	}
	if _, err := e.Store.PEPNode(t.Context(), romeo, "big"); err == nil {
		t.Error("a publish refused as too big created its node")
	}
	for node, wantLen := range map[string]int{"a": 100, "b": 150} {
		items, err := e.Store.PEPItems(t.Context(), romeo, node, nil, 0)
		if err != nil || len(items) != 1 || len(items[0].Payload) != wantLen {
			t.Errorf("node %s holds %d items (%v), want one of %d bytes", node, len(items), err, wantLen)
		}
	}
}

// TestItemsReplyBounded: an items reply holds at most max_reply_bytes
// of items; when the requested items do not fit, it holds the newest
// that do, oldest first, and an RSM <set/> with the count of items
// requested and the index of the first sent (XEP-0060 §6.5.4).
func TestItemsReplyBounded(t *testing.T) {
	// Each item takes 1+100 bytes plus the 32 of its wrapper: 133; three
	// fit in 400.
	e := setupWith(t, func(c *Config) { c.MaxItemBytes, c.MaxReplyBytes = 200, 400 })
	s, rec := e.Bind(romeo+"/home", true, 0)
	e.Send(s, `<iq type="set" id="c"><pubsub xmlns="http://jabber.org/protocol/pubsub"><create node="n"/><configure><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/pubsub#node_config</value></field><field var="pubsub#max_items"><value>5</value></field></x></configure></pubsub></iq>`)
	routertest.Expect(t, rec, result("romeo@example.org/home", "c"))
	for i := 1; i <= 5; i++ {
		id := strconv.Itoa(i)
		e.Send(s, publishReq("p"+id, "n", id, payloadOf(100)))
		routertest.Expect(t, rec, publishResult("p"+id, "n", id))
	}
	item := func(id string) string { return `<item id="` + id + `">` + payloadOf(100) + `</item>` }
	reply := func(id, items, set string) string {
		return `<iq xmlns="jabber:client" type="result" id="` + id + `" to="romeo@example.org/home"><pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="n">` + items + `</items>` + set + `</pubsub></iq>`
	}
	for _, tc := range []struct {
		name, req, want string
	}{
		{"all items: the newest three and a set", `<items node="n"/>`,
			reply("g", item("3")+item("4")+item("5"), `<set xmlns="http://jabber.org/protocol/rsm"><first index="2">3</first><last>5</last><count>5</count></set>`)},
		{"max_items that fit: no set", `<items node="n" max_items="2"/>`, reply("g", item("4")+item("5"), "")},
		{"max_items that do not fit", `<items node="n" max_items="4"/>`,
			reply("g", item("3")+item("4")+item("5"), `<set xmlns="http://jabber.org/protocol/rsm"><first index="1">3</first><last>5</last><count>4</count></set>`)},
		{"by ids that do not fit", `<items node="n"><item id="1"/><item id="2"/><item id="5"/><item id="4"/></items>`,
			reply("g", item("2")+item("4")+item("5"), `<set xmlns="http://jabber.org/protocol/rsm"><first index="1">2</first><last>5</last><count>4</count></set>`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.Send(s, `<iq type="get" id="g"><pubsub xmlns="http://jabber.org/protocol/pubsub">`+tc.req+`</pubsub></iq>`)
			routertest.Expect(t, rec, tc.want)
		})
	}
}
