"""Scenario 4: Stream Management (XEP-0198) with slixmpp's xep_0198 plugin.

alice enables SM (with resumption); every stanza she sends is acked and
the counters agree both ways (slixmpp logs an error on inconsistent
sequence numbers, which fails the script). Then her TCP connection is cut
without a goodbye; bob writes to her meanwhile; she reconnects and resumes
the session: the messages arrive exactly once and the stream works on.
"""

import asyncio

from slixmpp import JID

from skald_interop import Client, check, log, run, until

ALICE = "alice@localhost/mobile"


def bodies(c):
    return [m["body"] for m in c.messages]


async def acked(c, what):
    """Requests an ack and waits until every stanza c sent is acked, with
    the server's h equal to c's count. (The request goes out at once,
    bypassing slixmpp's send queue, so call this only after the stanzas
    themselves were sent: after a reply or a delivery that follows them.)"""
    sm = c["xep_0198"]
    sm.request_ack()
    await until(lambda: not sm.unacked_queue, lambda: "acks for %s (%d unacked)" % (what, len(sm.unacked_queue)))
    check(sm.last_ack == sm.seq, "%s: server acked h=%d, client sent %d" % (what, sm.last_ack, sm.seq))


async def main():
    alice = Client("alice", "mobile", plugins=["xep_0198"])
    sm = alice["xep_0198"]
    events = {"enabled": [], "acked": [], "failed": [], "resumed": []}
    alice.add_event_handler("sm_enabled", lambda s: events["enabled"].append(s))
    alice.add_event_handler("stanza_acked", lambda s: events["acked"].append(s))
    alice.add_event_handler("sm_failed", lambda s: events["failed"].append(s))
    alice.add_event_handler("session_resumed", lambda s: events["resumed"].append(s))
    bob = Client("bob", "desk")

    await alice.login()
    await until(lambda: events["enabled"] or events["failed"], "sm_enabled")
    check(not events["failed"], "SM enable failed: %s" % events["failed"])
    enabled = events["enabled"][0]
    check(enabled["id"] and enabled["resume"],
          "<enabled/> without a resumable id: %s" % enabled)
    log("SM enabled, id %s, max %s" % (enabled["id"], enabled.xml.get("max")))
    await bob.login()
    alice.send_presence()
    bob.send_presence()

    # Outbound: 20 messages plus the presence; slixmpp requests an ack
    # every 5 stanzas (its window), we ask once more at the end.
    for i in range(20):
        alice.send_message(mto=JID("bob@localhost/desk"), mbody="sm %02d" % i, mtype="chat")
    await until(lambda: len(bob.messages) >= 20, "bob to get alice's 20 messages")
    check(bodies(bob) == ["sm %02d" % i for i in range(20)], "bob got %s" % bodies(bob))
    await acked(alice, "alice's first 21 stanzas")
    check(len(events["acked"]) == sm.seq, "%d stanza_acked events for %d stanzas sent" % (len(events["acked"]), sm.seq))

    # Inbound: alice counts what she handles; the server's view of it comes
    # back in <resumed h=.../> below.
    for i in range(5):
        bob.send_message(mto=JID(ALICE), mbody="before cut %d" % i, mtype="chat")
    await until(lambda: len(alice.messages) >= 5, "alice to get bob's 5 messages")
    await alice.sync()
    await acked(alice, "alice's stanzas before the cut")
    log("acks consistent: alice sent %d stanzas, server acked %d; alice handled %d" % (sm.seq, sm.last_ack, sm.handled))

    # Cut the connection without closing the stream, then write to alice.
    # Everything alice sent is acked by now: slixmpp 1.8.3 empties its
    # unacked queue when it sends <resume/>, so a stanza the server handled
    # but had not acked would make it log "Inconsistent sequence numbers"
    # at <resumed h=.../> (and it could not resend an unhandled one).
    sent_at_cut = sm.seq
    resumed_h = []
    alice.add_event_handler("session_resumed", lambda s: resumed_h.append(s["h"]))
    alice.abort()
    await asyncio.wait_for(alice.disconnected, 5)
    for i in range(3):
        bob.send_message(mto=JID(ALICE), mbody="while away %d" % i, mtype="chat")
    await bob.sync()

    alice.connect(("localhost", alice.default_port))
    await until(lambda: events["resumed"] or events["failed"], "session_resumed", timeout=10)
    check(not events["failed"], "resume failed: %s" % events["failed"])
    check(str(alice.boundjid) == ALICE, "resumed as %s" % alice.boundjid)
    check(resumed_h == [sent_at_cut], "<resumed h=%s/>, alice had sent %d stanzas" % (resumed_h, sent_at_cut))
    await until(lambda: len(alice.messages) >= 8, lambda: "the 3 messages sent while away (have %s)" % bodies(alice))
    await alice.sync()
    want = ["before cut %d" % i for i in range(5)] + ["while away %d" % i for i in range(3)]
    check(bodies(alice) == want, "after resume alice has %s, want each exactly once: %s" % (bodies(alice), want))
    log("resumed; the 3 messages sent while away arrived once")

    # The resumed stream works both ways and acks still agree.
    alice.send_message(mto=JID("bob@localhost/desk"), mbody="back again", mtype="chat")
    await until(lambda: "back again" in bodies(bob), "bob to get alice's message after resume")
    await acked(alice, "alice's stanzas after resume")

    for c in (alice, bob):
        c.assert_healthy()
        await c.logout()


run(main)
