"""Scenario 8: vcard-temp (XEP-0054) and Private XML Storage (XEP-0049)
with slixmpp's xep_0054 and xep_0049 plugins.

alice/phone reads her vCard before setting one (an empty one, §3.1),
publishes a vCard with a nickname and a photo, and stores XEP-0048
bookmarks in private storage. alice/laptop reads both back; bob reads
alice's vCard (answered by the server, §3.3), gets service-unavailable for
carol's (she has none), and forbidden for alice's private data.
"""

from slixmpp import JID
from slixmpp.exceptions import IqError
from slixmpp.plugins.xep_0048.stanza import Bookmarks

from skald_interop import Client, check, fail, log, run

ALICE, CAROL = "alice@localhost", "carol@localhost"
PHOTO = b"\x89PNG\r\n\x1a\n not really a picture"


async def error_of(coro):
    """The condition of the iq error coro raises; fails if it succeeds."""
    try:
        iq = await coro
    except IqError as e:
        return e.iq["error"]["condition"]
    fail("expected an error, got %s" % iq)


async def main():
    phone = Client("alice", "phone", plugins=["xep_0054", "xep_0049"])
    laptop = Client("alice", "laptop", plugins=["xep_0054", "xep_0049"])
    bob = Client("bob", "desk", plugins=["xep_0054", "xep_0049"])
    for c in (phone, laptop, bob):
        c["xep_0049"].register(Bookmarks)
        await c.login()

    # local=False: slixmpp would otherwise answer from its own cache.
    iq = await phone["xep_0054"].get_vcard(local=False, timeout=5)
    check(iq["type"] == "result" and len(iq["vcard_temp"].xml) == 0,
          "phone: vCard before any was set: %s" % iq)

    card = phone["xep_0054"].make_vcard()
    card["FN"] = "Alice Liddell"
    card["NICKNAME"] = "al"
    card["PHOTO"]["TYPE"] = "image/png"
    card["PHOTO"]["BINVAL"] = PHOTO
    await phone["xep_0054"].publish_vcard(card, timeout=5)

    marks = Bookmarks()
    marks.add_conference("tea@muc.localhost", "al", name="Tea party", autojoin=True)
    iq = await phone["xep_0049"].store(marks, timeout=5)
    check(iq["type"] == "result", "phone: private store: %s" % iq)
    log("alice/phone published her vCard and stored bookmarks")

    for c, to in ((laptop, None), (bob, JID(ALICE))):
        iq = await c["xep_0054"].get_vcard(to, local=False, timeout=5)
        v = iq["vcard_temp"]  # its NICKNAME is a list: a vCard may repeat it
        check(iq["type"] == "result" and v["FN"] == "Alice Liddell" and v["NICKNAME"] == ["al"]
              and v["PHOTO"]["TYPE"] == "image/png" and v["PHOTO"]["BINVAL"] == PHOTO,
              "%s: alice's vCard: %s" % (c.name, iq))
        if to is not None:
            check(iq["from"] == JID(ALICE), "%s: answer from %s, want alice's bare JID" % (c.name, iq["from"]))
    log("laptop and bob read alice's vCard")

    iq = await laptop["xep_0049"].retrieve("bookmarks", timeout=5)
    confs = iq["private"]["bookmarks"]["conferences"]
    check(len(confs) == 1 and confs[0]["jid"] == "tea@muc.localhost" and confs[0]["nick"] == "al"
          and confs[0]["name"] == "Tea party" and confs[0]["autojoin"],
          "laptop: bookmarks: %s" % iq)
    log("laptop read alice's bookmarks")

    cond = await error_of(bob["xep_0054"].get_vcard(JID(CAROL), local=False, timeout=5))
    check(cond == "service-unavailable", "bob: carol's missing vCard: %s" % cond)
    get = bob.make_iq_get(ito=JID(ALICE))
    get["private"].enable("bookmarks")
    cond = await error_of(get.send(timeout=5))
    check(cond == "forbidden", "bob: alice's private data: %s" % cond)
    log("bob: service-unavailable for carol's vCard, forbidden for alice's private data")

    for c in (phone, laptop, bob):
        c.assert_healthy()
    for c in (phone, laptop, bob):
        await c.logout()


run(main)
