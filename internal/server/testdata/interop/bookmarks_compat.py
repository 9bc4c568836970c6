"""Scenario: XEP-0402 bookmarks unified with XEP-0048 bookmarks in
private XML (XEP-0402 §5, urn:xmpp:bookmarks:1#compat), with slixmpp's
xep_0048 (over xep_0049) and xep_0060 plugins (slixmpp has no XEP-0402
plugin: its pubsub plugin publishes the items as a XEP-0402 client does).

alice/gajim stores a XEP-0048 list in private XML; alice/conversations
finds #compat on her account and reads the bookmark as a PEP item of
urn:xmpp:bookmarks:1 (room JID as item id). conversations publishes a
second bookmark with XEP-0402's publish-options and retracts the first;
gajim's private list follows.
"""

import xml.etree.ElementTree as ET

from slixmpp import JID
from slixmpp.plugins.xep_0048.stanza import Bookmarks

from skald_interop import Client, check, log, run

ALICE = "alice@localhost"
NODE = "urn:xmpp:bookmarks:1"


def options(c):
    """XEP-0402's publish-options (whitelist, max items, never sent on presence)."""
    form = c["xep_0004"].make_form(ftype="submit")
    form.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/pubsub#publish-options")
    form.add_field(var="pubsub#persist_items", value="true")
    form.add_field(var="pubsub#max_items", value="max")
    form.add_field(var="pubsub#send_last_published_item", value="never")
    form.add_field(var="pubsub#access_model", value="whitelist")
    return form


async def private_list(c):
    iq = await c["xep_0048"].get_bookmarks(method="xep_0049", timeout=5)
    return {str(conf["jid"]): conf for conf in iq["private"]["bookmarks"]["conferences"]}


async def main():
    gajim = Client("alice", "gajim", plugins=["xep_0048", "xep_0049"])
    conv = Client("alice", "conversations", plugins=["xep_0060", "xep_0004", "xep_0030"])
    for c in (gajim, conv):
        await c.login()
    gajim["xep_0049"].register(Bookmarks)

    info = await conv["xep_0030"].get_info(jid=JID(ALICE), local=False, timeout=5)
    check(NODE + "#compat" in info["disco_info"]["features"], "alice's account features: %s" % info)
    log("conversations found %s#compat on the account" % NODE)

    marks = Bookmarks()
    marks.add_conference("tea@muc.localhost", "al", name="Tea party", autojoin=True)
    iq = await gajim["xep_0048"].set_bookmarks(marks, method="xep_0049", timeout=5)
    check(iq["type"] == "result", "gajim: private store: %s" % iq)

    iq = await conv["xep_0060"].get_items(JID(ALICE), NODE, timeout=5)
    items = {it["id"]: it.xml.find("{%s}conference" % NODE) for it in iq["pubsub"]["items"]}
    tea = items.get("tea@muc.localhost")
    check(list(items) == ["tea@muc.localhost"] and tea is not None and tea.get("name") == "Tea party"
          and tea.get("autojoin") in ("true", "1") and tea.findtext("{%s}nick" % NODE) == "al",
          "conversations: PEP bookmarks %s" % iq)
    log("gajim's private XML bookmark is conversations' PEP item")

    cake = ET.Element("{%s}conference" % NODE, {"name": "Cake", "autojoin": "false"})
    ET.SubElement(cake, "{%s}nick" % NODE).text = "alice"
    iq = await conv["xep_0060"].publish(JID(ALICE), NODE, id="cake@muc.localhost", payload=cake,
                                        options=options(conv), timeout=5)
    check(iq["type"] == "result", "conversations: publish: %s" % iq)
    confs = await private_list(gajim)
    check(sorted(confs) == ["cake@muc.localhost", "tea@muc.localhost"] and confs["cake@muc.localhost"]["name"] == "Cake"
          and confs["cake@muc.localhost"]["nick"] == "alice" and not confs["cake@muc.localhost"]["autojoin"],
          "gajim: private bookmarks %s" % confs)
    log("conversations' PEP bookmark is in gajim's private list")

    iq = await conv["xep_0060"].retract(JID(ALICE), NODE, "tea@muc.localhost", notify=True, timeout=5)
    check(iq["type"] == "result", "conversations: retract: %s" % iq)
    confs = await private_list(gajim)
    check(sorted(confs) == ["cake@muc.localhost"], "gajim: private bookmarks after retraction %s" % confs)
    log("conversations' retraction left gajim's private list")

    for c in (gajim, conv):
        c.assert_healthy()
    for c in (gajim, conv):
        await c.logout()


run(main)
