"""Scenario: XEP-0425 message moderation and XEP-0424 retraction in a room,
driven by slixmpp 1.8.3. Its xep_0424/xep_0425 plugins speak the older
:0 namespaces (wrapped in XEP-0422 fastening) that the XEPs have dropped,
so the requests are built as raw elements sent through slixmpp's own iq
and message stanzas, and the answers are read with slixmpp's xep_0045,
xep_0359 and xep_0313 plugins and its XML tree.

alice creates a room, bob enters and sends a spam message. bob, only a
participant, is refused the moderation (forbidden); an unknown stanza-id
is item-not-found. alice moderates it: both get the retraction from the
room (with the room's stanza-id), alice's iq is answered, the room's
archive holds the tombstone under the same id, and carol, entering,
gets the tombstone in the discussion history instead of the message.
bob then retracts a message of his own (XEP-0424): the archive holds
its tombstone too.
"""

from xml.etree import ElementTree as ET

from slixmpp import JID
from slixmpp.exceptions import IqError
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from skald_interop import DOMAIN, Client, check, fail, log, run, until

ROOM = JID("moderated@conference." + DOMAIN)
NS_MODERATE = "urn:xmpp:message-moderate:1"
NS_RETRACT = "urn:xmpp:message-retract:1"
PLUGINS = ["xep_0045", "xep_0004", "xep_0313", "xep_0030"]


def moderate_iq(client, sid, reason):
    iq = client.make_iq_set(ito=ROOM)
    mod = ET.Element("{%s}moderate" % NS_MODERATE, {"id": sid})
    ET.SubElement(mod, "{%s}retract" % NS_RETRACT)
    ET.SubElement(mod, "{%s}reason" % NS_MODERATE).text = reason
    iq.append(mod)
    return iq


async def refused(client, sid, condition):
    try:
        await moderate_iq(client, sid, "no").send(timeout=5)
    except IqError as e:
        check(e.condition == condition, "%s: moderation of %s refused with %s, want %s" % (client.name, sid, e.condition, condition))
        return
    fail("%s: moderation of %s accepted, want %s" % (client.name, sid, condition))


async def archive(client):
    out = {}
    async for page in client["xep_0313"].retrieve(jid=ROOM, iterator=True, rsm={"max": 20}):
        for r in page["mam"]["results"]:
            out[r["mam_result"]["id"]] = r["mam_result"]["forwarded"]["stanza"]
    return out


async def main():
    alice = Client("alice", "phone", plugins=PLUGINS)
    bob = Client("bob", "desk", plugins=PLUGINS)
    carol = Client("carol", "tablet", plugins=PLUGINS)
    for c in (alice, bob, carol):
        await c.login()
        c.groupchat, c.retractions = [], []
        c.add_event_handler("groupchat_message", lambda m, c=c: c.groupchat.append(m) if m["body"] else None)
        # slixmpp raises no event for a message without a body from the
        # room's bare JID: a stanza handler of its own catches them.
        c.register_handler(Callback("retraction", MatchXPath("{jabber:client}message/{%s}retract" % NS_RETRACT),
                                    lambda m, c=c: c.retractions.append(m)))

    await alice["xep_0045"].join_muc_wait(ROOM, "Al", maxstanzas=0, timeout=5)
    await alice["xep_0045"].set_room_config(ROOM, alice["xep_0004"].make_form(ftype="submit"), timeout=5)
    await bob["xep_0045"].join_muc_wait(ROOM, "Bob", maxstanzas=0, timeout=5)
    await until(lambda: "Bob" in alice["xep_0045"].get_roster(ROOM), "alice to see Bob")
    info = await alice["xep_0030"].get_info(jid=ROOM, local=False, cached=False, timeout=5)
    features = info["disco_info"]["features"]
    for f in (NS_MODERATE, NS_RETRACT, NS_RETRACT + "#tombstone"):
        check(f in features, "room lacks feature %s: %s" % (f, features))

    bob.send_message(mto=ROOM, mbody="buy potions", mtype="groupchat")
    await until(lambda: alice.groupchat and bob.groupchat, "the spam at both")
    sid = alice.groupchat[0]["stanza_id"]["id"]
    log("bob's spam has stanza-id %s" % sid)

    await refused(bob, sid, "forbidden")
    await refused(alice, "no-such-id", "item-not-found")
    log("a participant's moderation is forbidden, an unknown id item-not-found")

    await moderate_iq(alice, sid, "Spam").send(timeout=5)
    await until(lambda: alice.retractions and bob.retractions, "the retraction at both")
    for c in (alice, bob):
        m = c.retractions[0]
        r = m.xml.find("{%s}retract" % NS_RETRACT)
        mod = r.find("{%s}moderated" % NS_MODERATE)
        check(m["from"] == ROOM and r.get("id") == sid and mod is not None and mod.get("by") == str(ROOM) + "/Al"
              and r.findtext("{%s}reason" % NS_RETRACT) == "Spam" and m["stanza_id"]["by"] == ROOM,
              "%s: retraction %s" % (c.name, m))
    log("alice moderated it; both got the retraction from the room")

    items = await archive(alice)
    tomb = items.get(sid)
    check(tomb is not None, "alice: %s no longer in the archive: %s" % (sid, list(items)))
    check(tomb["body"] == "" and tomb.xml.find("{%s}retracted/{%s}moderated" % (NS_RETRACT, NS_MODERATE)) is not None,
          "alice: archived tombstone %s" % tomb)
    log("the archive holds the tombstone under %s" % sid)

    # slixmpp's join collects history messages with a body only: the
    # tombstone (none) is caught by a handler of carol's own.
    tombstones = []
    carol.register_handler(Callback("tombstone", MatchXPath("{jabber:client}message/{%s}retracted" % NS_RETRACT),
                                    tombstones.append))
    _p, _s, _o, history = await carol["xep_0045"].join_muc_wait(ROOM, "C", maxstanzas=20, timeout=5)
    check(all("potions" not in str(h) for h in history + tombstones), "carol: history shows the spam: %s" % history)
    check(len(tombstones) == 1 and tombstones[0]["stanza_id"]["id"] == sid and tombstones[0]["from"] == JID(str(ROOM) + "/Bob"),
          "carol: history tombstones %s" % tombstones)
    log("carol's discussion history shows the tombstone")

    bob.groupchat.clear()
    bob.send_message(mto=ROOM, mbody="oops", mtype="groupchat")
    await until(lambda: bob.groupchat, "bob's own message")
    own = bob.groupchat[0]["stanza_id"]["id"]
    msg = bob.make_message(mto=ROOM, mtype="groupchat", mbody="/me retracted a previous message")
    msg["id"] = "retract-oops"
    msg.append(ET.Element("{%s}retract" % NS_RETRACT, {"id": own}))
    msg.send()
    await until(lambda: len(alice.retractions) >= 2, "bob's retraction at alice")
    items = await archive(alice)
    r = items[own].xml.find("{%s}retracted" % NS_RETRACT)
    check(items[own]["body"] == "" and r is not None and r.get("id") == "retract-oops", "alice: bob's own retraction: %s" % items[own])
    log("bob's own retraction left a tombstone too")

    for c in (alice, bob, carol):
        c.assert_healthy()
    for c in (alice, bob, carol):
        await c.logout()


run(main)
