"""Scenario 6: Client State Indication (XEP-0352) with slixmpp's xep_0352
plugin.

alice's client goes inactive. bob sends her two presence updates, a chat
state (XEP-0085) and a message with a body: alice must get only the latest
presence, then the message, and never the chat state. After alice says
she is active again, held presence comes at once and chat states flow.
"""

from slixmpp import JID

from skald_interop import Client, check, log, run, until

ALICE = "alice@localhost/phone"


def track(c):
    """Records, in order, bob's presence (its show) and messages (body,
    or the chat state of a message without one) as alice sees them."""
    c.seen = []

    def presence(p):
        if p["from"].bare == "bob@localhost":
            c.seen.append(("presence", p["show"] or "available"))

    def message(m):
        if m["body"]:
            c.seen.append(("body", m["body"]))

    def chat_state(m):
        # xep_0085 reports a message that carries only a chat state here,
        # and not as a "message" event.
        if not m["body"]:
            c.seen.append(("chat_state", m["chat_state"]))

    c.add_event_handler("presence", presence)
    c.add_event_handler("message", message)
    c.add_event_handler("chatstate", chat_state)


async def main():
    alice = Client("alice", "phone", plugins=["xep_0352", "xep_0085"])
    bob = Client("bob", "desk", plugins=["xep_0085"])
    await alice.login()
    await bob.login()
    check(alice["xep_0352"].enabled, "alice: the server did not offer CSI (XEP-0352)")
    track(alice)

    alice["xep_0352"].send_inactive()
    await alice.sync()  # the server handled <inactive/>
    bob.send_presence(pto=JID(ALICE), pshow="away")
    bob.send_presence(pto=JID(ALICE), pshow="dnd")
    composing = bob.make_message(mto=JID(ALICE), mtype="chat")
    composing["chat_state"] = "composing"
    composing.send()
    bob.send_message(mto=JID(ALICE), mbody="are you there?", mtype="chat")
    await until(lambda: ("body", "are you there?") in alice.seen, "alice to get bob's message while inactive")
    check(alice.seen == [("presence", "dnd"), ("body", "are you there?")],
          "alice (inactive) saw %s, want the latest presence, then the message" % alice.seen)
    log("inactive: the latest presence came with the message, the chat state never")

    alice.seen.clear()
    bob.send_presence(pto=JID(ALICE), pshow="xa")
    await bob.sync()  # the server routed it: held for alice
    check(alice.seen == [], "alice (inactive) got %s before saying she is active" % alice.seen)
    alice["xep_0352"].send_active()
    await alice.sync()  # held presence is sent before the pong
    check(alice.seen == [("presence", "xa")], "alice after <active/> saw %s, want the held presence" % alice.seen)

    paused = bob.make_message(mto=JID(ALICE), mtype="chat")
    paused["chat_state"] = "paused"
    paused.send()
    await until(lambda: ("chat_state", "paused") in alice.seen, "alice (active) to get bob's chat state")
    log("active: held presence flushed before the pong, chat states flow")

    for c in (alice, bob):
        c.assert_healthy()
    await alice.logout()
    await bob.logout()


run(main)
