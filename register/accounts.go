package register

import (
	"context"

	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/stream"
)

// The account operations below are the one path by which the running
// server creates, re-keys and deletes accounts: the user's own requests
// (XEP-0077, this package) and an administrator's (XEP-0133, adhoc,
// through its Accounts interface, which internal/server fills with this
// module) both go through them, so deleting an account removes the same
// things whoever asks, as skald user del does.

// CreateAccount creates account with password, its SCRAM keys derived as
// skald user add derives them. storage.ErrExists for an existing
// account; a *stanza.Error (not-acceptable) for a password PRECIS
// refuses.
func (m *Module) CreateAccount(ctx context.Context, account jid.JID, password string) error {
	creds, err := newCredentials(password)
	if err != nil {
		return err
	}
	return m.users.CreateUser(ctx, account.Bare().String(), creds)
}

// SetPassword replaces account's SCRAM keys (skald user passwd);
// storage.ErrNotFound for an unknown account. Running sessions go on.
func (m *Module) SetPassword(ctx context.Context, account jid.JID, password string) error {
	creds, err := newCredentials(password)
	if err != nil {
		return err
	}
	return m.users.SetUserCredentials(ctx, account.Bare().String(), creds)
}

// DeleteAccount deletes account and everything it owns: subscriptions
// are cancelled first (Hooks.BeforeDelete), then the store's data goes
// (storage.Users.DeleteUser), then uploads and room affiliations
// (Hooks.AfterDelete). The hooks' errors are logged, not returned: the
// account goes. storage.ErrNotFound for an unknown account. The
// account's streams keep running: the caller ends them (EndSessions)
// once it has answered.
func (m *Module) DeleteAccount(ctx context.Context, account jid.JID) error {
	account = account.Bare()
	bare := account.String()
	if ok, err := m.users.UserExists(ctx, bare); err != nil {
		return err
	} else if !ok {
		// Before the hooks: nothing to cancel for nobody.
		return storage.ErrNotFound
	}
	if m.hooks.BeforeDelete != nil {
		if err := m.hooks.BeforeDelete(ctx, account); err != nil {
			m.log.Error("register: before deleting an account", "account", bare, "err", err)
		}
	}
	if err := m.users.DeleteUser(ctx, bare); err != nil {
		return err
	}
	if m.hooks.AfterDelete != nil {
		if err := m.hooks.AfterDelete(ctx, account); err != nil {
			// The account is gone; leftover files expire with the
			// upload cleaner. Say so to the operator, not the client.
			m.log.Error("register: after deleting an account", "account", bare, "err", err)
		}
	}
	return nil
}

// EndSessions ends every stream of a deleted account, and XEP-0198
// sessions waiting for resumption, with the not-authorized stream error.
func (m *Module) EndSessions(account jid.JID) {
	for _, s := range m.router.Sessions(account.Bare().String()) {
		s.Close(string(stream.NotAuthorized))
	}
}
