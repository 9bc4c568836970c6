package register

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/sasl"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// NS is the In-Band Registration namespace.
const NS = "jabber:iq:register"

// maxUsernameBytes caps a new account's localpart (RFC 7622 allows 1023
// bytes; nobody types that, and every stored row carries the JID).
const maxUsernameBytes = 64

// Module answers jabber:iq:register for authenticated users and, through
// RegisterUnauthenticated, for clients signing up.
type Module struct {
	cfg    Config
	users  storage.Users
	router *router.Router
	hooks  Hooks
	log    *slog.Logger
	limit  *hourlyLimiter
}

// Hooks are what deleting an account involves beyond the store. Other
// modules do it (register imports none); internal/server wires them.
// Either may be nil. An error is logged: the user asked for the account
// to go, and it goes.
type Hooks struct {
	// BeforeDelete runs while the account and its roster still exist:
	// presence cancels the account's subscriptions as for removed roster
	// items (RFC 6121 §2.5.2), so contacts see it go offline and leave
	// their rosters (XEP-0077 §3.2 SHOULD).
	BeforeDelete func(ctx context.Context, account jid.JID) error
	// AfterDelete runs once the store no longer has the account: its
	// uploaded files go.
	AfterDelete func(ctx context.Context, account jid.JID) error
}

// New returns the module.
func New(cfg Config, users storage.Users, r *router.Router, hooks Hooks, log *slog.Logger) *Module {
	if log == nil {
		log = slog.Default()
	}
	return &Module{cfg: cfg, users: users, router: r, hooks: hooks, log: log,
		limit: newHourlyLimiter(cfg.RegistrationsPerHourPerIP, time.Now)}
}

// Name implements router.Module.
func (*Module) Name() string { return "register" }

// DiscoFeatures implements router.FeatureProvider: the server supports
// password changes in-band (XEP-0077 §10), whatever the sign-up policy.
func (*Module) DiscoFeatures() (server, account []string) {
	return []string{NS}, nil
}

// RegisterIQ implements router.IQRegistrar. Requests go to the server
// (the XEP's examples) or carry no 'to' (which the router addresses to
// the own bare JID): both mean the user's home server.
func (m *Module) RegisterIQ(r *router.Router) {
	targets := router.ToServer | router.ToAccount
	r.HandleIQ(stanza.TypeGet, NS, "query", targets, router.IQHandlerFunc(m.get))
	r.HandleIQ(stanza.TypeSet, NS, "query", targets, router.IQHandlerFunc(m.set))
}

// home checks that iq is addressed to the sender's own server or account:
// another account is no registration service, and another served domain
// does not hold the sender's account.
func home(iq *router.IQ) error {
	if iq.To != iq.From.Bare() && iq.To != jid.MustParse(iq.From.Domain()) {
		return stanza.E(stanza.ServiceUnavailable, "")
	}
	return nil
}

// get answers §3.1's request for fields from a registered user: the
// account exists, so <registered/> and the username; the password is
// never returned (it is not kept, only SCRAM keys are).
func (m *Module) get(_ context.Context, iq *router.IQ) (*xml.Element, error) {
	if err := home(iq); err != nil {
		return nil, err
	}
	q := xml.New(NS, "query")
	q.Append(xml.New(NS, "instructions").AppendText("You are registered. Send a new password to change it, or <remove/> to delete the account."))
	q.Append(xml.New(NS, "registered"))
	q.Append(xml.New(NS, "username").AppendText(iq.From.Local()))
	q.Append(xml.New(NS, "password"))
	return stanza.Result(iq.Stanza).Append(q), nil
}

func (m *Module) set(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	if err := home(iq); err != nil {
		return nil, err
	}
	// A disabled account's streams run on when skald user disable (another
	// process) disabled it; they must neither delete what it owns, which
	// the operator keeps as evidence, nor change its password.
	switch st, err := m.users.UserStatus(ctx, iq.From.Bare().String()); {
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return nil, err
	case st.Disabled:
		return nil, stanza.E(stanza.NotAllowed, "this account is disabled")
	}
	if iq.Payload.Child(NS, "remove") != nil {
		return m.cancel(ctx, iq)
	}
	return m.changePassword(ctx, iq)
}

// changePassword is §3.3. Other sessions of the account keep running, and
// so do XEP-0198 sessions waiting for resumption: their clients proved
// the old password, as the running ones did, and the user who changes a
// password on one device expects the others to stay online. (Ending them
// all would need an operator: skald user passwd does not either.)
func (m *Module) changePassword(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	user := iq.Payload.Child(NS, "username")
	pass := iq.Payload.Child(NS, "password")
	if user == nil || pass == nil {
		return nil, stanza.E(stanza.BadRequest, "username and password are required")
	}
	if !sameLocalpart(user.Text(), iq.From) {
		return nil, stanza.E(stanza.Forbidden, "the username is not the account's")
	}
	if pass.Text() == "" {
		// §3.3: an empty password MUST NOT replace the existing one; the
		// request lacks information (bad-request in §3.3's table).
		return nil, stanza.E(stanza.BadRequest, "the password is empty")
	}
	creds, err := newCredentials(pass.Text())
	if err != nil {
		return nil, err
	}
	if err := m.users.SetUserCredentials(ctx, iq.From.Bare().String(), creds); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			// Deleted meanwhile (by the CLI, or another session).
			return nil, stanza.E(stanza.RegistrationRequired, "")
		}
		return nil, err
	}
	m.log.Info("register: password changed", "account", iq.From.Bare().String())
	return stanza.Result(iq.Stanza), nil
}

// sameLocalpart reports whether name, normalised as a localpart, is the
// account's: clients send what the user typed, maybe "Juliet" or
// "juliet@capulet.lit".
func sameLocalpart(name string, account jid.JID) bool {
	if j, err := jid.Parse(name); err == nil && j.Local() != "" && j.Resource() == "" {
		return j.Bare() == account.Bare()
	}
	j, err := jid.New(name, account.Domain(), "")
	return err == nil && j.Local() == account.Local()
}

// newCredentials derives the SCRAM keys exactly as skald user passwd does.
func newCredentials(password string) (storage.Credentials, error) {
	c, err := sasl.DeriveCredentials(password, sasl.DefaultIterations)
	if err != nil {
		// PRECIS OpaqueString refused it (control characters...).
		return storage.Credentials{}, stanza.E(stanza.NotAcceptable, "the password has characters that are not allowed")
	}
	return storage.Credentials{SHA1: storage.Credential(c.SHA1), SHA256: storage.Credential(c.SHA256)}, nil
}

// cancel is §3.2: the account and everything it owns go, the result is
// answered, then every stream of the account ends with not-authorized,
// the sender's after its result (router.IQ.AfterReply).
func (m *Module) cancel(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	if len(iq.Payload.Elements()) != 1 {
		return nil, stanza.E(stanza.BadRequest, "<remove/> must be the only child")
	}
	if !m.cfg.AllowCancel {
		return nil, stanza.E(stanza.NotAllowed, "accounts are not deleted in-band here")
	}
	account := iq.From.Bare()
	bare := account.String()
	if err := m.DeleteAccount(ctx, account); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, stanza.E(stanza.RegistrationRequired, "")
		}
		return nil, err
	}
	m.log.Info("register: account deleted by its user", "account", bare)
	iq.AfterReply = func() { m.EndSessions(account) }
	return stanza.Result(iq.Stanza), nil
}
