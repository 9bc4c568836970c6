"""Scenario: Push Notifications (XEP-0357) enabled by a slixmpp client.

slixmpp 1.8.3 (Debian) ships no XEP-0357 plugin, so the enable and disable
elements are a small stanza plugin of this script; the publish-options
form is built by slixmpp's own XEP-0004 plugin. alice/phone finds
urn:xmpp:push:0 on her bare JID (§4.1), is refused an enable without
'jid' (bad-request), enables node "n1" with a secret in the
publish-options, enables "n2" and disables it again, and logs out. bob
then writes to her; the Go test (interop_push_test) checks that the app
server at push.test got exactly one publish, for n1, with the secret.
"""

import os

from slixmpp import JID
from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ElementBase, register_stanza_plugin
from slixmpp.stanza import Iq

from skald_interop import DOMAIN, Client, check, fail, log, run

NS_PUSH = "urn:xmpp:push:0"
PUSH_JID = os.environ.get("SKALD_PUSH_JID", "push.test")
ALICE = "alice@" + DOMAIN


class Enable(ElementBase):
    name = "enable"
    namespace = NS_PUSH
    plugin_attrib = "push_enable"
    interfaces = {"jid", "node"}


class Disable(ElementBase):
    name = "disable"
    namespace = NS_PUSH
    plugin_attrib = "push_disable"
    interfaces = {"jid", "node"}


async def push_iq(client, kind, jid=None, node=None, form=None):
    iq = client.make_iq_set()
    el = iq[kind]
    if jid is not None:
        el["jid"] = jid
    if node is not None:
        el["node"] = node
    if form is not None:
        el.append(form)
    return await iq.send(timeout=5)


async def main():
    register_stanza_plugin(Iq, Enable)
    register_stanza_plugin(Iq, Disable)
    phone = Client("alice", "phone", plugins=["xep_0030", "xep_0004"])
    await phone.login()

    info = await phone["xep_0030"].get_info(jid=JID(ALICE), local=False, timeout=5)
    check(NS_PUSH in info["disco_info"]["features"], "alice: no %s in %s" % (NS_PUSH, info))
    log("alice: her account advertises %s" % NS_PUSH)

    try:
        iq = await push_iq(phone, "push_enable", node="n1")
        fail("enable without jid accepted: %s" % iq)
    except IqError as e:
        check(e.iq["error"]["condition"] == "bad-request", "enable without jid: %s" % e.iq)

    form = phone["xep_0004"].make_form(ftype="submit")
    form.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/pubsub#publish-options")
    form.add_field(var="secret", value="slix-secret")
    iq = await push_iq(phone, "push_enable", PUSH_JID, "n1", form)
    check(iq["type"] == "result", "enable n1: %s" % iq)
    iq = await push_iq(phone, "push_enable", PUSH_JID, "n2")
    check(iq["type"] == "result", "enable n2: %s" % iq)
    iq = await push_iq(phone, "push_disable", PUSH_JID, "n2")
    check(iq["type"] == "result", "disable n2: %s" % iq)
    log("alice: push enabled for %s node n1, n2 enabled and disabled" % PUSH_JID)
    phone.assert_healthy()
    await phone.logout()

    bob = Client("bob", "desk")
    await bob.login()
    bob.send_message(mto=JID(ALICE), mbody="wake up, alice", mtype="chat")
    await bob.sync()
    log("bob: wrote to alice while she is offline")
    bob.assert_healthy()
    await bob.logout()


run(main)
