"""Scenario 1: login, mutual subscription, presence and chat.

alice (TLS 1.2: slixmpp picks SCRAM-SHA-256-PLUS with tls-unique) and bob
(TLS 1.3: see the note in skald_interop.Client) log in over STARTTLS, fetch
their rosters, become mutual contacts through slixmpp's automatic
subscription handling (auto_authorize / auto_subscribe), see each other
online and chat both ways with bodies that need escaping.
"""

import asyncio

from slixmpp import JID

from skald_interop import Client, check, log, run, until

ALICE, BOB = "alice@localhost", "bob@localhost"

BODIES = [
    "hello",
    "Grüße aus Köln, こんにちは, привет 🚀",
    "<b>not markup</b> & a <&> \"quoted\" 'apostrophe' ]]> -->",
    "  leading and trailing spaces, a tab\tand\na newline  ",
]


def track(c):
    """Records roster pushes and available presences seen by c."""
    c.pushed = {}  # contact bare JID -> last pushed subscription
    c.online = set()  # full JIDs seen available

    def roster_update(iq):
        if iq["type"] == "set":
            for jid, item in iq["roster"]["items"].items():
                c.pushed[str(jid)] = item["subscription"]

    def available(pres):
        if pres["from"].bare != c.boundjid.bare:
            c.online.add(str(pres["from"]))

    c.add_event_handler("roster_update", roster_update)
    c.add_event_handler("presence_available", available)


async def server_roster(c):
    """The roster as the server has it: a fresh roster get, read from the
    reply itself rather than slixmpp's local cache. The version is reset:
    with the one from the last push the server may (RFC 6121 section
    2.6.3) answer with an empty result."""
    c.client_roster.version = ""
    iq = await c.get_roster(timeout=5)
    check(iq["type"] == "result", "%s: roster get: %s" % (c.name, iq))
    return {str(j): dict(item) for j, item in iq["roster"]["items"].items()}


async def main():
    alice = Client("alice", "home")
    bob = Client("bob", "work", tls13=True)
    for c in (alice, bob):
        track(c)
        # Both defaults, spelled out: approve requests, subscribe back.
        c.auto_authorize = True
        c.auto_subscribe = True

    await alice.login()
    check(alice.mechanism == "SCRAM-SHA-256-PLUS",
          "alice on TLS 1.2: expected SCRAM-SHA-256-PLUS, got %s" % alice.mechanism)
    check(not alice.failed_auth, "alice: refused SASL attempts %s" % alice.failed_auth)
    await bob.login()
    bob.check_refusals()
    log("bob on TLS 1.3 authenticated with %s after %d refused SCRAM attempts" % (bob.mechanism, len(bob.failed_auth)))

    for c in (alice, bob):
        roster = await server_roster(c)
        check(roster == {}, "%s: new account's roster is not empty: %s" % (c.name, roster))
        c.send_presence()

    alice.client_roster.subscribe(JID(BOB))
    await until(lambda: alice.pushed.get(BOB) == "both", lambda: "alice's roster push with bob at 'both' (pushes %s)" % alice.pushed)
    await until(lambda: bob.pushed.get(ALICE) == "both", lambda: "bob's roster push with alice at 'both' (pushes %s)" % bob.pushed)
    for c, other in ((alice, BOB), (bob, ALICE)):
        roster = await server_roster(c)
        check(roster.get(other, {}).get("subscription") == "both",
              "%s: server roster after subscribing: %s" % (c.name, roster))
        check(not roster[other].get("pending_out") and not roster[other].get("pending_in"),
              "%s: subscription still pending: %s" % (c.name, roster[other]))

    await until(lambda: "bob@localhost/work" in alice.online, lambda: "alice to see bob online (saw %s)" % alice.online)
    await until(lambda: "alice@localhost/home" in bob.online, lambda: "bob to see alice online (saw %s)" % bob.online)
    log("subscribed both ways; presence seen both ways")

    # alice writes to bob's bare JID, bob answers her full JID.
    for body in BODIES:
        alice.send_message(mto=BOB, mbody=body, mtype="chat")
    await until(lambda: len(bob.messages) >= len(BODIES), "bob to receive %d messages" % len(BODIES))
    for body in BODIES:
        bob.send_message(mto=JID("alice@localhost/home"), mbody=body, mtype="chat")
    await until(lambda: len(alice.messages) >= len(BODIES), "alice to receive %d messages" % len(BODIES))

    for c, sender in ((bob, "alice@localhost/home"), (alice, "bob@localhost/work")):
        got = [m["body"] for m in c.messages]
        check(got == BODIES, "%s: bodies differ:\n  got  %r\n  want %r" % (c.name, got, BODIES))
        for m in c.messages:
            check(str(m["from"]) == sender, "%s: message from %s, want %s" % (c.name, m["from"], sender))
            check(m["type"] == "chat", "%s: message type %s" % (c.name, m["type"]))
            check(m["stanza_id"]["by"] == c.boundjid.bare and m["stanza_id"]["id"],
                  "%s: message lacks the archive's stanza-id: %s" % (c.name, m))
    log("%d bodies arrived intact each way" % len(BODIES))

    # Both go quiet for longer than the server's in-place wait (a second),
    # so that their connections park without a goroutine (c2s/park.go),
    # then chat again: each parked connection wakes for its client's
    # stanza and for the one routed to it.
    await asyncio.sleep(2.5)
    alice.send_message(mto=BOB, mbody="after a pause", mtype="chat")
    await until(lambda: len(bob.messages) > len(BODIES), "bob to receive a message after both idled")
    bob.send_message(mto=JID("alice@localhost/home"), mbody="still here", mtype="chat")
    await until(lambda: len(alice.messages) > len(BODIES), "alice to receive a message after both idled")
    check(bob.messages[-1]["body"] == "after a pause" and alice.messages[-1]["body"] == "still here",
          "after idling: bob got %r, alice got %r" % (bob.messages[-1]["body"], alice.messages[-1]["body"]))
    log("after 2.5 s of silence both connections still chat both ways")

    for c in (alice, bob):
        c.assert_healthy()
    await alice.logout()
    await bob.logout()


run(main)
