"""Scenario: Contact Addresses (XEP-0157) read with slixmpp's xep_0030 and
xep_0128 plugins.

The server is configured with abuse and status addresses; alice's
disco#info of the domain carries them in the
http://jabber.org/network/serverinfo form, as multi-valued fields.
"""

from slixmpp import JID

from skald_interop import Client, check, log, run

FORM_TYPE = "http://jabber.org/network/serverinfo"


async def main():
    alice = Client("alice", "home", plugins=["xep_0030", "xep_0128"])
    await alice.login()
    iq = await alice["xep_0030"].get_info(JID("localhost"), timeout=5)
    forms = [f for f in iq["disco_info"]["substanzas"] if f.name == "x"]
    info = None
    for f in forms:
        values = f.get_values()
        if values.get("FORM_TYPE") == [FORM_TYPE] or values.get("FORM_TYPE") == FORM_TYPE:
            info = values
    check(info is not None, "no serverinfo form in %s" % iq)
    check(info.get("abuse-addresses") == ["mailto:abuse@localhost", "xmpp:abuse@localhost"],
          "abuse-addresses: %s" % info)
    check(info.get("status-addresses") == ["https://status.localhost/"], "status-addresses: %s" % info)
    check("admin-addresses" not in info, "empty role published: %s" % info)
    log("serverinfo form: %s" % info)
    alice.assert_healthy()
    await alice.logout()


run(main)
