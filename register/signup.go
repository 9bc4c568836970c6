package register

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// RegisterUnauthenticated implements c2s.Registrar: XEP-0077 §3.1 for a
// client that has not authenticated, on an encrypted stream (c2s checks
// that) to domain. The new account then authenticates with SASL on the
// same stream, as any other.
func (m *Module) RegisterUnauthenticated(ctx context.Context, iq *xml.Element, domain, ip string) (*xml.Element, error) {
	if !m.cfg.AllowRegistration {
		// §3.1: a host without in-band registration.
		return nil, stanza.E(stanza.ServiceUnavailable, "")
	}
	q := iq.Child(NS, "query")
	if iq.Attr("type") == stanza.TypeGet {
		return signupFields(), nil
	}
	if q.Child(NS, "remove") != nil {
		// §3.2's table: an IM server asked to cancel by someone who has
		// no address, as nobody is registered on this stream.
		return nil, stanza.E(stanza.UnexpectedRequest, "authenticate first")
	}
	user, pass := q.Child(NS, "username"), q.Child(NS, "password")
	if user == nil || pass == nil || user.Text() == "" || pass.Text() == "" {
		// §3.1: MUST be not-acceptable, an empty password included.
		return nil, stanza.E(stanza.NotAcceptable, "choose a username and a password")
	}
	account, err := jid.New(user.Text(), domain, "")
	if err != nil || len(account.Local()) > maxUsernameBytes {
		return nil, stanza.E(stanza.NotAcceptable, "that username is not allowed: use letters, digits and . - _ (at most 64 bytes)")
	}
	// The limit comes before deriving the SCRAM keys: thousands of hash
	// rounds per attempt would otherwise be free for a client past it.
	if !m.limit.take(limitKey(ip)) {
		// A local policy (RFC 6120 §8.3.3.12), and for a while: type wait.
		e := stanza.E(stanza.PolicyViolation, "too many accounts registered from your address; try again later")
		e.Type = stanza.Wait
		return nil, e
	}
	creds, err := newCredentials(pass.Text())
	if err != nil {
		m.limit.giveBack(limitKey(ip))
		return nil, err
	}
	if err := m.users.CreateUser(ctx, account.String(), creds); err != nil {
		m.limit.giveBack(limitKey(ip))
		if errors.Is(err, storage.ErrExists) {
			return nil, stanza.E(stanza.ConflictCond, "that username is taken")
		}
		return nil, err
	}
	m.log.Info("register: account created in-band", "account", account.String(), "ip", ip)
	return nil, nil
}

// RegistrationOpen implements c2s.Registrar: c2s offers the stream
// feature only when allow_registration is on.
func (m *Module) RegistrationOpen() bool { return m.cfg.AllowRegistration }

// signupFields answers §3.1's request for fields: plain username and
// password, no data form (§4 makes forms optional).
func signupFields() *xml.Element {
	q := xml.New(NS, "query")
	q.Append(xml.New(NS, "instructions").AppendText("Choose a username and password for use with this server."))
	q.Append(xml.New(NS, "username"))
	q.Append(xml.New(NS, "password"))
	return q
}

// limitKey is what the sign-up limit counts by: an IPv4 address, or the
// /64 an IPv6 address is in. A single IPv6 host is routinely given a
// whole /64 (RFC 7934 even recommends it) and can pick a new address
// from it for every connection, so counting /128s limits nothing.
func limitKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// hourlyLimiter bounds how many accounts one client address creates in
// any hour (a sliding window). Its mutex is a leaf; no I/O happens under
// it. Memory: one entry per address that registered in the last hour.
type hourlyLimiter struct {
	perHour int // 0: no limit
	now     func() time.Time

	mu   sync.Mutex
	seen map[string][]time.Time // ip -> times of its registrations, oldest first
}

func newHourlyLimiter(perHour int, now func() time.Time) *hourlyLimiter {
	return &hourlyLimiter{perHour: perHour, now: now, seen: make(map[string][]time.Time)}
}

// take counts one registration from ip, or reports false if ip has used
// up its hour. Registrations that fail (a taken name) are given back, so
// a user who picks a taken name does not lose a try. (A conflict tells
// whether a name exists, as every sign-up form does; c2s's read rate
// and negotiation timeout slow a prober down, nothing here stops one.)
func (l *hourlyLimiter) take(ip string) bool {
	if l.perHour == 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	cutoff := now.Add(-time.Hour)
	for key, times := range l.seen {
		// Prune every address, so the map holds only the last hour's.
		i := 0
		for i < len(times) && !times[i].After(cutoff) {
			i++
		}
		if i == len(times) {
			delete(l.seen, key)
		} else if i > 0 {
			l.seen[key] = times[i:]
		}
	}
	if len(l.seen[ip]) >= l.perHour {
		return false
	}
	l.seen[ip] = append(l.seen[ip], now)
	return true
}

// giveBack undoes the last take of ip.
func (l *hourlyLimiter) giveBack(ip string) {
	if l.perHour == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if times := l.seen[ip]; len(times) > 0 {
		if len(times) == 1 {
			delete(l.seen, ip)
		} else {
			l.seen[ip] = times[:len(times)-1]
		}
	}
}
