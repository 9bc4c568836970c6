"""Scenario: disabling an account (XEP-0133 disable-user and
reenable-user) seen by slixmpp.

alice (an admin) disables bob through slixmpp's xep_0050 workflow with
a reason; bob's open stream ends with the policy-violation stream error,
whose text says the account is disabled (not the reason). A new login of
bob's, with the right password, is refused with the SASL condition
account-disabled (RFC 6120 section 6.5.1) for every mechanism slixmpp
tries with the password (-PLUS SCRAM, PLAIN), and slixmpp gives up. alice re-enables bob, who logs in again.
"""

import asyncio

from skald_interop import DOMAIN, ERRORS, Client, Failure, check, log, run, until

ADMIN = "http://jabber.org/protocol/admin"


async def run_workflow(client, node, answers):
    """start_command, then complete_command with answers filled into the
    form; returns the last answer."""
    done = asyncio.get_running_loop().create_future()

    def failed(iq, session):
        if not done.done():
            done.set_exception(AssertionError("%s: %s" % (node, iq["error"]["condition"])))

    def finished(iq, session):
        if not done.done():
            done.set_result(iq)

    def got_form(iq, session):
        form = iq["command"]["form"]
        session["next"] = finished
        form["type"] = "submit"
        for var, value in answers.items():
            form.set_values({**form.get_values(), var: value})
        session["payload"] = form
        client["xep_0050"].complete_command(session)

    client["xep_0050"].start_command(DOMAIN, node, {"next": got_form, "error": failed})
    return await asyncio.wait_for(done, 10)


async def main():
    alice = Client("alice", "desk", plugins=["xep_0030", "xep_0004", "xep_0050"])
    await alice.login()
    bob = Client("bob", "phone")
    await bob.login()

    last = await run_workflow(alice, ADMIN + "#disable-user",
                              {"accountjids": ["bob@" + DOMAIN], "x-reason": "spam report 12"})
    check(last["command"]["status"] == "completed", "disable-user: %s" % last)
    log("alice disabled bob")
    await until(lambda: any("policy-violation" in p for p in bob.problems),
                lambda: "bob: a policy-violation stream error (problems: %s)" % bob.problems, timeout=5)
    err = [p for p in bob.problems if "policy-violation" in p][0]
    check("disabled" in err and "spam" not in err, "bob's stream error: %s" % err)
    log("bob's stream ended with policy-violation: the account is disabled")

    again = Client("bob", "again")
    try:
        await again.login(timeout=5)
        check(False, "the disabled account logged in")
    except Failure:
        pass
    check(again.failed_auth, "bob: no SASL failure recorded (problems: %s)" % again.problems)
    for mech, failure in again.failed_auth:
        # slixmpp's plain SCRAM attempts after -PLUS carry the "y" flag,
        # which RFC 5802 section 6 makes the server refuse (downgrade
        # protection) before any password is checked; every other
        # attempt had the right password.
        ok = "account-disabled" in failure or (
            mech.startswith("SCRAM-") and not mech.endswith("-PLUS") and "server supports channel binding" in failure)
        check(ok, "bob: %s refused with %s, want account-disabled" % (mech, failure))
    check(any("account-disabled" in f for _, f in again.failed_auth), "bob: no account-disabled in %s" % again.failed_auth)
    check(any(m == "PLAIN" for m, _ in again.failed_auth), "bob: slixmpp did not try PLAIN: %s" % again.failed_auth)
    log("bob's login is refused with account-disabled (%s)" % ", ".join(m for m, _ in again.failed_auth))
    try:
        again.abort()
    except AttributeError:
        pass  # the transport is gone already (see register.py)

    last = await run_workflow(alice, ADMIN + "#reenable-user", {"accountjids": ["bob@" + DOMAIN]})
    check(last["command"]["status"] == "completed", "reenable-user: %s" % last)
    back = Client("bob", "back")
    await back.login()
    log("re-enabled, bob logs in again")

    for c in (alice, back):
        c.assert_healthy()
        await c.logout()
    # slixmpp logs the refused login as an error; nothing else may be.
    unexpected = [r for r in ERRORS.records if "No appropriate login method" not in r]
    check(not unexpected, "slixmpp logged errors: %s" % unexpected)
    ERRORS.records.clear()


run(main)
