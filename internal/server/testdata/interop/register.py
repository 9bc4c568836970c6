"""Scenario 12: In-Band Registration (XEP-0077) with slixmpp's xep_0077
plugin, on a server with [register] allow_registration = true.

erin, who has no account, connects: the plugin sees the register stream
feature after STARTTLS, asks for the fields (§3.1) and submits a username
and password, and the same stream then authenticates with them. erin
changes her password with change_password (§3.3); another resource logs
in with the new password and a client with the old one is refused. erin
then cancels her account with cancel_registration (§3.2): the result
arrives, and both her streams end with the not-authorized stream error;
the account no longer logs in.

slixmpp 1.8.3 holds back every stanza but bind and session until the
session has started, its own registration iqs included (they would wait
forever); Registering lets them through until then.
"""

from slixmpp.exceptions import IqError

from skald_interop import DOMAIN, ERRORS, Client, Failure, check, log, run, until


class Registering(Client):
    """A client that creates its account in-band before authenticating."""

    def __init__(self, user, resource, password):
        super().__init__(user, resource, plugins=["xep_0077"], password=password)
        self.fields = None
        self._always_send_everything = True  # see the docstring
        self.add_event_handler("session_start", self._stop_sending_everything)
        self.add_event_handler("register", self._register)

    def _stop_sending_everything(self, _):
        self._always_send_everything = False

    async def _register(self, form):
        self.fields = form["register"]
        iq = self.Iq()
        iq["type"] = "set"
        iq["register"]["username"] = self.boundjid.user
        iq["register"]["password"] = self.password
        try:
            await iq.send(timeout=5)
        except IqError as e:
            self._problem("registration refused: %s" % e.iq["error"]["condition"])


async def refused(client):
    """True when client's login fails for want of a valid account."""
    try:
        await client.login()
    except Failure:
        return True
    return False


async def main():
    erin = Registering("erin", "phone", "first pw")
    await erin.login()
    check(erin.fields is not None and erin.fields.xml.find("{jabber:iq:register}username") is not None
          and erin.fields.xml.find("{jabber:iq:register}password") is not None,
          "erin: registration fields: %s" % erin.fields)
    log("erin registered in-band and logged in on the same stream")

    iq = await erin["xep_0077"].get_registration(jid=DOMAIN, timeout=5)
    check(iq["register"]["registered"] and iq["register"]["username"] == "erin",
          "erin: registration info once registered: %s" % iq)

    iq = await erin["xep_0077"].change_password("second pw", jid=DOMAIN, timeout=5)
    check(iq["type"] == "result", "erin: change_password: %s" % iq)
    await erin.sync()  # the stream goes on after the change
    log("erin changed her password")

    tablet = Client("erin", "tablet", password="second pw")
    await tablet.login()
    old = Client("erin", "old", password="first pw")
    check(await refused(old), "the old password still logs in")
    log("the new password logs in, the old one is refused")

    iq = await erin["xep_0077"].cancel_registration(timeout=5)
    check(iq["type"] == "result", "erin: cancel_registration: %s" % iq)
    for c in (erin, tablet):
        await until(lambda: any("not-authorized" in p for p in c.problems),
                    lambda: "%s: a not-authorized stream error (problems: %s)" % (c.name, c.problems), timeout=5)
    log("both of erin's streams ended with not-authorized")

    gone = Client("erin", "again", password="second pw")
    check(await refused(gone), "the cancelled account still logs in")
    log("the cancelled account no longer logs in")
    for c in (old, gone):
        # The server ended these streams after the refused logins; when
        # the TLS transport is already gone, slixmpp 1.8.3's abort()
        # raises AttributeError (asyncio's SSL protocol is None): there is
        # nothing left to abort then.
        try:
            c.abort()
        except AttributeError:
            pass
    # slixmpp logs the two refused logins as errors; nothing else may be.
    unexpected = [r for r in ERRORS.records if "No appropriate login method" not in r]
    check(not unexpected, "slixmpp logged errors: %s" % unexpected)
    ERRORS.records.clear()


run(main)
