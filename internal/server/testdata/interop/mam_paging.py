"""Scenario 3: MAM paging (XEP-0313 with XEP-0059) with slixmpp's plugin.

bob sends alice 300 numbered messages; once alice has them all live, she
pages through her archive with slixmpp's iterator API, 50 per page:
forwards (RSM after) and backwards (RSM before), filtered on bob, and
forwards unfiltered. Every body appears exactly once and in order, and the
archive ids equal the <stanza-id/>s the live messages carried.
"""

from slixmpp import JID

from skald_interop import Client, check, log, run, until

N, PAGE = 300, 50
NSMAM = "urn:xmpp:mam:2"
BODIES = ["message %03d from bob" % i for i in range(1, N + 1)]


def unwrap(result):
    """(archive id, body, from) of one MAM result message."""
    check(result["mam_result"]["queryid"], "result without queryid: %s" % result)
    inner = result["mam_result"]["forwarded"]["stanza"]
    return result["mam_result"]["id"], inner["body"], str(inner["from"])


async def collect(alice, **kw):
    """Pages forwards with slixmpp's iterate()."""
    out = []
    async for result in alice["xep_0313"].iterate(rsm={"max": PAGE}, **kw):
        out.append(unwrap(result))
    return out


async def collect_backward(alice, **kw):
    """Pages backwards with slixmpp's page iterator, newest first.

    slixmpp 1.8.3's ResultIterator (XEP-0059) stops when first index +
    page size == count, which when paging backwards holds for the *first*
    page it gets (the newest one), so iterate(reverse=True) yields one
    page only from a server that sends <first index=.../> there (as
    XEP-0059 says it SHOULD). We clear its stop flag unless the page
    started at index 0; it then also stops at the empty page before the
    oldest one, as it does against servers that send no index."""
    out = []
    pages = alice["xep_0313"].retrieve(reverse=True, iterator=True, rsm={"max": PAGE}, **kw)
    async for page in pages:
        out.extend(reversed([unwrap(r) for r in page["mam"]["results"]]))
        if page["mam_fin"]["rsm"]["first_index"] != "0":
            pages._stop = False
    return out


def check_sequence(what, got, live_ids, reverse=False):
    want = list(reversed(BODIES)) if reverse else BODIES
    bodies = [b for _, b, _ in got]
    check(len(got) == N, "%s: %d results, want %d" % (what, len(got), N))
    if bodies != want:
        firstdiff = next(i for i, (a, b) in enumerate(zip(bodies, want)) if a != b)
        fail_at = bodies[max(0, firstdiff - 2):firstdiff + 3]
        check(False, "%s: order differs at position %d: got %s" % (what, firstdiff, fail_at))
    ids = [i for i, _, _ in got]
    check(len(set(ids)) == N, "%s: archive ids are not unique" % what)
    for aid, body, frm in got:
        check(aid == live_ids[body], "%s: %r has archive id %s, but arrived live with stanza-id %s"
              % (what, body, aid, live_ids[body]))
        check(frm == "bob@localhost/outbox", "%s: %r archived as from %s" % (what, body, frm))


async def main():
    alice = Client("alice", "reader", plugins=["xep_0313"])
    bob = Client("bob", "outbox")
    await alice.login()
    await bob.login()
    alice.send_presence()
    await alice.sync()

    for body in BODIES:
        bob.send_message(mto=JID("alice@localhost"), mbody=body, mtype="chat")
    await until(lambda: len(alice.messages) >= N, lambda: "alice to receive %d messages (has %d)" % (N, len(alice.messages)), timeout=20)
    await alice.sync()
    got = [m["body"] for m in alice.messages]
    check(got == BODIES, "live delivery: %d messages, not the %d sent in order" % (len(got), N))
    live_ids = {}
    for m in alice.messages:
        sid = m["stanza_id"]
        check(sid["by"] == "alice@localhost" and sid["id"], "live message without alice's stanza-id: %s" % m)
        live_ids[m["body"]] = sid["id"]
    check(len(set(live_ids.values())) == N, "live stanza-ids are not unique")
    log("alice received %d live messages with distinct stanza-ids" % N)

    bob_jid = JID("bob@localhost")
    check_sequence("forward, with bob", await collect(alice, with_jid=bob_jid), live_ids)
    check_sequence("backward, with bob", await collect_backward(alice, with_jid=bob_jid), live_ids, reverse=True)
    check_sequence("forward, unfiltered", await collect(alice), live_ids)
    log("%d results forwards and backwards, in order, ids match" % N)

    # The pages themselves, through the lower-level paging API: 6 pages of
    # 50, the RSM count, and complete='true' on the last page only.
    pages = []
    async for page in alice["xep_0313"].retrieve(with_jid=bob_jid, iterator=True, rsm={"max": PAGE}):
        fin = page["mam_fin"]
        pages.append((len(page["mam"]["results"]), fin["rsm"]["count"], fin["rsm"]["first_index"], fin.xml.get("complete") == "true"))
    # first@index is optional (Skald sends it when it is cheap to know).
    pages = [(n, count, idx if idx in ("", str(i * PAGE)) else "bad index " + idx, complete)
             for i, (n, count, idx, complete) in enumerate(pages)]
    want = [(PAGE, str(N), pages[i][2], i == N // PAGE - 1) for i in range(N // PAGE)]
    # Without an index on the last page slixmpp asks once more and gets an
    # empty page; it stops there.
    check(pages[:len(want)] == want, "pages (results, count, first index, complete):\n  got  %s\n  want %s" % (pages, want))
    check(all(p[0] == 0 for p in pages[len(want):]), "extra non-empty pages: %s" % pages[len(want):])
    log("retrieve(iterator=True): %d pages of %d, count %d, last page complete" % (len(want), PAGE, N))

    for c in (alice, bob):
        c.assert_healthy()
        await c.logout()


run(main)
