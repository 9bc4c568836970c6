"""Scenario: Last Activity (XEP-0012) with slixmpp's xep_0012 plugin.

alice and bob become mutual contacts. While bob is online alice learns
seconds=0 about him (section 4); once bob sends unavailable presence with
a status, she learns a few seconds and "Gone fishing". carol, who has no
subscription to bob, is refused with forbidden. The server's own answer
is its uptime (section 5).
"""

import asyncio

from slixmpp import JID
from slixmpp.exceptions import IqError

from skald_interop import Client, check, log, run, until

ALICE, BOB = "alice@localhost", "bob@localhost"


async def main():
    alice = Client("alice", "home", plugins=["xep_0012"])
    bob = Client("bob", "work", plugins=["xep_0012"])
    carol = Client("carol", "pad", plugins=["xep_0012"])
    for c in (alice, bob):
        c.auto_authorize = True
        c.auto_subscribe = True
        await c.login()
        await c.get_roster(timeout=5)
        c.send_presence()
        await c.sync()
    await carol.login()

    pushed = {}

    def roster_update(iq):
        if iq["type"] == "set":
            for jid, item in iq["roster"]["items"].items():
                pushed[str(jid)] = item["subscription"]

    alice.add_event_handler("roster_update", roster_update)
    alice.client_roster.subscribe(JID(BOB))
    await until(lambda: pushed.get(BOB) == "both", lambda: "alice and bob to be mutual contacts (pushes %s)" % pushed)

    iq = await alice["xep_0012"].get_last_activity(JID(BOB), timeout=5)
    check(iq["last_activity"]["seconds"] == 0 and not iq["last_activity"]["status"],
          "bob online: %s" % iq)
    log("bob online: seconds 0")

    gone = []
    alice.add_event_handler("got_offline", lambda p: gone.append(str(p["from"])))
    bob.send_presence(ptype="unavailable", pstatus="Gone fishing")
    await until(lambda: gone, "alice to see bob go offline")
    iq = await alice["xep_0012"].get_last_activity(JID(BOB), timeout=5)
    secs = iq["last_activity"]["seconds"]
    check(0 <= secs < 30 and iq["last_activity"]["status"] == "Gone fishing", "bob offline: %s" % iq)
    log("bob offline: %d seconds, %r" % (secs, iq["last_activity"]["status"]))

    try:
        iq = await carol["xep_0012"].get_last_activity(JID(BOB), timeout=5)
        check(False, "carol without subscription got %s" % iq)
    except IqError as e:
        check(e.iq["error"]["condition"] == "forbidden", "carol: %s" % e.iq)
    log("carol without subscription: forbidden")

    iq = await carol["xep_0012"].get_last_activity(JID("localhost"), timeout=5)
    check(iq["last_activity"]["seconds"] >= 0, "server uptime: %s" % iq)

    for c in (alice, bob, carol):
        c.assert_healthy()
    for c in (alice, bob, carol):
        await c.logout()


run(main)
