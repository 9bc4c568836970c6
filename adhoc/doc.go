// Package adhoc implements Ad-Hoc Commands (XEP-0050, version 1.2) on
// the server's domain, and the Service Administration commands
// (XEP-0133, version 1.2) that operators run from Gajim, Psi,
// Converse.js or any client with an ad-hoc command menu.
//
// Framework (module.go, sessions.go, form.go):
//
//   - disco#items on a served domain with node
//     http://jabber.org/protocol/commands lists the commands the
//     requester may run (administrators: the admin commands; the
//     accounts of the domain: the user commands, below). disco#info on
//     that node answers automation/command-list; on a command's node
//     automation/command-node with the commands and jabber:x:data
//     features, or forbidden to a requester who may not run it
//     (disco.ServerNodeProvider).
//   - <command/> iq sets to the domain: execute (or no action) without
//     a sessionid starts a session bound to the requester's full JID
//     and answers the first form (status executing, <actions/> with the
//     allowed actions and the default) or, for a command without forms,
//     the outcome (status completed, with a sessionid). With the
//     sessionid: next and prev move between forms, complete (or execute
//     on the last form) runs the command (completed, <note/>s, perhaps
//     a result form), cancel ends the session (canceled).
//   - Errors (XEP-0050, Possible Errors): an unknown action
//     bad-request + malformed-action; an action not allowed at this
//     stage (prev on the first form, next on the last, complete before
//     it, anything but execute without a sessionid) bad-request +
//     bad-action; a missing form, one that is not a submission, or an
//     empty required field bad-request + bad-payload (the session stays
//     at its form); a sessionid that is not the requester's open session
//     of that node bad-request + bad-sessionid; one of the requester's
//     that completed, was canceled or timed out not-allowed +
//     session-expired (the last 1024 ended ids are remembered; older
//     ones get bad-sessionid); a language other than the session's
//     first bad-request + bad-locale; an unknown node item-not-found; a
//     command the requester may not run forbidden; no node bad-request.
//   - Answers are in English, xml:lang="en" on <command/>. A request in
//     another language is served in English rather than refused with
//     bad-locale: clients put their user interface's language on every
//     stanza, and refusing would lock out every operator whose client
//     is not in English.
//   - Sessions end when completed or canceled, after session_timeout
//     without a request, and when the requester's stream ends. An
//     account may have max_sessions_per_account open at once
//     (resource-constraint beyond; 10000 in all). A command that fails on a form
//     (conflict, bad-payload) keeps its session, so the form can be
//     corrected.
//
// XEP-0133 commands (admin.go), for the accounts listed in the
// top-level admins option (Prosody's name; bare JIDs of served domains,
// checked at load); others get forbidden:
//
//   - add-user: accountjid, password, password-verify; conflict when the
//     account exists. SCRAM keys derived as skald user add does.
//   - delete-user: accountjids (at most 100). Each account goes exactly
//     as when its user cancels it (XEP-0077, register.DeleteAccount:
//     subscriptions cancelled, store data, uploads, room affiliations),
//     and after the result its streams end with not-authorized.
//     Accounts that do not exist are named in an error note.
//   - disable-user (§4.3, disable.go): accountjids (at most 100), and
//     x-reason, Skald's optional note for operators (at most 1024
//     bytes; "x-" as XEP-0068 wants for a field XEP-0133 does not
//     register), never sent to the user. Each account is flagged in the
//     store (storage.Users.SetUserDisabled), all it owns staying ("MUST
//     NOT result in the destruction of any implementation-specific
//     data"); after the result its streams end ("MUST result in the
//     termination of any active sessions"), XEP-0198 sessions waiting
//     for resumption included, with the policy-violation stream error
//     (RFC 6120 §4.9.3.14: a local service policy) and a text saying the
//     account is disabled (router.Session.CloseWithText). c2s refuses
//     its logins with <account-disabled/>. The requester's own account
//     is not disabled (an error note says so): the administrator would
//     be cut off at once, with only the CLI to come back. skald user
//     disable sets the same flag but, another process, cannot end
//     streams. A login whose SASL exchange ended just before the flag
//     was written, and which binds only after the streams were listed,
//     is ended by c2s: it reads the flag again once the session is
//     bound (c2s conn.bind).
//   - reenable-user (§4.4): accountjids; the flag goes.
//   - change-user-password: accountjid, password. Running sessions go on.
//   - end-user-session: accountjids; a bare JID ends all of the account's
//     streams, a full JID that one, after the result, with the
//     policy-violation stream error.
//   - get-registered-users-num (counted in the store,
//     storage.Users.CountUsers; disabled accounts are registered),
//     get-disabled-users-num (§4.14), get-online-users-num (accounts
//     with a session), get-disabled-users-list (§4.19) and
//     get-online-users-list (max_items, at most 1000 whatever is asked;
//     a warning note says when the list is cut).
//   - get-user-roster: accountjids (one account): its roster as
//     jabber:iq:roster items inside the result form (§4.8), without the
//     items that only hold a stored subscription request.
//   - announce: subject and announcement (at most 4096 bytes together:
//     each session gets its own copy), sent as a headline message from
//     the domain to every available session of the domain's accounts.
//   - set-motd, edit-motd (its form shows the current text), delete-motd:
//     the domain's message of the day (at most 4096 bytes), sent as a
//     headline from the domain to every session at its initial presence
//     (router.AvailabilityObserver), each login. It is a
//     storage.Documents document the domain owns (kind "motd"; no account
//     is a bare domain), so it survives restarts on every backend; read
//     once per domain, then kept in memory. Setting or editing it also
//     sends it at once to the domain's available sessions (§4.24, note:
//     "sent immediately to users who are online when the message is
//     set").
//
// Administrators are server-wide: counts and lists are of the domain the
// command went to; accounts named in forms may be on any served domain.
// Account management goes through the Accounts interface, which
// register.Module implements and internal/server wires: one path for the
// user's own requests and the administrator's. Disabling is a flag in
// the store (Store) and closing sessions (router), which need nothing of
// register.
//
// Not implemented, and why: shutdown and restart (a server that stops
// itself on a chat request needs a supervisor to come back, and an
// operator who can log in to the host stops it better with its service
// manager; a wrong click would take everyone offline); get-user-lastlogin, user-stats, the welcome message,
// edit-blacklist, edit-admin and the other lists (not yet asked for;
// admins are configuration); the optional fields email, given_name and
// surname of add-user (nothing would keep them). Password change and
// account removal are XEP-0077's (register), not commands.
//
// User commands (push.go), listed to and run by the accounts of the
// domain the command is sent to only (Command.Local; others forbidden):
//
//   - https://skald.im/commands#push-groupchat: one form, a list-single
//     groupchat showing the account's choice of which group chat
//     messages wake its phone (XEP-0357; push package doc, "Group
//     chats"): default (the server's [push] groupchat), mentions, all,
//     none; any other value is bad-payload. The completed note says
//     the choice in force. Through PushSettings, which push.Module
//     implements and internal/server wires when push is enabled.
//
// Config ([adhoc]):
//
//	session_timeout = "10m"           # a session with no request this long ends
//	max_sessions_per_account = 10     # command sessions open at once per account
//
// Feature: http://jabber.org/protocol/commands, on the server.
package adhoc
