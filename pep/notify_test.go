package pep

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
)

const tune = "http://jabber.org/protocol/tune"

func tuneEvent(to, id, title string) string {
	return `<message xmlns="jabber:client" from="romeo@example.org" to="` + to + `" type="headline" id="*"><event xmlns="http://jabber.org/protocol/pubsub#event"><items node="http://jabber.org/protocol/tune"><item id="` + id + `"><tune xmlns="http://jabber.org/protocol/tune"><title>` + title + `</title></tune></item></items></event></message>`
}

func publishTune(id, title string) string {
	return `<iq type="set" id="pt"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="http://jabber.org/protocol/tune"><item id="` + id + `"><tune xmlns="http://jabber.org/protocol/tune"><title>` + title + `</title></tune></item></publish></pubsub></iq>`
}

// TestNotifications covers XEP-0163 §4.3: a publish reaches the owner's
// and its presence subscribers' available resources that asked for
// NODE+notify, and nobody else; retraction and deletion are notified.
func TestNotifications(t *testing.T) {
	e := setup(t)
	home, homeRec := e.withCaps(romeo+"/home", tune+"+notify")
	_, phoneRec := e.withCaps(romeo+"/phone", tune+"+notify")
	_, balconyRec := e.withCaps(juliet+"/balcony", tune+"+notify", "urn:xmpp:avatar:metadata+notify")
	_, bedRec := e.withCaps(juliet+"/bed", "urn:xmpp:avatar:metadata+notify") // no tune+notify
	_, awayRec := e.Bind(juliet+"/away", false, 0)                            // not available
	_, streetRec := e.withCaps(mercutio+"/street", tune+"+notify")            // no subscription
	for _, r := range []*routertest.Recorder{homeRec, phoneRec, balconyRec, bedRec, streetRec} {
		r.Take() // nothing published yet: no last items
	}

	e.Send(home, publishTune("t1", "Yesterday"))
	e.expect(t, "publisher", homeRec,
		tuneEvent(romeo+"/home", "t1", "Yesterday"),
		`<iq xmlns="jabber:client" type="result" id="pt" to="romeo@example.org/home"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="http://jabber.org/protocol/tune"><item id="t1"/></publish></pubsub></iq>`)
	e.expect(t, "owner's other resource", phoneRec, tuneEvent(romeo+"/phone", "t1", "Yesterday"))
	e.expect(t, "subscriber with +notify", balconyRec, tuneEvent(juliet+"/balcony", "t1", "Yesterday"))
	e.expect(t, "subscriber without +notify", bedRec)
	e.expect(t, "unavailable subscriber", awayRec)
	e.expect(t, "stranger", streetRec)

	e.Send(home, `<iq type="set" id="r1"><pubsub xmlns="http://jabber.org/protocol/pubsub"><retract node="http://jabber.org/protocol/tune" notify="true"><item id="t1"/></retract></pubsub></iq>`)
	retraction := func(to string) string {
		return `<message xmlns="jabber:client" from="romeo@example.org" to="` + to + `" type="headline" id="*"><event xmlns="http://jabber.org/protocol/pubsub#event"><items node="http://jabber.org/protocol/tune"><retract id="t1"/></items></event></message>`
	}
	e.expect(t, "retract, publisher", homeRec, retraction(romeo+"/home"), result(romeo+"/home", "r1"))
	e.expect(t, "retract, subscriber", balconyRec, retraction(juliet+"/balcony"))
	e.expect(t, "retract, stranger", streetRec)
	e.Send(home, `<iq type="set" id="r2"><pubsub xmlns="http://jabber.org/protocol/pubsub"><retract node="http://jabber.org/protocol/tune"><item id="t1"/></retract></pubsub></iq>`)
	e.expect(t, "retract of a retracted item", homeRec, errorReply(romeo+"/home", "", "r2", "cancel", "item-not-found", ""))

	e.Send(home, `<iq type="set" id="d1"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><delete node="http://jabber.org/protocol/tune"/></pubsub></iq>`)
	deletion := func(to string) string {
		return `<message xmlns="jabber:client" from="romeo@example.org" to="` + to + `" type="headline" id="*"><event xmlns="http://jabber.org/protocol/pubsub#event"><delete node="http://jabber.org/protocol/tune"/></event></message>`
	}
	e.expect(t, "delete, owner", homeRec, deletion(romeo+"/home"), result(romeo+"/home", "d1"))
	e.expect(t, "delete, subscriber", balconyRec, deletion(juliet+"/balcony"))
	e.Send(home, `<iq type="set" id="d2"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><delete node="http://jabber.org/protocol/tune"/></pubsub></iq>`)
	e.expect(t, "delete of a deleted node", homeRec, errorReply(romeo+"/home", "", "d2", "cancel", "item-not-found", ""))
}

// TestWhitelistNotifiesOwnerOnly: a whitelist node's events reach only
// the owner's resources.
func TestWhitelistNotifiesOwnerOnly(t *testing.T) {
	e := setup(t)
	home, homeRec := e.withCaps(romeo+"/home", tune+"+notify")
	_, balconyRec := e.withCaps(juliet+"/balcony", tune+"+notify")
	e.Send(home, `<iq type="set" id="pt"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="http://jabber.org/protocol/tune"><item id="t1"><tune xmlns="http://jabber.org/protocol/tune"><title>Yesterday</title></tune></item></publish><publish-options><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var="pubsub#access_model"><value>whitelist</value></field></x></publish-options></pubsub></iq>`)
	if got := e.take(homeRec); len(got) != 2 || got[0] != tuneEvent(romeo+"/home", "t1", "Yesterday") {
		t.Errorf("owner got %q", got)
	}
	e.expect(t, "subscriber", balconyRec)
}

// TestLastPublishedOnAvailable covers XEP-0163 §4.3.4-5: a resource
// coming online with +notify gets the last item of its own and its
// contacts' nodes, unless send_last_published_item says never.
func TestLastPublishedOnAvailable(t *testing.T) {
	e := setup(t)
	home, homeRec := e.Bind(romeo+"/home", true, 0)
	e.Send(home, publishTune("t1", "Yesterday"))
	e.Send(home, publishTune("t2", "Help"))
	e.Send(home, publishWithOptions("urn:xmpp:bookmarks:1", "b", [2]string{"pubsub#send_last_published_item", "never"}))
	homeRec.Take()

	// juliet's caps are unknown: the server asks, and the answer brings
	// the last item.
	_, balconyRec := e.withCaps(juliet+"/balcony", tune+"+notify", "urn:xmpp:bookmarks:1+notify")
	e.expect(t, "subscriber", balconyRec, tuneEvent(juliet+"/balcony", "t2", "Help"))

	// The same caps again are known: no query, and the last item comes
	// with the initial presence (the availability observers).
	bed, bedRec := e.Bind(juliet+"/bed", false, 0)
	e.Send(bed, `<presence><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="x" ver="`+verOf(tune+"+notify", "urn:xmpp:bookmarks:1+notify")+`"/></presence>`)
	e.expect(t, "before available", bedRec)
	bed.SetPresence(routertest.Parse(t, `<presence/>`), 0)
	e.Router.NotifyAvailable(t.Context(), bed)
	e.expect(t, "second resource", bedRec, tuneEvent(juliet+"/bed", "t2", "Help"))
	// Only once per session.
	e.Router.NotifyAvailable(t.Context(), bed)
	e.expect(t, "again", bedRec)

	// A stranger with +notify gets nothing of romeo's.
	_, streetRec := e.withCaps(mercutio+"/street", tune+"+notify")
	e.expect(t, "stranger", streetRec)
	// The owner's new resource gets its own last items.
	_, phoneRec := e.withCaps(romeo+"/phone", tune+"+notify")
	e.expect(t, "owner", phoneRec, tuneEvent(romeo+"/phone", "t2", "Help"))
}

// TestLastPublishedOnSubscription: a contact just allowed to see the
// owner's presence gets the last item of the nodes whose
// send_last_published_item is on_sub or on_sub_and_presence (XEP-0163
// §4.3.2).
func TestLastPublishedOnSubscription(t *testing.T) {
	e := setup(t)
	home, homeRec := e.Bind(romeo+"/home", true, 0)
	e.Send(home, publishTune("t1", "Yesterday"))
	e.Send(home, publishWithOptions("urn:example:onsub", "p", [2]string{"pubsub#send_last_published_item", "on_sub"}))
	e.Send(home, publishWithOptions("urn:example:never", "p", [2]string{"pubsub#send_last_published_item", "never"}))
	homeRec.Take()
	_, streetRec := e.withCaps(mercutio+"/street", tune+"+notify", "urn:example:onsub+notify", "urn:example:never+notify")
	e.expect(t, "before the subscription", streetRec)

	ros := e.m.ros.(*fakeRosters)
	ros.mu.Lock()
	ros.items[romeo] = append(ros.items[romeo], storage.RosterItem{JID: mercutio, Subscription: storage.SubFrom})
	ros.items[mercutio] = []storage.RosterItem{{JID: romeo, Subscription: storage.SubTo}}
	ros.mu.Unlock()
	e.Router.NotifySubscribed(t.Context(), jid.MustParse(romeo), jid.MustParse(mercutio))
	e.expect(t, "new subscriber", streetRec,
		tuneEvent(mercutio+"/street", "t1", "Yesterday"),
		`<message xmlns="jabber:client" from="romeo@example.org" to="mercutio@example.org/street" type="headline" id="*"><event xmlns="http://jabber.org/protocol/pubsub#event"><items node="urn:example:onsub"><item id="current"><x xmlns="urn:x"/></item></items></event></message>`)
}

// TestNegativePriority: a contact's resource with a negative priority gets
// neither events nor last items (XEP-0163 §4.3.2, §4.3.3); the owner's own
// resources do.
func TestNegativePriority(t *testing.T) {
	e := setup(t)
	home, homeRec := e.withCaps(romeo+"/home", tune+"+notify")
	hidden, hiddenRec := e.Bind(romeo+"/hidden", false, 0)
	e.giveCaps(hidden, hiddenRec, tune+"+notify")
	hidden.SetPresence(routertest.Parse(t, `<presence><priority>-1</priority></presence>`), -1)
	bot, botRec := e.Bind(juliet+"/bot", false, 0)
	e.giveCaps(bot, botRec, tune+"+notify")
	bot.SetPresence(routertest.Parse(t, `<presence><priority>-1</priority></presence>`), -1)
	e.Send(home, publishTune("t1", "Yesterday"))
	e.take(homeRec)
	e.expect(t, "owner's resource with a negative priority", hiddenRec, tuneEvent(romeo+"/hidden", "t1", "Yesterday"))
	e.expect(t, "contact's resource with a negative priority", botRec)
	e.Router.NotifyAvailable(t.Context(), bot)
	e.expect(t, "no last item either", botRec)
}
