"""Scenario 9: Multi-User Chat (XEP-0045) with slixmpp's xep_0045 plugin,
and the room's stanza-ids (XEP-0359) and archive (XEP-0313).

alice creates a room (status 201, locked) and accepts the instant room
with an empty submitted form, as Conversations and Gajim do. bob enters:
his join completes (occupants, self-presence with 110 and 100, subject),
and he sees alice. alice sends a groupchat message; bob and alice get it
from alice's occupant JID with a <stanza-id by='room'/>, the same id for
both. bob then finds the message in the room's archive under that id.
alice, the owner, sets the room's avatar (XEP-0486: a vCard on the room's
JID with slixmpp's xep_0054); bob reads the photo back and finds its
SHA-1 in the room's disco#info (muc#roominfo_avatarhash).
"""

import hashlib

from slixmpp import JID

from skald_interop import DOMAIN, Client, check, log, run, until

ROOM = JID("tea@conference." + DOMAIN)


def codes(pres):
    return {int(c) for c in pres["muc"]["status_codes"]}


async def main():
    alice = Client("alice", "phone", plugins=["xep_0045", "xep_0004", "xep_0313", "xep_0030", "xep_0054"])
    bob = Client("bob", "desk", plugins=["xep_0045", "xep_0004", "xep_0313", "xep_0030", "xep_0054"])
    for c in (alice, bob):
        await c.login()
        c.groupchat = []
        c.add_event_handler("groupchat_message", lambda m, c=c: c.groupchat.append(m) if m["body"] else None)

    pres, _subject, _occupants, _history = await alice["xep_0045"].join_muc_wait(ROOM, "Al", maxstanzas=0, timeout=5)
    check({110, 201} <= codes(pres), "alice: creation self-presence codes %s" % codes(pres))
    await alice["xep_0045"].set_room_config(ROOM, alice["xep_0004"].make_form(ftype="submit"), timeout=5)
    log("alice created %s and accepted the instant room" % ROOM)

    pres, _subject, occupants, _history = await bob["xep_0045"].join_muc_wait(ROOM, "Bob", maxstanzas=0, timeout=5)
    check({100, 110} <= codes(pres) and 201 not in codes(pres), "bob: self-presence codes %s" % codes(pres))
    # slixmpp counts its own presence among the occupants.
    check([o["from"].resource for o in occupants] == ["Al", "Bob"], "bob: occupants %s" % [str(o["from"]) for o in occupants])
    check(pres["muc"]["jid"] == bob.boundjid, "bob: his real JID in the non-anonymous room: %s" % pres["muc"]["jid"])
    await until(lambda: "Bob" in alice["xep_0045"].get_roster(ROOM), "alice to see Bob")
    log("bob entered; alice sees %s" % sorted(alice["xep_0045"].get_roster(ROOM)))

    alice.send_message(mto=ROOM, mbody="hello <room> & all", mtype="groupchat")
    await until(lambda: bob.groupchat and alice.groupchat, "the groupchat message at both")
    ids = []
    for c in (alice, bob):
        m = c.groupchat[0]
        sid = m["stanza_id"]
        check(m["from"] == JID(str(ROOM) + "/Al") and m["body"] == "hello <room> & all",
              "%s: groupchat message %s" % (c.name, m))
        check(sid["by"] == ROOM and sid["id"], "%s: stanza-id %s" % (c.name, sid))
        ids.append(sid["id"])
    check(ids[0] == ids[1], "stanza-ids differ: %s" % ids)
    log("the message reached both occupants with stanza-id %s" % ids[0])

    results = []
    async for rsm in bob["xep_0313"].retrieve(jid=ROOM, iterator=True, rsm={"max": 10}):
        results.extend(rsm["mam"]["results"])
    check([r["mam_result"]["id"] for r in results] == [ids[0]],
          "bob: room archive ids %s" % [r["mam_result"]["id"] for r in results])
    fwd = results[0]["mam_result"]["forwarded"]["stanza"]
    check(fwd["body"] == "hello <room> & all" and fwd["from"] == JID(str(ROOM) + "/Al"),
          "bob: archived message %s" % fwd)
    log("bob found it in the room's archive")

    photo = b"\x89PNG interop avatar"
    card = alice["xep_0054"].make_vcard()
    card["PHOTO"]["TYPE"] = "image/png"
    card["PHOTO"]["BINVAL"] = photo
    await alice["xep_0054"].publish_vcard(card, jid=ROOM, timeout=5)
    got = await bob["xep_0054"].get_vcard(str(ROOM), timeout=5)
    check(got["vcard_temp"]["PHOTO"]["BINVAL"] == photo, "bob: room vCard %s" % got)
    info = await bob["xep_0030"].get_info(jid=ROOM, timeout=5)
    check("vcard-temp" in info["disco_info"]["features"], "room features %s" % info["disco_info"]["features"])
    value = info.xml.find(".//{jabber:x:data}field[@var='muc#roominfo_avatarhash']/{jabber:x:data}value")
    want = hashlib.sha1(photo).hexdigest()
    check(value is not None and value.text == want, "room avatar hash %s, want %s" % (None if value is None else value.text, want))
    log("alice set the room's avatar; bob read it and its hash %s" % want)

    for c in (alice, bob):
        c.assert_healthy()
    for c in (alice, bob):
        await c.logout()


run(main)
