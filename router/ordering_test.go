package router_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
)

// ordUsers is a user directory where every account exists.
type ordUsers struct{}

func (ordUsers) UserExists(context.Context, string) (bool, error) { return true, nil }

// seqArchive imitates an archive that writes the recipient's copy ahead,
// in the outbound hook: it numbers messages per recipient there (as an
// archive assigns ids) and passes the number to its inbound hook, which
// stamps it on the delivered copy.
type seqArchive struct {
	mu       sync.Mutex
	next     map[string]int
	inbound  []bool // ev.Inbound seen by the outbound hook, in call order
	orphaned int    // inbound hooks that found no value from the outbound one
}

type seqKey struct{}

func (*seqArchive) Name() string { return "seq" }

func (a *seqArchive) OutboundMessage(_ context.Context, ev *router.MessageEvent) error {
	a.mu.Lock()
	a.inbound = append(a.inbound, ev.Inbound)
	if !ev.Inbound {
		a.mu.Unlock()
		return nil
	}
	to := ev.To.Bare().String()
	n := a.next[to]
	a.next[to] = n + 1
	a.mu.Unlock()
	// Give a concurrent sender to the same recipient every chance to
	// overtake between numbering and delivery.
	runtime.Gosched()
	ev.SetValue(seqKey{}, n)
	return nil
}

func (a *seqArchive) InboundMessage(_ context.Context, ev *router.MessageEvent) error {
	n, ok := ev.Value(seqKey{}).(int)
	if !ok {
		a.mu.Lock()
		a.orphaned++
		a.mu.Unlock()
		return nil
	}
	ev.Stanza.Append(xml.New("urn:example:seq", "seq", "n", strconv.Itoa(n)))
	return nil
}

// seqReceiver checks that the numbers arrive in order.
type seqReceiver struct {
	mu   sync.Mutex
	next int
	errs []string
}

func (r *seqReceiver) Send(st *xml.Element) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := st.Child("urn:example:seq", "seq").Attr("n")
	if got != strconv.Itoa(r.next) {
		r.errs = append(r.errs, fmt.Sprintf("got number %s, want %d", got, r.next))
	}
	r.next++
	return nil
}

func (*seqReceiver) Close(string) {}

type nopSender struct{}

func (nopSender) Send(*xml.Element) error { return nil }
func (nopSender) Close(string)            {}

// TestOutboundWorkAheadKeepsDeliveryOrder: what an outbound hook does for
// the recipient (numbering, as an archive writing both copies at once
// assigns ids) happens in the order of delivery to the recipient, however
// many senders race, because the outbound hooks of a message to a local
// account run under the recipient's lock (XEP-0313: archive order is the
// order the recipient's clients see).
func TestOutboundWorkAheadKeepsDeliveryOrder(t *testing.T) {
	ctx := context.Background()
	r := router.New(router.Config{Domains: []string{"localhost"}, Users: ordUsers{}})
	a := &seqArchive{next: map[string]int{}}
	r.Register(a)
	rcv := &seqReceiver{}
	bob := router.NewSession(jid.MustParse("bob@localhost/b"), "b", rcv)
	r.Bind(ctx, bob)
	const senders, each = 8, 200
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range senders {
		s := router.NewSession(jid.MustParse(fmt.Sprintf("u%d@localhost/r", i)), "s", nopSender{})
		r.Bind(ctx, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				msg := xml.New("jabber:client", "message", "to", "bob@localhost/b", "type", "chat")
				msg.Append(xml.New("jabber:client", "body").AppendText("hi"))
				if err := r.HandleFromClient(ctx, s, msg); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d messages failed", failed.Load())
	}
	if len(rcv.errs) > 0 {
		t.Fatalf("delivery order differs from the order of the outbound work (%d times), first: %s", len(rcv.errs), rcv.errs[0])
	}
	if rcv.next != senders*each || a.orphaned != 0 {
		t.Fatalf("delivered %d, inbound hooks without the outbound value: %d", rcv.next, a.orphaned)
	}
}

// TestInboundFlag: ev.Inbound tells the outbound hooks whether inbound
// hooks and delivery follow (a local account) or not (the server itself).
func TestInboundFlag(t *testing.T) {
	ctx := context.Background()
	r := router.New(router.Config{Domains: []string{"localhost"}, Users: ordUsers{}})
	a := &seqArchive{next: map[string]int{}}
	r.Register(a)
	alice := router.NewSession(jid.MustParse("alice@localhost/a"), "a", nopSender{})
	r.Bind(ctx, alice)
	for _, to := range []string{"localhost", "bob@localhost", "alice@localhost"} {
		msg := xml.New("jabber:client", "message", "to", to, "type", "chat")
		msg.Append(xml.New("jabber:client", "body").AppendText("hi"))
		if err := r.HandleFromClient(ctx, alice, msg); err != nil {
			t.Fatalf("to %s: %v", to, err)
		}
	}
	if fmt.Sprint(a.inbound) != "[false true true]" || a.orphaned != 0 {
		t.Fatalf("Inbound seen by the outbound hook: %v; inbound hooks without the outbound value: %d", a.inbound, a.orphaned)
	}
}

func TestEventValues(t *testing.T) {
	type k1 struct{}
	type k2 struct{}
	var ev router.MessageEvent
	if ev.Value(k1{}) != nil {
		t.Fatal("value in a new event")
	}
	ev.SetValue(k1{}, 1)
	ev.SetValue(k2{}, "two")
	ev.SetValue(k1{}, 3)
	if ev.Value(k1{}) != 3 || ev.Value(k2{}) != "two" {
		t.Fatalf("values %v %v", ev.Value(k1{}), ev.Value(k2{}))
	}
}
