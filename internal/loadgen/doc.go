// Package loadgen is the engine of skald-bench, a load generator for the
// client-to-server side of any XMPP server (Skald, Prosody, ejabberd…).
//
// # The client
//
// Client is a small XMPP client of its own, sharing nothing with the
// server but the XML reader/writer (internal/xml) and jid: TCP, STARTTLS
// (RFC 6120 §5, certificates not verified), SASL PLAIN (RFC 4616) or
// SCRAM-SHA-1/SCRAM-SHA-256 without channel binding (RFC 5802, RFC 7677;
// salted passwords are cached per Target, as real clients do), resource
// binding, the legacy session iq where a server still requires it,
// presence, XEP-0199 pings (used to learn that the server has processed
// what was sent before), and MAM queries (XEP-0313 urn:xmpp:mam:2 with
// RSM, XEP-0059) including the archive metadata request. One goroutine per
// connection reads the stream; iq replies, MAM results and messages are
// dispatched from there.
//
// # Scenarios
//
// Every scenario uses accounts FirstUser, FirstUser+1, … named by
// UserPattern and PasswordPattern; the number each needs is given below.
// Messages carry "skald-bench RUN FLOW SEQ" in the body (and RUN.FLOW.SEQ
// as id), so that every delivered, bounced or archived copy is attributed
// to its run; archives keep earlier runs' messages, which are never
// counted. Their origin-id (XEP-0359) is a random UUID, as real clients
// send (until 2026-12-08 it was RUN.FLOW.SEQ, which kept a server's
// origin-id index pages hot).
//
//   - write (2×P accounts): P pairs, each sender sends K chat messages to
//     its receiver's bare JID with at most W undelivered. Reports delivered
//     messages/s and send→delivery percentiles, loss and duplicates. Then
//     (unless disabled) both archives of each pair are paged through with
//     the peer, forward from the newest item before the run, and every
//     delivered message must be there exactly once on both sides, and every
//     stanza-id the receiver got (by its bare JID) must be an archive id.
//   - query (1+S accounts): S peers prefill account 0's archive with N
//     messages (the prefill rate is reported), then C sessions of account 0
//     run Q queries of each kind: the last page (<before/>), a start/end
//     window of about one page in the middle (bounds taken from the delay
//     stamps of a page fetched after a random prefill stanza-id), the last
//     page with the first peer, the metadata request, and a forward
//     page-through of 1000 messages by RSM <after/> from a random point.
//   - mixed (2×P+R accounts): R ≥ 2 readers prefill each other's archives
//     in a ring; write runs alone, then again while the readers page forward
//     through their whole archives over and over; reports how delivery
//     p50/p99 and throughput move.
//   - catchup (1+N accounts): N peers each send Seen+New messages to
//     account 0's first device, which remembers the archive id of the
//     Seen-th message per conversation and leaves; a second device logs in
//     and, per conversation, queries with the peer after that id and pages
//     until complete (the Conversations/Gajim catch-up); reports the time
//     from connecting to caught up.
//   - idle (C connections over up to C accounts): opens authenticated,
//     bound connections with presence; reports connections per second and,
//     given the server's pid, the growth of its VmRSS per connection.
//
// Results print as tables or marshal to JSON (one object per scenario,
// with a "scenario" field).
//
// # Accounts
//
// The bench never creates accounts. Create user1…userN with passwords
// matching the pattern (here the default, pw-user1…) beforehand:
//
// Skald (the password is read from stdin):
//
//	for i in $(seq 1 200); do printf 'pw-user%d\n' $i | skald user add user$i@localhost; done
//
// Prosody:
//
//	for i in $(seq 1 200); do prosodyctl register user$i localhost pw-user$i; done
//
// ejabberd:
//
//	for i in $(seq 1 200); do ejabberdctl register user$i localhost pw-user$i; done
//
// Comparisons are only fair with archiving on for every message and the
// servers' own rate limits out of the way: Prosody needs mod_mam enabled
// (its default policy archives everything) and its c2s rate limits
// (mod_limits) raised; ejabberd needs mod_mam with "default: always" (its
// default is never) and no c2s shaper. MAM page sizes above 50 are capped
// by most servers; the bench asks for 50.
package loadgen
