"""Scenario: XEP-0045 room information and nick registration, read and
driven by slixmpp's own plugins (xep_0030 + xep_0128 for disco with its
data form, xep_0077 + xep_0004 for jabber:iq:register, xep_0045 to join).

alice creates a room and configures it (name, description, language,
contact address). carol, outside the room, asks its disco#info: the
identity carries the room's name, the muc#roominfo form its description,
language, contact, subject and occupant count (a public open room). carol
asks for the registration form, submits it with the nick Carol, then
finds it at the x-roomuser-item node and in the registration result
(<registered/>, <username/>). bob is refused the nick on entering
(conflict); carol enters with it as a member.
"""

from slixmpp import JID
from slixmpp.exceptions import PresenceError

from skald_interop import DOMAIN, Client, check, fail, log, run, until

ROOM = JID("garden@conference." + DOMAIN)
ROOMINFO = "http://jabber.org/protocol/muc#roominfo"
PLUGINS = ["xep_0045", "xep_0004", "xep_0030", "xep_0128", "xep_0077"]


def codes(pres):
    return {int(c) for c in pres["muc"]["status_codes"]}


def roominfo(info):
    for f in info["disco_info"].iterables:
        if f.plugin_attrib == "form":
            values = f.get_values()
            if values.get("FORM_TYPE") in (ROOMINFO, [ROOMINFO]):
                return values
    fail("no muc#roominfo form in %s" % info)


async def main():
    alice = Client("alice", "phone", plugins=PLUGINS)
    bob = Client("bob", "desk", plugins=PLUGINS)
    carol = Client("carol", "tablet", plugins=PLUGINS)
    for c in (alice, bob, carol):
        await c.login()

    pres, _s, _o, _h = await alice["xep_0045"].join_muc_wait(ROOM, "Al", maxstanzas=0, timeout=5)
    check(201 in codes(pres), "alice: creation codes %s" % codes(pres))
    form = alice["xep_0004"].make_form(ftype="submit")
    form.add_field(var="FORM_TYPE", value="http://jabber.org/protocol/muc#roomconfig")
    form.add_field(var="muc#roomconfig_roomname", value="Garden")
    form.add_field(var="muc#roomconfig_roomdesc", value="Plants and weeds")
    form.add_field(var="muc#roomconfig_lang", value="en")
    form.add_field(var="muc#roominfo_contactjid", ftype="jid-multi", value=["alice@" + DOMAIN])
    await alice["xep_0045"].set_room_config(ROOM, form, timeout=5)
    subjects = []
    alice.add_event_handler("groupchat_subject", lambda m: subjects.append(m["subject"]))
    alice["xep_0045"].set_subject(ROOM, "Roses")
    # carol asks on another stream: the room has the subject once alice
    # got it back.
    await until(lambda: "Roses" in subjects, "alice to see the subject set")
    log("alice configured %s" % ROOM)

    info = await carol["xep_0030"].get_info(jid=ROOM, local=False, cached=False, timeout=5)
    names = [i[3] for i in info["disco_info"]["identities"] if i[0] == "conference"]
    check(names == ["Garden"], "carol: room identities %s" % info["disco_info"]["identities"])
    features = info["disco_info"]["features"]
    for f in ("http://jabber.org/protocol/muc", "jabber:iq:register",
              "http://jabber.org/protocol/muc#stable_id", "http://jabber.org/protocol/muc#self-ping-optimization"):
        check(f in features, "carol: feature %s missing from %s" % (f, features))
    values = roominfo(info)
    want = {
        "muc#roominfo_description": "Plants and weeds",
        "muc#roominfo_lang": "en",
        "muc#roominfo_contactjid": [JID("alice@" + DOMAIN)],
        "muc#roominfo_subject": "Roses",
        "muc#roominfo_occupants": "1",
    }
    for k, v in want.items():
        check(values.get(k) == v, "carol: %s = %r, want %r (form %s)" % (k, values.get(k), v, values))
    log("carol read the room information: %s" % sorted(values))

    iq = carol.Iq()
    iq["type"], iq["to"] = "get", ROOM
    iq.enable("register")
    res = await iq.send(timeout=5)
    fields = res["register"]["form"].get_fields()
    check("muc#register_roomnick" in fields, "carol: registration form fields %s" % list(fields))
    check(not res["register"]["registered"], "carol: already registered?")

    iq = carol.Iq()
    iq["type"], iq["to"] = "set", ROOM
    sub = carol["xep_0004"].make_form(ftype="submit")
    sub.add_field(var="FORM_TYPE", value="http://jabber.org/protocol/muc#register")
    sub.add_field(var="muc#register_roomnick", value="Carol")
    iq["register"].append(sub)
    res = await iq.send(timeout=5)
    check(res["type"] == "result", "carol: registration %s" % res)

    nick = await carol["xep_0030"].get_info(jid=ROOM, node="x-roomuser-item", local=False, cached=False, timeout=5)
    names = [i[3] for i in nick["disco_info"]["identities"]]
    check(names == ["Carol"], "carol: reserved nick %s" % nick["disco_info"]["identities"])
    iq = carol.Iq()
    iq["type"], iq["to"] = "get", ROOM
    iq.enable("register")
    res = await iq.send(timeout=5)
    check(res["register"]["registered"] and res["register"]["username"] == "Carol",
          "carol: registration after registering %s" % res)
    log("carol registered the nick Carol and finds it reserved")

    try:
        await bob["xep_0045"].join_muc_wait(ROOM, "Carol", maxstanzas=0, timeout=5)
        check(False, "bob entered under carol's reserved nick")
    except PresenceError as e:
        check(e.condition == "conflict", "bob: refused with %s, want conflict" % e.condition)
    log("bob was refused the nick Carol")

    pres, _s, _o, _h = await carol["xep_0045"].join_muc_wait(ROOM, "Carol", maxstanzas=0, timeout=5)
    check(pres["muc"]["affiliation"] == "member", "carol: entered as %s" % pres["muc"]["affiliation"])
    log("carol entered as a member")

    for c in (alice, bob, carol):
        c.assert_healthy()
    for c in (alice, bob, carol):
        await c.logout()


run(main)
