"""Scenario 8: Personal Eventing Protocol (XEP-0163) with slixmpp's
xep_0163/xep_0060/xep_0115/xep_0118 plugins.

alice and bob become mutual contacts; both show XEP-0115 caps with
http://jabber.org/protocol/tune+notify (the xep_0118 plugin's interest),
which the server learns by asking their clients. alice publishes a user
tune: bob gets the event from alice's bare JID, as a headline, and can
read the item back with a XEP-0060 items request. bob's second resource,
coming online later with the same caps, gets the last published tune.
"""

import asyncio

from slixmpp import JID

from skald_interop import Client, check, log, run, until

ALICE, BOB = "alice@localhost", "bob@localhost"
TUNE = "http://jabber.org/protocol/tune"


def tunes(c):
    """Records the user tune events c receives: (from, type, title)."""
    c.tunes = []

    def published(msg):
        item = msg["pubsub_event"]["items"]["item"]
        c.tunes.append((str(msg["from"]), msg["type"], item["tune"]["title"]))

    c.add_event_handler("user_tune_publish", published)


async def main():
    alice = Client("alice", "home", plugins=["xep_0118"])
    bob = Client("bob", "work", plugins=["xep_0118"])
    for c in (alice, bob):
        tunes(c)
        c.auto_authorize = True
        c.auto_subscribe = True
        await c.login()
        await c.get_roster(timeout=5)
        c.send_presence()
        await c.sync()

    pushed = {}

    def roster_update(iq):
        if iq["type"] == "set":
            for jid, item in iq["roster"]["items"].items():
                pushed[str(jid)] = item["subscription"]

    alice.add_event_handler("roster_update", roster_update)
    alice.client_roster.subscribe(JID(BOB))
    await until(lambda: pushed.get(BOB) == "both", lambda: "alice and bob to be mutual contacts (pushes %s)" % pushed)
    for c in (alice, bob):
        await c.sync()
    log("mutual contacts, caps with tune+notify announced")

    iq = await alice["xep_0118"].publish_tune(artist="The Beatles", title="Yesterday", timeout=5)
    check(iq["type"] == "result", "alice: publish: %s" % iq)
    await until(lambda: bob.tunes, lambda: "bob to get alice's tune event")
    check(bob.tunes == [(ALICE, "headline", "Yesterday")], "bob's tune events: %s" % bob.tunes)
    await until(lambda: alice.tunes, lambda: "alice's own resource to get the event")
    log("bob got the event from %s as a headline" % bob.tunes[0][0])

    iq = await bob["xep_0060"].get_items(JID(ALICE), TUNE, timeout=5)
    check(iq["type"] == "result", "bob: items: %s" % iq)
    titles = [t.text for t in iq.xml.iter("{%s}title" % TUNE)]
    check(titles == ["Yesterday"], "bob: items %s" % iq)
    log("bob read the tune back with an items request")

    tablet = Client("bob", "tablet", plugins=["xep_0118"])
    tunes(tablet)
    await tablet.login()
    tablet.send_presence()
    await until(lambda: tablet.tunes, lambda: "bob's tablet to get the last published tune")
    check(tablet.tunes == [(ALICE, "headline", "Yesterday")], "tablet's tune events: %s" % tablet.tunes)
    log("bob's new resource got the last published tune on presence")

    for c in (alice, bob, tablet):
        c.assert_healthy()
    for c in (alice, bob, tablet):
        await c.logout()


run(main)
