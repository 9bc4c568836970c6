package mam

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/metrics/metricstest"
)

// TestMetrics checks that the archive's metrics count stored items (a
// resend once) and answered and failed queries, on both store paths:
// memory (the module checks for resends) and SQLite (the store does).
func TestMetrics(t *testing.T) {
	for _, tc := range []struct {
		name   string
		newEnv func(*testing.T, Config) *env
	}{{"memory", newEnv}, {"sqlite", newSQLiteEnv}} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.newEnv(t, DefaultConfig())
			reg := metrics.NewRegistry()
			reg.Register(e.m)
			val := func(name string) float64 { t.Helper(); return metricstest.Value(t, reg, name) }
			alice, arec := e.login("alice@example.com/a")
			e.login("bob@example.com/b")
			msg := func(body string) string {
				return `<message to='bob@example.com' type='chat'><body>` + body + `</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>`
			}
			e.send(alice, msg("hello"))
			e.send(alice, msg("hello")) // a resend: stored once
			e.send(alice, msg("other"))
			// Two messages, each in alice's and bob's archives.
			if v := val("skald_mam_messages_archived_total"); v != 4 {
				t.Errorf("archived = %v, want 4", v)
			}
			arec.take()

			if msgs, iq := e.query(alice, arec, "", ""); len(msgs) != 2 || iq.Attr("type") != "result" {
				t.Fatalf("query: %d messages, %s", len(msgs), iq)
			}
			if _, iq := e.query(alice, arec, "", `<set xmlns='http://jabber.org/protocol/rsm'><after>nope</after></set>`); iq.Attr("type") != "error" {
				t.Fatalf("bad query answered %s", iq)
			}
			if _, iq := e.query(alice, arec, " to='bob@example.com'", ""); iq.Attr("type") != "error" {
				t.Fatalf("query of another's archive answered %s", iq)
			}
			if q, qe := val("skald_mam_queries_total"), val("skald_mam_query_errors_total"); q != 1 || qe != 2 {
				t.Errorf("queries = %v, query errors = %v; want 1, 2", q, qe)
			}
		})
	}
}
