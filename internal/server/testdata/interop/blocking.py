"""Scenario 7: Blocking Command (XEP-0191) with slixmpp's xep_0191 plugin.

alice is online twice (phone, laptop); both fetch the block list, so both
get pushes. alice/phone blocks bob: the laptop gets the push, bob's
message to alice bounces with service-unavailable and never reaches her,
and alice's own message to bob is refused with not-acceptable and
<blocked xmlns='urn:xmpp:blocking:errors'/>. After the unblock, messages
flow both ways again.
"""

import asyncio

from slixmpp import JID

from skald_interop import Client, check, log, run, until

ALICE, BOB = "alice@localhost", "bob@localhost"


async def main():
    phone = Client("alice", "phone", plugins=["xep_0191"])
    laptop = Client("alice", "laptop", plugins=["xep_0191"])
    bob = Client("bob", "desk")
    for c in (phone, laptop, bob):
        await c.login()
    for c in (phone, laptop):
        iq = await c["xep_0191"].get_blocked(timeout=5)
        check(iq["type"] == "result" and not iq["blocklist"]["items"],
              "%s: initial block list: %s" % (c.name, iq))
    pushes = []
    laptop.add_event_handler("blocked", lambda iq: pushes.append(("block", set(map(str, iq["block"]["items"])))))
    laptop.add_event_handler("unblocked", lambda iq: pushes.append(("unblock", set(map(str, iq["unblock"]["items"])))))

    iq = await phone["xep_0191"].block(JID(BOB), timeout=5)
    check(iq["type"] == "result", "phone: block: %s" % iq)
    await until(lambda: ("block", {BOB}) in pushes, lambda: "the laptop's block push (got %s)" % pushes)
    iq = await laptop["xep_0191"].get_blocked(timeout=5)
    check(set(map(str, iq["blocklist"]["items"])) == {BOB}, "laptop: block list %s" % iq)
    log("blocked: the other resource got the push, the list holds bob")

    errors = []
    bob.add_event_handler("message_error", lambda m: errors.append(m["error"]["condition"]))
    bob.send_message(mto=JID(ALICE), mbody="let me in", mtype="chat")
    await until(lambda: errors, "bob's message to alice to bounce")
    check(errors == ["service-unavailable"], "bob's message bounced with %s" % errors)

    refused = []
    phone.add_event_handler("message_error",
                            lambda m: refused.append((m["error"]["condition"], m["error"].xml.find("{urn:xmpp:blocking:errors}blocked") is not None)))
    phone.send_message(mto=JID(BOB), mbody="go away", mtype="chat")
    await until(lambda: refused, "alice's message to bob to be refused")
    check(refused == [("not-acceptable", True)], "alice's message refused with %s" % refused)
    await phone.sync()
    await bob.sync()
    check(not phone.messages and not laptop.messages and not bob.messages,
          "a message crossed the block: %s %s %s" % (phone.messages, laptop.messages, bob.messages))
    log("blocked both ways: service-unavailable to bob, not-acceptable/blocked to alice")

    iq = await phone["xep_0191"].unblock(JID(BOB), timeout=5)
    check(iq["type"] == "result", "phone: unblock: %s" % iq)
    await until(lambda: ("unblock", {BOB}) in pushes, lambda: "the laptop's unblock push (got %s)" % pushes)
    bob.send_message(mto=JID(ALICE + "/phone"), mbody="hello again", mtype="chat")
    await until(lambda: phone.messages, "bob's message after the unblock")
    phone.send_message(mto=JID(BOB + "/desk"), mbody="hi", mtype="chat")
    await until(lambda: bob.messages, "alice's message after the unblock")
    log("unblocked: messages flow both ways")

    for c in (phone, laptop, bob):
        c.assert_healthy()
    for c in (phone, laptop, bob):
        await c.logout()


run(main)
