"""Scenario: external components (XEP-0114) with slixmpp.ComponentXMPP.

Two echo gateways connect to the component listener: gw.localhost in the
jabber:component:accept namespace (slixmpp's default) and jc.localhost
with use_jc_ns (its stanzas in jabber:client). alice, a slixmpp client,
finds them in the server's disco#items (XEP-0030), asks the gateway's
disco#info (answered by the component itself), subscribes to a contact
on it (the component approves; alice's roster gets the push), and chats
with it: the body comes back as "echo: <body>" from the contact. The
jabber:client component's message reaches alice too.
"""

import asyncio
import os

import slixmpp
from slixmpp import JID

from skald_interop import Client, check, fail, log, run, until

HOST, PORT = os.environ["SKALD_COMPONENT_ADDR"].rsplit(":", 1)
SECRETS = {"gw.localhost": "gw-secret", "jc.localhost": "jc-secret"}
BODY = "hello <&> 'gateway' Grüße"


class Echo(slixmpp.ComponentXMPP):
    """A gateway that echoes chat bodies and approves subscriptions."""

    def __init__(self, domain, use_jc_ns=False):
        super().__init__(domain, SECRETS[domain], HOST, int(PORT), use_jc_ns=use_jc_ns)
        self.domain = domain
        self.use_ipv6 = False
        self.register_plugin("xep_0030")
        self["xep_0030"].add_identity(category="gateway", itype="irc", name="Echo", jid=domain)
        self.started = asyncio.get_running_loop().create_future()
        self.problems = []
        self.add_event_handler("session_start", lambda _: self.started.done() or self.started.set_result(True))
        self.add_event_handler("stream_error", lambda e: self.problems.append("stream error: %s" % e))
        self.add_event_handler("message", self._echo)
        self.add_event_handler("presence_subscribe", self._approve)

    def _echo(self, msg):
        if msg["type"] in ("chat", "normal") and msg["body"]:
            self.send_message(mto=msg["from"], mfrom=msg["to"], mbody="echo: " + msg["body"], mtype="chat")

    def _approve(self, pres):
        self.send_presence(pto=pres["from"].bare, pfrom=pres["to"].bare, ptype="subscribed")
        self.send_presence(pto=pres["from"].bare, pfrom=str(pres["to"].bare) + "/irc")

    async def start(self):
        self.connect()
        try:
            await asyncio.wait_for(asyncio.shield(self.started), 10)
        except asyncio.TimeoutError:
            fail("%s: handshake not accepted (problems: %s)" % (self.domain, self.problems))
        log("%s: component connected" % self.domain)


async def main():
    gw = Echo("gw.localhost")
    jc = Echo("jc.localhost", use_jc_ns=True)
    await gw.start()
    await jc.start()

    alice = Client("alice", "home", plugins=("xep_0030",))
    alice.pushed = {}

    def roster_update(iq):
        if iq["type"] == "set":
            for jid, item in iq["roster"]["items"].items():
                alice.pushed[str(jid)] = item["subscription"]

    alice.add_event_handler("roster_update", roster_update)
    await alice.login()
    await alice.get_roster(timeout=5)
    alice.send_presence()

    items = await alice["xep_0030"].get_items(jid="localhost", timeout=5)
    found = {str(i[0]) for i in items["disco_items"]["items"]}
    check({"gw.localhost", "jc.localhost"} <= found, "server's disco#items %s lack the components" % found)
    info = await alice["xep_0030"].get_info(jid="gw.localhost", timeout=5)
    ids = info["disco_info"]["identities"]
    check(any(i[0] == "gateway" and i[1] == "irc" for i in ids), "gateway's disco#info identities %s" % (ids,))
    log("disco: items %s, gateway identities %s" % (sorted(found), ids))

    contact = "bot@gw.localhost"
    alice.send_presence(pto=contact, ptype="subscribe")
    await until(lambda: alice.pushed.get(contact) == "to", lambda: "roster push with %s at 'to' (pushes %s)" % (contact, alice.pushed))

    peer = "bot@gw.localhost"
    alice.send_message(mto=peer, mbody=BODY, mtype="chat")
    await until(lambda: any(m["from"].bare == peer and m["body"] == "echo: " + BODY for m in alice.messages),
                lambda: "echo from %s (messages %s)" % (peer, [str(m) for m in alice.messages]))
    log("%s echoed" % peer)

    # use_jc_ns writes its stanzas in jabber:client, which the server
    # accepts; it would not see ours, which are in the stream's namespace
    # (jabber:component:accept) as XEP-0114 has them, so it only talks.
    jc.send_message(mto=alice.boundjid.full, mfrom="bot@jc.localhost/irc", mbody="from jc", mtype="chat")
    await until(lambda: any(str(m["from"]) == "bot@jc.localhost/irc" and m["body"] == "from jc" for m in alice.messages),
                lambda: "message from jc.localhost (messages %s)" % [str(m) for m in alice.messages])
    log("jc.localhost's jabber:client stanza delivered")

    alice.assert_healthy()
    for c in (gw, jc):
        check(not c.problems, "%s: %s" % (c.domain, c.problems))
    await alice.logout()
    for c in (gw, jc):
        c.disconnect(wait=1.0)


run(main)
