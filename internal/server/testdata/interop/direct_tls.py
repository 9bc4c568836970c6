"""Scenario 5: log in over direct TLS (XEP-0368) and round-trip iqs.

alice uses TLS 1.2, where slixmpp's choice, SCRAM-SHA-256-PLUS with
tls-unique, must succeed at once; carol uses TLS 1.3, where slixmpp
1.8.3 cannot do SCRAM against a server offering -PLUS (see
skald_interop.Client) and must still get in, with only the refusals the
RFCs require on the way.
"""

from skald_interop import Client, check, log, run


async def session(c):
    roster = await c.get_roster(timeout=5)
    check(roster["type"] == "result", "%s: roster get: %s" % (c.name, roster))
    await c.sync()
    c.assert_healthy()


async def main():
    alice = Client("alice", "direct")
    await alice.login(direct_tls=True)
    check(alice.mechanism == "SCRAM-SHA-256-PLUS",
          "alice on TLS 1.2: expected SCRAM-SHA-256-PLUS, got %s" % alice.mechanism)
    check(not alice.failed_auth, "alice: refused SASL attempts %s" % alice.failed_auth)
    check(alice.socket.version() == "TLSv1.2", "alice: %s" % alice.socket.version())
    await session(alice)

    carol = Client("carol", "direct13", tls13=True)
    await carol.login(direct_tls=True)
    check(carol.socket.version() == "TLSv1.3", "carol: %s, want TLSv1.3" % carol.socket.version())
    carol.check_refusals()
    log("carol on TLS 1.3 authenticated with %s after %d refused SCRAM attempts" % (carol.mechanism, len(carol.failed_auth)))
    await session(carol)

    log("roster and ping answered over direct TLS")
    await alice.logout()
    await carol.logout()


run(main)
