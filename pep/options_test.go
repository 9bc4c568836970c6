package pep

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/storage"
)

func publishWithOptions(node, id string, fields ...[2]string) string {
	s := `<iq type="set" id="` + id + `"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="` + node + `"><item id="current"><x xmlns="urn:x"/></item></publish><publish-options><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/pubsub#publish-options</value></field>`
	for _, f := range fields {
		s += `<field var="` + f[0] + `"><value>` + f[1] + `</value></field>`
	}
	return s + `</x></publish-options></pubsub></iq>`
}

func publishedResult(node, id string) string {
	return `<iq xmlns="jabber:client" type="result" id="` + id + `" to="romeo@example.org/home"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="` + node + `"><item id="current"/></publish></pubsub></iq>`
}

// TestPublishOptions covers XEP-0060 §7.1.5 as XEP-0223, XEP-0384 and
// XEP-0402 use it: options configure an auto-created node, options the
// node meets let the publish through, others are refused with conflict +
// <precondition-not-met/> and change nothing.
func TestPublishOptions(t *testing.T) {
	e := setup(t)
	s, rec := e.Bind(romeo+"/home", true, 0)
	const bookmarks = "urn:xmpp:bookmarks:1"
	opts := [][2]string{
		{"pubsub#persist_items", "true"}, {"pubsub#max_items", "max"},
		{"pubsub#send_last_published_item", "never"}, {"pubsub#access_model", "whitelist"},
	}
	e.Send(s, publishWithOptions(bookmarks, "p1", opts...))
	routertest.Expect(t, rec, publishedResult(bookmarks, "p1"))
	n, err := e.Store.PEPNode(t.Context(), romeo, bookmarks)
	if err != nil {
		t.Fatal(err)
	}
	want := storage.PEPNodeConfig{AccessModel: "whitelist", PersistItems: true, MaxItems: 5, SendLastPublishedItem: "never", NotifyRetract: true, DeliverPayloads: true}
	if n.Config != want {
		t.Errorf("auto-created config %+v, want %+v", n.Config, want)
	}
	e.Send(s, publishWithOptions(bookmarks, "p2", opts...))
	routertest.Expect(t, rec, publishedResult(bookmarks, "p2"))
	e.Send(s, publishWithOptions(bookmarks, "p3", [2]string{"pubsub#max_items", "5"}, [2]string{"pubsub#deliver_notifications", "1"}))
	routertest.Expect(t, rec, publishedResult(bookmarks, "p3"))

	const to = "romeo@example.org/home"
	for _, tc := range []struct {
		name   string
		fields [][2]string
	}{
		{"other access model", [][2]string{{"pubsub#access_model", "open"}}},
		{"other max_items", [][2]string{{"pubsub#max_items", "1"}}},
		{"unknown field", [][2]string{{"pubsub#title", "Bookmarks"}}},
		{"bad value", [][2]string{{"pubsub#persist_items", "maybe"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.Send(s, publishWithOptions(bookmarks, "x", tc.fields...))
			routertest.Expect(t, rec, errorReply(to, "", "x", "cancel", "conflict", "precondition-not-met"))
		})
	}
	// A new node whose options Skald cannot honour is not created.
	e.Send(s, publishWithOptions("urn:example:roster", "r1", [2]string{"pubsub#access_model", "roster"}))
	routertest.Expect(t, rec, errorReply(to, "", "r1", "cancel", "conflict", "precondition-not-met"))
	if _, err := e.Store.PEPNode(t.Context(), romeo, "urn:example:roster"); err == nil {
		t.Error("node created with refused options")
	}
	n, _ = e.Store.PEPNode(t.Context(), romeo, bookmarks)
	if n.Config != want {
		t.Errorf("refused options changed the node: %+v", n.Config)
	}
}

// TestClientPublishOptions publishes with the publish-options that
// Conversations and Gajim send (XEP-0402 bookmarks, XEP-0384 device list):
// they include pubsub#notify_delete=true, which Skald always does
// (XEP-0060 §8.4.2), so the node is auto-created and later publishes with
// the same options pass (§7.1.5); notify_delete=false cannot be honoured.
func TestClientPublishOptions(t *testing.T) {
	e := setup(t)
	s, rec := e.Bind(romeo+"/home", true, 0)
	for _, tc := range []struct {
		client, node string
		fields       [][2]string
	}{
		{"Conversations bookmarks", "urn:xmpp:bookmarks:1", [][2]string{
			{"pubsub#persist_items", "true"}, {"pubsub#access_model", "whitelist"},
			{"pubsub#send_last_published_item", "never"}, {"pubsub#max_items", "max"},
			{"pubsub#notify_delete", "true"}, {"pubsub#notify_retract", "true"}}},
		{"Conversations device list", "eu.siacs.conversations.axolotl.devicelist", [][2]string{
			{"pubsub#access_model", "open"}, {"pubsub#notify_delete", "true"}}},
	} {
		t.Run(tc.client, func(t *testing.T) {
			for _, id := range []string{"first", "again"} {
				e.Send(s, publishWithOptions(tc.node, id, tc.fields...))
				routertest.Expect(t, rec, publishedResult(tc.node, id))
			}
		})
	}
	e.Send(s, publishWithOptions("urn:xmpp:bookmarks:1", "off", [2]string{"pubsub#notify_delete", "false"}))
	routertest.Expect(t, rec, errorReply(romeo+"/home", "", "off", "cancel", "conflict", "precondition-not-met"))
}

// TestNodeQuota: the max_nodes-th+1 node is refused (not-allowed +
// <max-nodes-exceeded/>).
func TestNodeQuota(t *testing.T) {
	e := setup(t)
	s, rec := e.Bind(romeo+"/home", true, 0)
	for _, n := range []string{"a", "b", "c"} {
		e.Send(s, `<iq type="set" id="c-`+n+`"><pubsub xmlns="http://jabber.org/protocol/pubsub"><create node="`+n+`"/></pubsub></iq>`)
		routertest.Expect(t, rec, result(romeo+"/home", "c-"+n))
	}
	e.Send(s, `<iq type="set" id="p"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="d"><item><x xmlns="urn:x"/></item></publish></pubsub></iq>`)
	routertest.Expect(t, rec, errorReply(romeo+"/home", "", "p", "cancel", "not-allowed", "max-nodes-exceeded"))
}
