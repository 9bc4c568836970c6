package pep

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
)

const nodeConfigForm = `<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/pubsub#node_config</value></field>`

// TestCreateConfigureDelete covers XEP-0060 §8.1, §8.2 and §8.4 with
// their errors.
func TestCreateConfigureDelete(t *testing.T) {
	e := setup(t)
	s, rec := e.Bind(romeo+"/home", true, 0)
	const to = romeo + "/home"
	steps := []struct {
		name, req, want string
	}{
		{"create", `<iq type="set" id="c1"><pubsub xmlns="http://jabber.org/protocol/pubsub"><create node="n"/></pubsub></iq>`, result(to, "c1")},
		{"create again", `<iq type="set" id="c2"><pubsub xmlns="http://jabber.org/protocol/pubsub"><create node="n"/></pubsub></iq>`,
			errorReply(to, "", "c2", "cancel", "conflict", "")},
		{"instant node", `<iq type="set" id="c3"><pubsub xmlns="http://jabber.org/protocol/pubsub"><create/></pubsub></iq>`,
			errorReply(to, "", "c3", "modify", "not-acceptable", "nodeid-required")},
		{"roster access model", `<iq type="set" id="c4"><pubsub xmlns="http://jabber.org/protocol/pubsub"><create node="r"/><configure>` + nodeConfigForm + `<field var="pubsub#access_model"><value>roster</value></field></x></configure></pubsub></iq>`,
			errorReply(to, "", "c4", "modify", "not-acceptable", "unsupported-access-model")},
		{"create on another account", `<iq type="set" id="c5" to="juliet@example.org"><pubsub xmlns="http://jabber.org/protocol/pubsub"><create node="n"/></pubsub></iq>`,
			errorReply(to, "juliet@example.org", "c5", "auth", "forbidden", "")},
		{"get config", `<iq type="get" id="g1"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><configure node="n"/></pubsub></iq>`,
			`<iq xmlns="jabber:client" type="result" id="g1" to="romeo@example.org/home"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><configure node="n"><x xmlns="jabber:x:data" type="form">` +
				`<field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/pubsub#node_config</value></field>` +
				`<field var="pubsub#access_model" type="list-single"><value>presence</value></field>` +
				`<field var="pubsub#deliver_notifications" type="boolean"><value>1</value></field>` +
				`<field var="pubsub#deliver_payloads" type="boolean"><value>1</value></field>` +
				`<field var="pubsub#max_items" type="text-single"><value>1</value></field>` +
				`<field var="pubsub#notify_delete" type="boolean"><value>1</value></field>` +
				`<field var="pubsub#notify_retract" type="boolean"><value>1</value></field>` +
				`<field var="pubsub#persist_items" type="boolean"><value>1</value></field>` +
				`<field var="pubsub#send_last_published_item" type="list-single"><value>on_sub_and_presence</value></field>` +
				`</x></configure></pubsub></iq>`},
		{"configure", `<iq type="set" id="s1"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><configure node="n">` + nodeConfigForm + `<field var="pubsub#access_model"><value>open</value></field><field var="pubsub#max_items"><value>99</value></field></x></configure></pubsub></iq>`,
			result(to, "s1")},
		{"configure badly", `<iq type="set" id="s2"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><configure node="n">` + nodeConfigForm + `<field var="pubsub#max_items"><value>-1</value></field></x></configure></pubsub></iq>`,
			`<iq xmlns="jabber:client" id="s2" to="romeo@example.org/home" type="error"><error type="modify"><not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">unsupported node configuration</text></error></iq>`},
		{"configure missing node", `<iq type="set" id="s3"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><configure node="nope">` + nodeConfigForm + `</x></configure></pubsub></iq>`,
			errorReply(to, "", "s3", "cancel", "item-not-found", "")},
		{"configure another account's node", `<iq type="get" id="s4" to="juliet@example.org"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><configure node="n"/></pubsub></iq>`,
			errorReply(to, "juliet@example.org", "s4", "auth", "forbidden", "")},
		{"delete without node", `<iq type="set" id="d0"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><delete/></pubsub></iq>`,
			errorReply(to, "", "d0", "modify", "bad-request", "nodeid-required")},
		{"delete", `<iq type="set" id="d1"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><delete node="n"/></pubsub></iq>`, result(to, "d1")},
	}
	for _, st := range steps {
		if st.name == "delete" {
			if n, err := e.Store.PEPNode(t.Context(), romeo, "n"); err != nil || n.Config.AccessModel != "open" || n.Config.MaxItems != 5 {
				t.Fatalf("configured node before delete: %+v, %v (want open, max_items capped to 5)", n, err)
			}
		}
		e.Send(s, st.req)
		routertest.Expect(t, rec, st.want)
	}
	if _, err := e.Store.PEPNode(t.Context(), romeo, "n"); err == nil {
		t.Error("node still there after delete")
	}
}

// TestDisco covers XEP-0163 §6.1 and XEP-0060 §5.2: the account is a
// pubsub/pep service, lists the nodes the requester may see, and the
// server lists the pubsub features.
func TestDisco(t *testing.T) {
	e := setup(t)
	home, homeRec := e.Bind(romeo+"/home", true, 0)
	jul, julRec := e.Bind(juliet+"/balcony", true, 0)
	e.Send(home, publishTune("t1", "Yesterday"))
	e.Send(home, publishWithOptions("secret", "p", [2]string{"pubsub#access_model", "whitelist"}))
	homeRec.Take()

	e.Send(jul, `<iq type="get" id="i1" to="romeo@example.org"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`)
	info := routertest.Parse(t, julRec.Take()[0])
	q := info.Child("http://jabber.org/protocol/disco#info", "query")
	pep, publish := false, false
	for _, id := range q.ChildrenNamed("http://jabber.org/protocol/disco#info", "identity") {
		pep = pep || (id.Attr("category") == "pubsub" && id.Attr("type") == "pep")
	}
	for _, f := range q.ChildrenNamed("http://jabber.org/protocol/disco#info", "feature") {
		publish = publish || f.Attr("var") == "http://jabber.org/protocol/pubsub#publish-options"
	}
	if !pep || !publish {
		t.Errorf("account disco#info lacks pubsub/pep or #publish-options: %s", info)
	}

	items := `<iq type="get" id="i2" to="romeo@example.org"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`
	e.Send(jul, items)
	e.expect(t, "subscriber's items", julRec,
		`<iq xmlns="jabber:client" type="result" id="i2" from="romeo@example.org" to="juliet@example.org/balcony"><query xmlns="http://jabber.org/protocol/disco#items"><item jid="romeo@example.org" node="http://jabber.org/protocol/tune"/></query></iq>`)
	e.Send(home, items)
	e.expect(t, "owner's items", homeRec,
		`<iq xmlns="jabber:client" type="result" id="i2" to="romeo@example.org/home"><query xmlns="http://jabber.org/protocol/disco#items"><item jid="romeo@example.org" node="http://jabber.org/protocol/tune"/><item jid="romeo@example.org" node="secret"/></query></iq>`)

	e.Send(home, `<iq type="get" id="i3" to="example.org"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`)
	srv := routertest.Parse(t, homeRec.Take()[0]).Child("http://jabber.org/protocol/disco#info", "query")
	have := map[string]bool{}
	for _, f := range srv.ChildrenNamed("http://jabber.org/protocol/disco#info", "feature") {
		have[f.Attr("var")] = true
	}
	for _, f := range features {
		if !have[f] {
			t.Errorf("server disco#info lacks %s", f)
		}
	}
}

// TestDiscoNodeInfo covers XEP-0060 §5.3: disco#info on the account's JID
// and a node it may see answers a pubsub/leaf identity (Smack's
// getOrCreateLeafNode asks it before publishing); a node it may not see,
// or that does not exist, is item-not-found.
func TestDiscoNodeInfo(t *testing.T) {
	e := setup(t)
	home, homeRec := e.Bind(romeo+"/home", true, 0)
	jul, julRec := e.Bind(juliet+"/balcony", true, 0)
	e.Send(home, publishTune("t1", "Yesterday"))
	e.Send(home, publishWithOptions("secret", "p", [2]string{"pubsub#access_model", "whitelist"}))
	homeRec.Take()

	info := func(id, node string) string {
		return `<iq type="get" id="` + id + `" to="romeo@example.org"><query xmlns="http://jabber.org/protocol/disco#info" node="` + node + `"/></iq>`
	}
	leaf := func(to, id, node string) string {
		from := ""
		if to != romeo+"/home" {
			from = ` from="romeo@example.org"`
		}
		return `<iq xmlns="jabber:client" type="result" id="` + id + `"` + from + ` to="` + to + `"><query xmlns="http://jabber.org/protocol/disco#info" node="` + node + `"><identity category="pubsub" type="leaf"/><feature var="http://jabber.org/protocol/pubsub"/></query></iq>`
	}
	e.Send(jul, info("n1", tune))
	e.expect(t, "subscriber, presence node", julRec, leaf(juliet+"/balcony", "n1", tune))
	e.Send(jul, info("n2", "secret"))
	e.expect(t, "subscriber, whitelist node", julRec, errorReply(juliet+"/balcony", romeo, "n2", "cancel", "item-not-found", ""))
	e.Send(home, info("n3", "secret"))
	e.expect(t, "owner, whitelist node", homeRec, leaf(romeo+"/home", "n3", "secret"))
	e.Send(home, info("n4", "nope"))
	e.expect(t, "owner, no such node", homeRec, errorReply(romeo+"/home", romeo, "n4", "cancel", "item-not-found", ""))
}
