package push

import (
	"context"
	"strconv"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// MessageDelivered implements router.DeliveryObserver: it decides which of
// the recipient's registrations a message warrants a push to (doc.go,
// "When a push is sent").
func (m *Module) MessageDelivered(ctx context.Context, ev *router.MessageEvent, to []*router.Session) {
	account := ev.To.Bare().String()
	if ev.Self || !worthPush(ev.Stanza, account) {
		return
	}
	if ev.Stanza.Attr("type") == "groupchat" {
		// A room on another server (doc.go, "Group chats"); the user's
		// archive does not hold it, nor does offline storage.
		m.remoteGroupchat(ctx, ev, to)
		return
	}
	regs, err := m.registrations(ctx, account)
	if err != nil {
		m.log.Error("push registrations unreadable", "account", account, "err", err)
		return
	}
	if len(regs) == 0 {
		return
	}
	sender, body := summary(ev.Stanza, account)
	for _, reg := range regs {
		if m.wanted(ev, to, reg) {
			m.notify(account, reg, 1, sender, body)
		}
	}
}

// wanted reports whether reg's client would miss ev without a push.
func (m *Module) wanted(ev *router.MessageEvent, to []*router.Session, reg *registration) bool {
	if len(to) == 0 {
		return true // stored offline (or only archived): no client has it
	}
	full, err := ev.To.Bare().WithResource(reg.Resource)
	if err != nil {
		return false
	}
	s := m.r.Session(full)
	switch {
	case s == nil:
		// The client that enabled it is not connected: it catches up from
		// the archive, if the message is there, once woken.
		return ev.Archived
	case s.Dormant():
		// Queued for a detached or inactive session: it waits for a
		// client that is not running. If the message went to other
		// resources only, the archive is where this client finds it.
		for _, t := range to {
			if t == s {
				return true
			}
		}
		return ev.Archived
	}
	return false // a live session of that client has it
}

// burst is a registration's coalescing window (CoalesceInterval): the
// first message is pushed at once and opens it; messages during it are
// counted and pushed together when it ends, which opens a new one.
type burst struct {
	timer        *time.Timer // ends the window
	reg          *registration
	count        int // messages not pushed yet
	sender, body string
}

// notify pushes n messages (the last from sender, saying body) to reg
// now, or folds them into reg's open window.
func (m *Module) notify(account string, reg *registration, n int, sender, body string) {
	if m.cfg.CoalesceInterval <= 0 {
		m.publish(account, reg, n, sender, body)
		return
	}
	k := reg.key(account)
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	if b := m.bursts[k]; b != nil {
		b.reg, b.sender, b.body = reg, sender, body
		b.count += n
		m.mu.Unlock()
		m.counters.coalesced.Add(uint64(n))
		return
	}
	b := &burst{reg: reg, timer: time.AfterFunc(m.cfg.CoalesceInterval, func() { m.windowEnded(k) })}
	m.bursts[k] = b
	if m.waiting[k] {
		// An earlier window's publish is not answered yet, and publish
		// sends one at a time: this window pushes these when it ends.
		b.count, b.sender, b.body = n, sender, body
		m.mu.Unlock()
		m.counters.coalesced.Add(uint64(n))
		return
	}
	m.mu.Unlock()
	m.publish(account, reg, n, sender, body)
}

// SessionDetached implements router.DetachObserver: the messages worth a
// push that a session's client never acknowledged before its connection
// dropped may be unread, and wait in the session for resumption. They
// were not pushed when delivered (the session was live then), so the
// registrations that session enabled get one push for them now.
// Groupchat messages do not count, as they push on delivery neither
// (doc.go, "Not done").
func (m *Module) SessionDetached(ctx context.Context, s *router.Session, queued []*xml.Element) {
	account := s.JID().Bare().String()
	n, sender, body := 0, "", ""
	for _, st := range queued {
		if st.Local != "message" || st.Attr("type") == "groupchat" || !worthPush(st, account) {
			continue
		}
		if inner, _ := carbon(st, account); inner == nil {
			if from, err := jid.Parse(st.Attr("from")); err == nil && from.Bare().String() == account {
				continue // the account's own message (ev.Self on delivery)
			}
		}
		n++
		sender, body = summary(st, account)
	}
	if n == 0 {
		return
	}
	regs, err := m.registrations(ctx, account)
	if err != nil {
		m.log.Error("push registrations unreadable", "account", account, "err", err)
		return
	}
	for _, reg := range regs {
		if reg.Resource == s.JID().Resource() {
			m.notify(account, reg, n, sender, body)
		}
	}
}

// windowEnded pushes what a window folded, if anything, and closes it.
func (m *Module) windowEnded(k key) {
	m.mu.Lock()
	b := m.bursts[k]
	if b == nil || b.count == 0 || m.closed {
		delete(m.bursts, k)
		m.mu.Unlock()
		return
	}
	// Still enabled? A registration disabled meanwhile gets nothing more
	// (§6: MUST NOT publish to a service not enabled).
	var reg *registration
	for _, r := range m.cache[k.account] {
		if r.key(k.account) == k {
			reg = r
		}
	}
	if reg == nil {
		delete(m.bursts, k)
		m.mu.Unlock()
		return
	}
	b.timer = time.AfterFunc(m.cfg.CoalesceInterval, func() { m.windowEnded(k) })
	if m.waiting[k] {
		// The last publish is not answered yet (publish sends one at a
		// time): the folded messages wait for the next window's end.
		m.mu.Unlock()
		return
	}
	n, sender, body := b.count, b.sender, b.body
	b.count, b.sender, b.body = 0, "", ""
	m.mu.Unlock()
	if m.liveNow(k.account, reg) {
		return // the client came back meanwhile and has the messages
	}
	m.publish(k.account, reg, n, sender, body)
}

// liveNow reports whether the client that enabled reg has a session that
// is not dormant.
func (m *Module) liveNow(account string, reg *registration) bool {
	full, err := jid.MustParse(account).WithResource(reg.Resource)
	if err != nil {
		return false
	}
	s := m.r.Session(full)
	return s != nil && !s.Dormant()
}

// Shutdown stops publishing: open coalescing windows end without their
// push, and it waits for registrations being disabled, so that the store
// can close. Answers still pending are counted when they time out.
func (m *Module) Shutdown() {
	m.mu.Lock()
	m.closed = true
	for k, b := range m.bursts {
		b.timer.Stop()
		delete(m.bursts, k)
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// publish sends one notification (§7) and handles the answer. A
// registration has at most one publish waiting for an answer: one more
// meanwhile is dropped, since its device is being woken already, and an
// app server that never answers holds one max_in_flight place per
// registration, not as many as messages arrive.
func (m *Module) publish(account string, reg *registration, count int, sender, body string) {
	k := reg.key(account)
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	if m.waiting[k] {
		m.mu.Unlock()
		m.counters.dropped.Inc()
		m.log.Debug("push dropped: the last one to this registration is not answered yet", "account", account, "service", reg.JID.String())
		return
	}
	if m.inFlight.Add(1) > int64(m.cfg.MaxInFlight) {
		m.inFlight.Add(-1)
		m.mu.Unlock()
		m.counters.dropped.Inc()
		m.log.Warn("push dropped: too many waiting for an answer", "account", account, "service", reg.JID.String())
		return
	}
	m.waiting[k] = true
	m.mu.Unlock()
	settled := func() {
		m.mu.Lock()
		delete(m.waiting, k)
		m.mu.Unlock()
		m.inFlight.Add(-1)
	}
	iq := m.notification(reg, count, sender, body)
	from := jid.MustParse(account)
	err := m.r.QueryRemote(iq, from, reg.JID, m.cfg.Timeout, func(resp *xml.Element) {
		settled()
		m.answered(k, reg, resp)
	})
	if err != nil {
		settled()
		m.counters.unreachable.Inc()
		m.log.Debug("push not sent", "account", account, "service", reg.JID.String(), "err", err)
		return
	}
	m.counters.sent.Inc()
}

// notification builds the publish iq (§7): the summary form, and the
// registration's publish options.
func (m *Module) notification(reg *registration, count int, sender, body string) *xml.Element {
	form := xml.New(nsData, "x", "type", "submit")
	field := func(name, value string) {
		form.Append(xml.New(nsData, "field", "var", name).Append(xml.New(nsData, "value").AppendText(value)))
	}
	field("FORM_TYPE", NSSummary)
	field("message-count", strconv.Itoa(count))
	if m.cfg.IncludeSender && sender != "" {
		field("last-message-sender", sender)
	}
	switch {
	case m.cfg.IncludeBody && body != "":
		field("last-message-body", body)
	case !m.cfg.IncludeBody && m.cfg.ImportantBody != "":
		field("last-message-body", m.cfg.ImportantBody)
	}
	pubsub := xml.New(NSPubSub, "pubsub").Append(
		xml.New(NSPubSub, "publish", "node", reg.Node).Append(
			xml.New(NSPubSub, "item").Append(
				xml.New(NS, "notification").Append(form))))
	if reg.Options != nil {
		pubsub.Append(xml.New(NSPubSub, "publish-options").Append(reg.Options.Clone()))
	}
	return xml.New(stanza.NSClient, "iq", "type", "set").Append(pubsub)
}

// Error conditions after which a registration is disabled at once: the
// node is gone, or the app server no longer lets the account publish
// (§8, remote disabling removes the publish affiliation).
var goneConditions = map[string]bool{
	"item-not-found": true, "gone": true, "forbidden": true, "not-authorized": true,
	"registration-required": true, "subscription-required": true,
}

// Conditions that say nothing about the registration: the app server's
// domain could not be reached for now (the s2s transport bounces with
// these), or the app server is overloaded (resource-constraint, whose
// type RFC 6120 §8.3.3.18 makes wait, but an app server that gives it
// another one is no less overloaded). Like errors of type wait, they are
// not counted.
var transientConditions = map[string]bool{
	"remote-server-not-found": true, "remote-server-timeout": true,
	"resource-constraint": true,
}

// answered handles the app server's answer to a publish to reg (§7.1):
// nil is a timeout. An error counts against reg only while it is enabled:
// enabled again since (a new node at the app server, new options), it is
// a new registration the error says nothing about.
func (m *Module) answered(k key, reg *registration, resp *xml.Element) {
	if resp == nil {
		m.counters.timedOut.Inc()
		m.log.Debug("push not answered in time", "account", k.account, "service", k.jid)
		return
	}
	if resp.Attr("type") == "result" {
		m.counters.answered.Inc()
		m.forgetErrors(k)
		return
	}
	m.counters.failed.Inc()
	typ, cond := errorOf(resp)
	if !m.isCurrent(k.account, reg) {
		m.log.Info("push refused by the app server, for a registration enabled again since", "account", k.account, "service", k.jid, "type", typ, "condition", cond)
		return
	}
	disable := goneConditions[cond]
	if !disable && typ != "wait" && !transientConditions[cond] {
		m.mu.Lock()
		m.errs[k]++
		disable = m.errs[k] >= m.cfg.MaxErrors
		m.mu.Unlock()
	}
	m.log.Info("push refused by the app server", "account", k.account, "service", k.jid, "type", typ, "condition", cond, "disabling", disable)
	if !disable {
		return
	}
	// On its own goroutine: the answer arrives on a stream's reader, and
	// the store may be slow. Shutdown waits for it.
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		n, err := m.removeRegistration(context.Background(), k.account, reg)
		if err != nil {
			m.log.Error("disabling push registration failed", "account", k.account, "service", k.jid, "err", err)
			return
		}
		m.counters.autoDisabled.Add(uint64(n))
	}()
}

// errorOf returns an iq error's type and defined condition.
func errorOf(resp *xml.Element) (typ, cond string) {
	e := resp.Child(stanza.NSClient, "error")
	if e == nil {
		return "", ""
	}
	for _, c := range e.Elements() {
		if c.Space == stanza.NSStanzas {
			return e.Attr("type"), c.Local
		}
	}
	return e.Attr("type"), ""
}
