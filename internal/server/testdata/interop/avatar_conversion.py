"""Scenario: XEP-0398 avatar conversion with slixmpp's xep_0084 (User
Avatar, PEP), xep_0054 (vcard-temp) and xep_0153 (vCard-Based Avatars)
plugins.

alice/dino finds urn:xmpp:pep-vcard-conversion:0 on her account and
publishes her avatar with XEP-0084; bob/legacy, a vCard-only client and
no contact of hers, reads it as her vCard photo (§3.1). bob sets a vCard
avatar with xep_0153; alice reads it as his XEP-0084 avatar, data and
metadata (§3.2). alice's directed presence to bob, sent without any
XEP-0153 element by a client that knows nothing of vCards, reaches him
with the photo's hash (§4), which slixmpp's xep_0153 reports.
"""

import hashlib

from slixmpp import JID

from skald_interop import Client, check, log, run, until

ALICE, BOB = "alice@localhost", "bob@localhost"
ALICE_IMAGE = b"\x89PNG\r\n\x1a\n alice's avatar"
BOB_IMAGE = b"\x89PNG\r\n\x1a\n bob's vcard photo"


async def main():
    dino = Client("alice", "dino", plugins=["xep_0084", "xep_0060", "xep_0030"])
    legacy = Client("bob", "legacy", plugins=["xep_0054", "xep_0153"])
    for c in (dino, legacy):
        await c.login()

    info = await dino["xep_0030"].get_info(jid=JID(ALICE), local=False, timeout=5)
    check("urn:xmpp:pep-vcard-conversion:0" in info["disco_info"]["features"], "alice's account features: %s" % info)
    log("dino found urn:xmpp:pep-vcard-conversion:0 on the account")

    alice_id = hashlib.sha1(ALICE_IMAGE).hexdigest()
    await dino["xep_0084"].publish_avatar(ALICE_IMAGE, timeout=5)
    await dino["xep_0084"].publish_avatar_metadata(
        [{"id": alice_id, "type": "image/png", "bytes": len(ALICE_IMAGE)}], timeout=5)
    iq = await legacy["xep_0054"].get_vcard(JID(ALICE), local=False, cached=False, timeout=5)
    photo = iq["vcard_temp"]["PHOTO"]
    check(photo["TYPE"] == "image/png" and photo["BINVAL"] == ALICE_IMAGE, "bob: alice's vCard %s" % iq)
    log("alice's XEP-0084 avatar is her vCard photo")

    bob_id = hashlib.sha1(BOB_IMAGE).hexdigest()
    await legacy["xep_0153"].set_avatar(avatar=BOB_IMAGE, mtype="image/png", timeout=5)
    iq = await dino["xep_0084"].retrieve_avatar(JID(BOB), bob_id, timeout=5)
    data = iq["pubsub"]["items"]["item"]["avatar_data"]["value"]
    check(data == BOB_IMAGE, "alice: bob's avatar data %s" % iq)
    iq = await dino["xep_0060"].get_items(JID(BOB), "urn:xmpp:avatar:metadata", timeout=5)
    infos = [i for i in iq.xml.iter("{urn:xmpp:avatar:metadata}info")]
    check(len(infos) == 1 and infos[0].get("id") == bob_id and infos[0].get("type") == "image/png"
          and infos[0].get("bytes") == str(len(BOB_IMAGE)), "alice: bob's avatar metadata %s" % iq)
    log("bob's vCard photo is his XEP-0084 avatar")

    hashes = []
    legacy.add_event_handler("vcard_avatar_update",
                             lambda p: hashes.append((str(p["from"]), p["vcard_temp_update"]["photo"])))
    dino.send_presence(pto=BOB)
    await until(lambda: hashes, lambda: "bob to get alice's presence with a photo hash")
    check(hashes == [(ALICE + "/dino", alice_id)], "bob: hashes %s" % hashes)
    log("alice's presence carried her photo's hash")

    for c in (dino, legacy):
        c.assert_healthy()
    for c in (dino, legacy):
        await c.logout()


run(main)
