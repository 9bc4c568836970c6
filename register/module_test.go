package register

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/sasl"
	"github.com/skald-xmpp/skald/storage"
)

const (
	romeo  = "romeo@example.org"
	juliet = "juliet@example.org"
)

// setup returns a router with the module, romeo (password "old") and
// juliet.
func setup(t *testing.T, cfg Config, hooks Hooks) *routertest.Env {
	t.Helper()
	e := routertest.New(t, juliet)
	if err := e.Store.CreateUser(context.Background(), romeo, xmpptest.Credentials(t, "old")); err != nil {
		t.Fatal(err)
	}
	e.Router.Register(New(cfg, e.Store, e.Router, hooks, slog.New(slog.DiscardHandler)))
	return e
}

func passwordIs(t *testing.T, e *routertest.Env, bare, pw string) bool {
	t.Helper()
	c, err := e.Store.UserCredentials(context.Background(), bare)
	if err != nil {
		t.Fatal(err)
	}
	return sasl.VerifyPlain(sasl.Credentials{SHA1: sasl.Credential(c.SHA1), SHA256: sasl.Credential(c.SHA256)}, pw)
}

func TestAuthenticated(t *testing.T) {
	const (
		result = `<iq xmlns="jabber:client" type="result" id="r1" to="romeo@example.org/orchard"/>`
		// result from the server, when the iq named it.
		resultFromServer = `<iq xmlns="jabber:client" type="result" id="r1" from="example.org" to="romeo@example.org/orchard"/>`
	)
	errorReply := func(typ, cond, text string) string {
		return `<iq xmlns="jabber:client" id="r1" to="romeo@example.org/orchard" type="error"><error type="` + typ + `"><` + cond +
			` xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">` + text + `</text></error></iq>`
	}
	tests := []struct {
		name     string
		cfg      Config
		in, want string
		password string   // romeo's password afterwards
		gone     bool     // romeo's account deleted
		closed   []string // stream errors of romeo's sessions
		disabled bool     // romeo's account disabled (skald user disable) while his streams run
	}{{
		name:     "get: registered",
		cfg:      DefaultConfig(),
		in:       `<iq type="get" id="r1" to="example.org"><query xmlns="jabber:iq:register"/></iq>`,
		want:     `<iq xmlns="jabber:client" type="result" id="r1" from="example.org" to="romeo@example.org/orchard"><query xmlns="jabber:iq:register"><instructions>You are registered. Send a new password to change it, or &lt;remove/&gt; to delete the account.</instructions><registered/><username>romeo</username><password/></query></iq>`,
		password: "old",
	}, {
		name:     "change password, to the server",
		cfg:      DefaultConfig(),
		in:       `<iq type="set" id="r1" to="example.org"><query xmlns="jabber:iq:register"><username>romeo</username><password>new pass</password></query></iq>`,
		want:     resultFromServer,
		password: "new pass",
	}, {
		name:     "change password, no to, username as bare JID in capitals",
		cfg:      DefaultConfig(),
		in:       `<iq type="set" id="r1"><query xmlns="jabber:iq:register"><username>Romeo@Example.org</username><password>new</password></query></iq>`,
		want:     result,
		password: "new",
	}, {
		name:     "change password of another user",
		cfg:      DefaultConfig(),
		in:       `<iq type="set" id="r1"><query xmlns="jabber:iq:register"><username>juliet</username><password>new</password></query></iq>`,
		want:     errorReply("auth", "forbidden", "the username is not the account's"),
		password: "old",
	}, {
		name:     "empty password keeps the old one",
		cfg:      DefaultConfig(),
		in:       `<iq type="set" id="r1"><query xmlns="jabber:iq:register"><username>romeo</username><password/></query></iq>`,
		want:     errorReply("modify", "bad-request", "the password is empty"),
		password: "old",
	}, {
		name:     "no username",
		cfg:      DefaultConfig(),
		in:       `<iq type="set" id="r1"><query xmlns="jabber:iq:register"><password>new</password></query></iq>`,
		want:     errorReply("modify", "bad-request", "username and password are required"),
		password: "old",
	}, {
		name:     "password PRECIS refuses",
		cfg:      DefaultConfig(),
		in:       "<iq type=\"set\" id=\"r1\"><query xmlns=\"jabber:iq:register\"><username>romeo</username><password>a&#x85;b</password></query></iq>",
		want:     errorReply("modify", "not-acceptable", "the password has characters that are not allowed"),
		password: "old",
	}, {
		name:     "to another account",
		cfg:      DefaultConfig(),
		in:       `<iq type="set" id="r1" to="juliet@example.org"><query xmlns="jabber:iq:register"><remove/></query></iq>`,
		want:     `<iq xmlns="jabber:client" id="r1" from="juliet@example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
		password: "old",
	}, {
		name:   "cancel",
		cfg:    DefaultConfig(),
		in:     `<iq type="set" id="r1"><query xmlns="jabber:iq:register"><remove/></query></iq>`,
		want:   result,
		gone:   true,
		closed: []string{"not-authorized"},
	}, {
		name:     "cancel with other children",
		cfg:      DefaultConfig(),
		in:       `<iq type="set" id="r1"><query xmlns="jabber:iq:register"><remove/><username>romeo</username></query></iq>`,
		want:     errorReply("modify", "bad-request", "&lt;remove/&gt; must be the only child"),
		password: "old",
	}, {
		// Disabled from the CLI, which cannot end the streams: they may
		// neither delete the evidence nor change the password.
		name:     "cancel, disabled",
		cfg:      DefaultConfig(),
		disabled: true,
		in:       `<iq type="set" id="r1"><query xmlns="jabber:iq:register"><remove/></query></iq>`,
		want:     errorReply("cancel", "not-allowed", "this account is disabled"),
		password: "old",
	}, {
		name:     "change password, disabled",
		cfg:      DefaultConfig(),
		disabled: true,
		in:       `<iq type="set" id="r1"><query xmlns="jabber:iq:register"><username>romeo</username><password>new</password></query></iq>`,
		want:     errorReply("cancel", "not-allowed", "this account is disabled"),
		password: "old",
	}, {
		name:     "cancel not allowed",
		cfg:      Config{AllowCancel: false},
		in:       `<iq type="set" id="r1" to="example.org"><query xmlns="jabber:iq:register"><remove/></query></iq>`,
		want:     `<iq xmlns="jabber:client" id="r1" from="example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><not-allowed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">accounts are not deleted in-band here</text></error></iq>`,
		password: "old",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, tt.cfg, Hooks{})
			if tt.disabled {
				if err := e.Store.SetUserDisabled(context.Background(), romeo, true, "spam"); err != nil {
					t.Fatal(err)
				}
			}
			s, rec := e.Bind(romeo+"/orchard", true, 0)
			_, other := e.Bind(romeo+"/balcony", true, 0)
			_, julietRec := e.Bind(juliet+"/tomb", true, 0)
			e.Send(s, tt.in)
			routertest.Expect(t, rec, tt.want)
			routertest.Equal(t, "orchard closed", rec.Closed(), tt.closed...)
			routertest.Equal(t, "balcony closed", other.Closed(), tt.closed...)
			routertest.Equal(t, "juliet closed", julietRec.Closed())
			routertest.Expect(t, other)
			ok, err := e.Store.UserExists(context.Background(), romeo)
			if err != nil {
				t.Fatal(err)
			}
			if ok == tt.gone {
				t.Fatalf("account exists = %v, want %v", ok, !tt.gone)
			}
			if !tt.gone && !passwordIs(t, e, romeo, tt.password) {
				t.Errorf("the password is not %q", tt.password)
			}
		})
	}
}

// TestCancelHooks checks that cancellation runs BeforeDelete while the
// roster is there, deletes what the account owns in the store, then runs
// AfterDelete; their errors do not keep the account.
func TestCancelHooks(t *testing.T) {
	var calls []string
	ctx := context.Background()
	var e *routertest.Env
	e = setup(t, DefaultConfig(), Hooks{
		BeforeDelete: func(_ context.Context, account jid.JID) error {
			items, _, err := e.Store.Roster(ctx, account.String())
			calls = append(calls, fmt.Sprintf("before %s %d items %v", account, len(items), err))
			return errors.New("contacts unreachable")
		},
		AfterDelete: func(_ context.Context, account jid.JID) error {
			ok, _ := e.Store.UserExists(ctx, account.String())
			calls = append(calls, fmt.Sprintf("after %s exists %v", account, ok))
			return errors.New("disk on fire")
		},
	})
	if _, err := e.Store.PutRosterItem(ctx, romeo, storage.RosterItem{JID: juliet, Subscription: storage.SubBoth}, true); err != nil {
		t.Fatal(err)
	}
	s, rec := e.Bind(romeo+"/orchard", true, 0)
	e.Send(s, `<iq type="set" id="c1"><query xmlns="jabber:iq:register"><remove/></query></iq>`)
	routertest.Expect(t, rec, `<iq xmlns="jabber:client" type="result" id="c1" to="romeo@example.org/orchard"/>`)
	routertest.Equal(t, "hooks", calls, "before romeo@example.org 1 items <nil>", "after romeo@example.org exists false")
	if _, err := e.Store.UserCredentials(ctx, romeo); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("credentials after cancel: %v", err)
	}
	if items, _, err := e.Store.Roster(ctx, romeo); err != nil || len(items) != 0 {
		t.Errorf("roster after cancel: %v, %v", items, err)
	}
}
