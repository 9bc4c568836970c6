"""XEP-0431 full-text search in MAM with slixmpp's MAM plugin.

bob sends alice a dozen messages; alice finds the account advertises
urn:xmpp:fulltext:0 (disco#info) and has the {urn:xmpp:fulltext:0}fulltext
field in the form slixmpp's get_fields() fetches, then searches her
archive with that field added to slixmpp's own query (its MAM stanza's
set_custom_field), paging with slixmpp's RSM iterator two results at a
time, forwards and backwards, alone and with a 'with' filter. Matching is
case- and accent-insensitive (ß as ss) and FTS-looking syntax is text.
"""

from slixmpp import JID
from slixmpp.xmlstream.handler import Collector
from slixmpp.xmlstream.matcher import MatchXMLMask

from skald_interop import Client, check, log, run, until

FIELD = "{urn:xmpp:fulltext:0}fulltext"
BODIES = [
    "Grüße aus Köln",
    "the weather is fine",
    "GRUSSE again",
    "nothing here",
    "more greetings: grüsse",
    "Apfelstrudel",
    'a "quoted" NEAR(word) OR -minus: here',
    "grusse number four",
    "unrelated",
    "last GrUsSe",
]


async def search(client, text, page, with_jid=None, reverse=False):
    """Bodies of the results of a full-text query, oldest first, paged
    with slixmpp's XEP-0059 iterator as its retrieve(iterator=True) does,
    the fulltext field set on slixmpp's MAM query form."""
    mam = client["xep_0313"]
    iq, mask = mam._pre_mam_retrieve(None, None, None, with_jid, None)
    iq["mam"].set_custom_field(FIELD, text)
    state = {}

    def pre_cb(query):
        mask["mam_result"]["queryid"] = query["id"]
        query["mam"]["queryid"] = query["id"]
        state["collector"] = Collector("MAM_Results_%s" % query["id"], MatchXMLMask(str(mask)))
        client.register_handler(state["collector"])

    def post_cb(result):
        results = state["collector"].stop()
        if result["type"] == "result":
            result["mam"]["results"] = results
            result["mam_fin"]["results"] = results

    out, pages = [], 0
    async for page_iq in client["xep_0059"].iterate(iq, "mam", "results", amount=page, reverse=reverse,
                                                     recv_interface="mam_fin", pre_cb=pre_cb, post_cb=post_cb):
        bodies = [r["mam_result"]["forwarded"]["stanza"]["body"] for r in page_iq["mam"]["results"]]
        check(len(bodies) <= page, "page of %d results, max %d" % (len(bodies), page))
        out = bodies + out if reverse else out + bodies
        pages += 1
    return out, pages


async def main():
    alice = Client("alice", "reader", plugins=["xep_0313", "xep_0030"])
    bob = Client("bob", "outbox")
    await alice.login()
    await bob.login()
    alice.send_presence()
    await alice.sync()

    info = await alice["xep_0030"].get_info(jid=JID("alice@localhost"))
    features = info["disco_info"]["features"]
    check("urn:xmpp:fulltext:0" in features, "account does not advertise urn:xmpp:fulltext:0: %s" % features)
    form = await alice["xep_0313"].get_fields(jid=JID("alice@localhost"))
    check(FIELD in form.get_fields(), "form fields lack %s: %s" % (FIELD, list(form.get_fields())))
    log("disco#info and the query form advertise XEP-0431")

    for body in BODIES:
        bob.send_message(mto=JID("alice@localhost"), mbody=body, mtype="chat")
    await until(lambda: len(alice.messages) >= len(BODIES), lambda: "alice to receive %d messages" % len(BODIES), timeout=20)
    await alice.sync()

    want = ["Grüße aus Köln", "GRUSSE again", "more greetings: grüsse", "grusse number four", "last GrUsSe"]
    got, pages = await search(alice, "grüsse", 2)
    check(got == want, "forwards: %s, want %s" % (got, want))
    check(pages == 3, "forwards: %d pages of 2, want 3" % pages)
    got, _ = await search(alice, "GRUSSE", 2, reverse=True)
    check(got == want, "backwards: %s, want %s" % (got, want))
    got, _ = await search(alice, "grusse", 10, with_jid=JID("bob@localhost"))
    check(got == want, "with bob: %s" % got)
    got, _ = await search(alice, "grusse", 10, with_jid=JID("carol@localhost"))
    check(got == [], "with carol: %s" % got)
    got, _ = await search(alice, "aus KÖLN", 10)
    check(got == ["Grüße aus Köln"], "two words: %s" % got)
    got, _ = await search(alice, 'NEAR(word) "quoted" -minus:', 10)
    check(got == [BODIES[6]], "syntax as text: %s" % got)
    got, _ = await search(alice, "grusse OR weather", 10)
    check(got == [], "OR is a word: %s" % got)
    log("full-text search pages forwards and backwards with slixmpp's RSM iterator")

    for c in (alice, bob):
        c.assert_healthy()
        await c.logout()


run(main)
