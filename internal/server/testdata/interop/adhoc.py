"""Scenario 14: Ad-Hoc Commands (XEP-0050) with slixmpp's xep_0050
plugin as an administrator's client, XEP-0133 commands on the server
(alice is in admins).

alice finds the commands feature in the server's disco#info and the
admin commands in its command list (get_commands); bob, no admin, gets
only the user command for his push notifications in group chats, and
runs it through the plugin's workflow (choosing "all"). alice runs add-user through the plugin's workflow
(start_command, then complete_command with the filled-in form): the
first answer is the form (status executing, a session id), the second
completes. dave, the new account, logs in with the password alice chose.
alice then asks get-online-users-num with send_command (no form: it
completes at once) and sees dave and herself online; finally she starts
delete-user and cancels it (status canceled), and dave stays.
"""

import asyncio

from slixmpp.exceptions import IqError

from skald_interop import DOMAIN, Client, check, log, run

COMMANDS = "http://jabber.org/protocol/commands"
ADMIN = "http://jabber.org/protocol/admin"
PUSH_GROUPCHAT = "https://skald.im/commands#push-groupchat"


async def run_workflow(client, node, answers=None, cancel=False):
    """Runs node with the plugin's session workflow: start_command, then
    complete_command with answers filled into the form it got (or
    cancel_command). Returns the first answer's status, session id and
    form fields, and the last answer."""
    done = asyncio.get_running_loop().create_future()
    first = []

    def failed(iq, session):
        if not done.done():
            done.set_exception(AssertionError("%s: %s" % (node, iq["error"]["condition"])))

    def finished(iq, session):
        if not done.done():
            done.set_result(iq)

    def got_form(iq, session):
        form = iq["command"]["form"]
        # Read before the form is filled in (in place) below.
        fields = form["fields"]  # a dict or a list of fields, by slixmpp version
        names = list(fields) if isinstance(fields, dict) else [f["var"] for f in fields]
        first.append((iq["command"]["status"], iq["command"]["sessionid"], names))
        session["next"] = finished
        if cancel:
            client["xep_0050"].cancel_command(session)
            return
        form["type"] = "submit"
        for var, value in answers.items():
            form.set_values({**form.get_values(), var: value})
        session["payload"] = form
        client["xep_0050"].complete_command(session)

    client["xep_0050"].start_command(DOMAIN, node, {"next": got_form, "error": failed})
    last = await asyncio.wait_for(done, 10)
    return first[0], last


async def main():
    alice = Client("alice", "desk", plugins=["xep_0030", "xep_0004", "xep_0050"])
    await alice.login()
    bob = Client("bob", "phone", plugins=["xep_0030", "xep_0004", "xep_0050"])
    await bob.login()

    info = await alice["xep_0030"].get_info(jid=DOMAIN, timeout=5)
    check(COMMANDS in info["disco_info"]["features"], "server features: %s" % info["disco_info"]["features"])
    items = await alice["xep_0050"].get_commands(DOMAIN, timeout=5)
    nodes = [node for (_, node, _) in items["disco_items"]["items"]]
    check(ADMIN + "#add-user" in nodes and ADMIN + "#delete-user" in nodes, "alice's commands: %s" % nodes)
    log("alice sees %d admin commands" % len(nodes))
    items = await bob["xep_0050"].get_commands(DOMAIN, timeout=5)
    nodes = [node for (_, node, _) in items["disco_items"]["items"]]
    check(nodes == [PUSH_GROUPCHAT], "bob's commands: %s" % nodes)
    try:
        await bob["xep_0050"].send_command(DOMAIN, ADMIN + "#add-user", timeout=5)
        check(False, "bob ran add-user")
    except IqError as e:
        check(e.iq["error"]["condition"] == "forbidden", "bob's add-user: %s" % e.iq)
    log("bob sees only his own command and may not run add-user")

    first, last = await run_workflow(bob, PUSH_GROUPCHAT, {"groupchat": "all"})
    status, sessionid, fields = first
    check(status == "executing" and sessionid and "groupchat" in fields, "push-groupchat form: %s" % (first,))
    check(last["command"]["status"] == "completed", "push-groupchat, last answer: %s" % last)
    notes = [text for (_, text) in last["command"]["notes"]]
    check(any("all" in n for n in notes), "push-groupchat notes: %s" % notes)
    log("bob chose to be woken for every group chat message")

    first, last = await run_workflow(alice, ADMIN + "#add-user", {
        "accountjid": "dave@" + DOMAIN, "password": "dave's pw", "password-verify": "dave's pw"})
    status, sessionid, fields = first
    check(status == "executing" and sessionid, "add-user, first answer: %s" % (first,))
    check("accountjid" in fields and "password" in fields, "add-user form fields: %s" % fields)
    check(last["command"]["status"] == "completed", "add-user, last answer: %s" % last)
    log("alice added dave")

    dave = Client("dave", "laptop", password="dave's pw")
    await dave.login()
    log("dave logged in with the password alice chose")

    iq = await alice["xep_0050"].send_command(DOMAIN, ADMIN + "#get-online-users-num", timeout=5)
    check(iq["command"]["status"] == "completed", "online users: %s" % iq)
    num = iq["command"]["form"]["values"].get("onlineusersnum")
    check(num == "3", "online users: %r in %s" % (num, iq))
    log("alice counts %s online users" % num)

    _, last = await run_workflow(alice, ADMIN + "#delete-user", cancel=True)
    check(last["command"]["status"] == "canceled", "delete-user, cancelled: %s" % last)
    await dave.sync()
    log("alice cancelled delete-user; dave is still online")

    for c in (alice, bob, dave):
        c.assert_healthy()
        await c.logout()


run(main)
