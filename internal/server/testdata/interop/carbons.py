"""Scenario 2: Message Carbons (XEP-0280) with slixmpp's xep_0280 plugin.

alice is online twice (phone, tablet), both with carbons enabled. bob
writes to alice's bare JID (each device must get it exactly once, as the
original or as a carbon), then to alice/phone (tablet gets a received
carbon); alice/phone answers bob (tablet gets a sent carbon, phone none).
"""

from slixmpp import JID

from skald_interop import Client, check, log, run, until

PHONE, TABLET = "alice@localhost/phone", "alice@localhost/tablet"
BOB = "bob@localhost/desk"


def track_carbons(c):
    c.received, c.sent = [], []  # forwarded inner messages
    c.add_event_handler("carbon_received", lambda m: c.received.append(m["carbon_received"]))
    c.add_event_handler("carbon_sent", lambda m: c.sent.append(m["carbon_sent"]))


def bodies(msgs):
    return [m["body"] for m in msgs]


async def main():
    phone = Client("alice", "phone", plugins=["xep_0280"])
    tablet = Client("alice", "tablet", plugins=["xep_0280"])
    bob = Client("bob", "desk")
    for c in (phone, tablet, bob):
        await c.login()
    for c in (phone, tablet):
        track_carbons(c)
        iq = await c["xep_0280"].enable(timeout=5)
        check(iq["type"] == "result", "%s: carbons enable: %s" % (c.name, iq))
    # Each of alice's devices sees the other come online: a barrier that
    # makes sure both are available before bob writes.
    seen = {c.name: set() for c in (phone, tablet)}
    for c in (phone, tablet):
        c.add_event_handler("presence_available", lambda p, c=c: seen[c.name].add(str(p["from"])))
    for c in (phone, tablet, bob):
        c.send_presence()
    await until(lambda: TABLET in seen[phone.name] and PHONE in seen[tablet.name],
                lambda: "alice's devices to see each other (%s)" % seen)

    # 1. To the bare JID: each device gets it once, in one form or the other.
    bare_body = "to alice's bare JID: ünïcödé <&>"
    bob.send_message(mto=JID("alice@localhost"), mbody=bare_body, mtype="chat")

    def copies(c):
        return bodies(c.messages).count(bare_body) + bodies(c.received).count(bare_body)

    await until(lambda: copies(phone) >= 1 and copies(tablet) >= 1, "both devices to get the bare-JID message")

    # 2. To alice/phone: tablet sees a received carbon.
    full_body = "to alice/phone only"
    bob.send_message(mto=JID(PHONE), mbody=full_body, mtype="chat")
    await until(lambda: full_body in bodies(phone.messages), "phone to get the full-JID message")
    await until(lambda: full_body in bodies(tablet.received), lambda: "tablet's received carbon (got %s)" % bodies(tablet.received))
    carbon = [m for m in tablet.received if m["body"] == full_body][0]
    check(str(carbon["from"]) == BOB and str(carbon["to"]) == PHONE,
          "received carbon's inner message from %s to %s, want %s to %s" % (carbon["from"], carbon["to"], BOB, PHONE))
    check(carbon["type"] == "chat", "received carbon's inner type %s" % carbon["type"])

    # 3. phone writes to bob: tablet sees a sent carbon, phone does not.
    sent_body = "from phone, with a sent carbon"
    phone.send_message(mto=JID("bob@localhost"), mbody=sent_body, mtype="chat")
    await until(lambda: sent_body in bodies(bob.messages), "bob to get phone's message")
    await until(lambda: sent_body in bodies(tablet.sent), lambda: "tablet's sent carbon (got %s)" % bodies(tablet.sent))
    carbon = [m for m in tablet.sent if m["body"] == sent_body][0]
    check(str(carbon["from"]) == PHONE and carbon["to"].bare == "bob@localhost",
          "sent carbon's inner message from %s to %s" % (carbon["from"], carbon["to"]))

    # A round trip on each stream lets anything still queued for it (a
    # duplicate, a stray carbon) arrive before we count.
    for c in (bob, phone, tablet):
        await c.sync()
    check(copies(phone) == 1 and copies(tablet) == 1,
          "bare-JID message: phone got %d copies, tablet %d; want exactly 1 each" % (copies(phone), copies(tablet)))
    check(not phone.sent, "phone got carbons of its own message: %s" % bodies(phone.sent))
    check(full_body not in bodies(phone.received), "phone got a carbon of a message addressed to itself")
    check(bodies(tablet.messages).count(full_body) == 0, "tablet got the full-JID message directly")
    check(bodies(bob.messages) == [sent_body], "bob's messages: %s" % bodies(bob.messages))
    check(bodies(phone.messages).count(full_body) == 1, "phone got the full-JID message %d times" % bodies(phone.messages).count(full_body))
    log("bare JID: phone %s, tablet %s; received and sent carbons on tablet" % (
        "original" if bare_body in bodies(phone.messages) else "carbon",
        "original" if bare_body in bodies(tablet.messages) else "carbon"))

    for c in (phone, tablet, bob):
        c.assert_healthy()
        await c.logout()


run(main)
