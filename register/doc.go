// Package register implements In-Band Registration (XEP-0077, version
// 2.4) for the server's own accounts: users change their password and
// delete their account from their client, and, when the operator allows
// it, new users sign up from theirs.
//
// After authentication (router iq handlers; to the server domain, or
// without 'to'; an iq to another account or domain: service-unavailable):
//
//   - get (§3.1): <registered/>, <username/> with the account's
//     localpart and an empty <password/> (passwords are not kept, only
//     SCRAM keys).
//   - set with <username/> and <password/> (§3.3): the password changes.
//     The SCRAM-SHA-1 and -SHA-256 keys are derived as skald user passwd
//     derives them. The username must be the account's (a bare localpart
//     or the bare JID, normalised): forbidden otherwise; a missing
//     element or an empty password: bad-request, and the old password
//     stays. The account's other sessions, and XEP-0198 sessions waiting
//     for resumption, keep running (see changePassword).
//   - set with <remove/> (§3.2), when allow_cancel: the account's
//     presence subscriptions are cancelled as if each roster item were
//     removed (§3.2 SHOULD; RFC 6121 §2.5.2: contacts get unavailable
//     presence, unsubscribe and unsubscribed; Hooks.BeforeDelete), the
//     account and everything it owns are deleted as skald user del does
//     (storage.Users.DeleteUser, then the uploaded files and the
//     account's room affiliations but bans, Hooks.AfterDelete), the result is answered, and then every stream of the account, the sender's
//     included, ends with the not-authorized stream error; sessions
//     waiting for resumption end too. <remove/> with siblings:
//     bad-request; allow_cancel = false: not-allowed; an account gone
//     meanwhile: registration-required.
//   - Either set from a disabled account (storage.Users.SetUserDisabled;
//     its streams run on when skald user disable, another process,
//     disabled it): not-allowed, so that it deletes nothing the
//     operator keeps as evidence and keeps its password.
//
// Before authentication (RegisterUnauthenticated, which c2s calls for the
// jabber:iq:register iqs of an unauthenticated stream, and only over TLS
// or a transport that is encrypted, §11; c2s also offers the
// http://jabber.org/features/iq-register stream feature, §8, then):
//
//   - allow_registration = false (the default): service-unavailable
//     (§3.1: a host without in-band registration).
//   - get: <instructions/>, <username/>, <password/>; no data form.
//   - set: the account username@domain of the stream is created with
//     that password; the client then authenticates on the same stream.
//     A missing or empty username or password: not-acceptable (§3.1); a
//     username that is no RFC 7622 localpart or longer than 64 bytes
//     after normalisation: not-acceptable; an existing account:
//     conflict; <remove/>: unexpected-request (§3.2's table). More than
//     registrations_per_hour_per_ip accounts from one address (IPv6: one /64) in an hour:
//     policy-violation, type wait (§3.1.1 allows not-acceptable; a rate is
//     a local policy, RFC 6120 §8.3.3.12).
//
// c2s refuses a second registration on a connection that registered an
// account (not-acceptable, §3.1.1 MAY) without asking the module.
//
// The account operations (accounts.go: CreateAccount, SetPassword,
// DeleteAccount, EndSessions) are the running server's one path for
// them: cancellation above uses them, and so do the XEP-0133 commands of
// adhoc (adhoc.Accounts, wired by internal/server).
//
// Not implemented: data forms (§4) and redirection (§5). (Directed
// presence of a deleted account's sessions is ended by presence when
// they end.)
//
// Config ([register]):
//
//	allow_registration = false          # sign-up before authentication
//	allow_cancel = true                 # users may delete their account
//	registrations_per_hour_per_ip = 3   # 0 = no limit
//
// Feature: jabber:iq:register, on the server.
package register
