package register

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

func TestRegisterUnauthenticated(t *testing.T) {
	const fields = `<query xmlns="jabber:iq:register"><instructions>Choose a username and password for use with this server.</instructions><username/><password/></query>`
	set := func(inner string) string {
		return `<iq type="set" id="s1"><query xmlns="jabber:iq:register">` + inner + `</query></iq>`
	}
	on := Config{AllowRegistration: true, RegistrationsPerHourPerIP: 3}
	tests := []struct {
		name    string
		cfg     Config
		in      string
		want    string           // the result's payload
		err     stanza.Condition // or the error
		created string           // the account that exists afterwards
	}{
		{name: "off", cfg: DefaultConfig(), in: `<iq type="get" id="s1"><query xmlns="jabber:iq:register"/></iq>`, err: stanza.ServiceUnavailable},
		{name: "off, set", cfg: DefaultConfig(), in: set(`<username>bill</username><password>pw</password>`), err: stanza.ServiceUnavailable},
		{name: "get fields", cfg: on, in: `<iq type="get" id="s1"><query xmlns="jabber:iq:register"/></iq>`, want: fields},
		{name: "create", cfg: on, in: set(`<username>bill</username><password>Calliope</password>`), created: "bill@example.org"},
		{name: "create, normalised", cfg: on, in: set(`<username>Bill</username><password>Calliope</password>`), created: "bill@example.org"},
		{name: "taken", cfg: on, in: set(`<username>romeo</username><password>pw</password>`), err: stanza.ConflictCond},
		{name: "taken, in another case", cfg: on, in: set(`<username>ROMEO</username><password>pw</password>`), err: stanza.ConflictCond},
		{name: "no password", cfg: on, in: set(`<username>bill</username>`), err: stanza.NotAcceptable},
		{name: "empty password", cfg: on, in: set(`<username>bill</username><password/>`), err: stanza.NotAcceptable},
		{name: "empty username", cfg: on, in: set(`<username></username><password>pw</password>`), err: stanza.NotAcceptable},
		{name: "not a localpart", cfg: on, in: set(`<username>bill@home</username><password>pw</password>`), err: stanza.NotAcceptable},
		{name: "too long", cfg: on, in: set(`<username>` + string(make65()) + `</username><password>pw</password>`), err: stanza.NotAcceptable},
		{name: "remove", cfg: on, in: set(`<remove/>`), err: stanza.UnexpectedRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := memory.New()
			defer st.Close()
			ctx := context.Background()
			if err := st.CreateUser(ctx, romeo, newCreds(t, "x")); err != nil {
				t.Fatal(err)
			}
			m := New(tt.cfg, st, nil, Hooks{}, slog.New(slog.DiscardHandler))
			got, err := m.RegisterUnauthenticated(ctx, routertest.Parse(t, tt.in), "example.org", "192.0.2.1")
			if tt.err != "" {
				if se, ok := err.(*stanza.Error); !ok || se.Condition != tt.err {
					t.Fatalf("error = %v, want %s", err, tt.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			gotXML := ""
			if got != nil {
				gotXML = got.String()
			}
			if gotXML != tt.want {
				t.Errorf("payload:\ngot:  %s\nwant: %s", gotXML, tt.want)
			}
			users, _ := st.ListUsers(ctx, "")
			want := []string{romeo}
			if tt.created != "" {
				want = []string{tt.created, romeo}
			}
			routertest.Equal(t, "accounts", users, want...)
		})
	}
}

func make65() []byte {
	b := make([]byte, 65)
	for i := range b {
		b[i] = 'a'
	}
	return b
}

func newCreds(t *testing.T, pw string) storage.Credentials {
	t.Helper()
	c, err := newCredentials(pw)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRateLimit: three accounts per address and hour; a conflict does not
// count; another address is not affected; an hour later the address may
// again.
func TestRateLimit(t *testing.T) {
	st := memory.New()
	defer st.Close()
	ctx := context.Background()
	m := New(Config{AllowRegistration: true, RegistrationsPerHourPerIP: 3}, st, nil, Hooks{}, slog.New(slog.DiscardHandler))
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m.limit.now = func() time.Time { return now }
	register := func(name, ip string) stanza.Condition {
		t.Helper()
		// A name starting with "!" sends a password with a control
		// character (a tab), which PRECIS refuses.
		pw := "pw"
		if n, ok := strings.CutPrefix(name, "!"); ok {
			name, pw = n, "p\tw"
		}
		iq := routertest.Parse(t, `<iq type="set" id="s1"><query xmlns="jabber:iq:register"><username>`+name+`</username><password>`+pw+`</password></query></iq>`)
		_, err := m.RegisterUnauthenticated(ctx, iq, "example.org", ip)
		if err == nil {
			return ""
		}
		se, ok := err.(*stanza.Error)
		if !ok {
			t.Fatal(err)
		}
		if se.Condition == stanza.PolicyViolation && se.Type != stanza.Wait {
			t.Errorf("rate error type %s, want wait", se.Type)
		}
		return se.Condition
	}
	steps := []struct {
		name, ip string
		advance  time.Duration
		want     stanza.Condition
	}{
		{"!bad", "192.0.2.1", 0, stanza.NotAcceptable}, // does not count
		{"a1", "192.0.2.1", 0, ""},
		{"a2", "192.0.2.1", 10 * time.Minute, ""},
		{"a1", "192.0.2.1", 0, stanza.ConflictCond}, // does not count
		{"a3", "192.0.2.1", 10 * time.Minute, ""},
		{"a4", "192.0.2.1", 0, stanza.PolicyViolation},
		{"b1", "192.0.2.2", 0, ""},
		{"a4", "192.0.2.1", 39 * time.Minute, stanza.PolicyViolation}, // a1 is 59 minutes old
		{"a4", "192.0.2.1", time.Minute, ""},                          // a1 is an hour old
		{"a5", "192.0.2.1", 0, stanza.PolicyViolation},
		// Past the limit no password is looked at (its SCRAM keys are
		// not derived): the refusal is the limit's.
		{"!bad", "192.0.2.1", 0, stanza.PolicyViolation},
		{"a5", "::ffff:192.0.2.1", 0, stanza.PolicyViolation}, // the same IPv4 host
		// An IPv6 host has a /64 to pick addresses from: it counts as one.
		{"c1", "2001:db8:1:2::1", 0, ""},
		{"c2", "2001:db8:1:2::2", 0, ""},
		{"c3", "2001:db8:1:2:aaaa::3", 0, ""},
		{"c4", "2001:db8:1:2:ffff::4", 0, stanza.PolicyViolation},
		{"d1", "2001:db8:1:3::1", 0, ""}, // another /64
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if got := register(s.name, s.ip); got != s.want {
			t.Fatalf("step %d (%s from %s): %q, want %q", i, s.name, s.ip, got, s.want)
		}
	}
}
