package router_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
)

// batchSeqArchive is seqArchive taking batches.
type batchSeqArchive struct{ *seqArchive }

func (a batchSeqArchive) OutboundMessages(ctx context.Context, evs []*router.MessageEvent, errs []error) {
	for i, ev := range evs {
		errs[i] = a.OutboundMessage(ctx, ev)
	}
}

// TestBatchesKeepDeliveryOrder: senders racing with batches of messages to
// overlapping sets of recipients neither deadlock (the stripes of a batch
// are taken in one global order) nor let any recipient see messages out of
// the order of the outbound work done for it.
func TestBatchesKeepDeliveryOrder(t *testing.T) {
	ctx := context.Background()
	r := router.New(router.Config{Domains: []string{"localhost"}, Users: ordUsers{}})
	a := batchSeqArchive{&seqArchive{next: map[string]int{}}}
	r.Register(a)
	const recipients, senders, batches = 6, 6, 60
	rcvs := make([]*seqReceiver, recipients)
	for i := range rcvs {
		rcvs[i] = &seqReceiver{}
		r.Bind(ctx, router.NewSession(jid.MustParse(fmt.Sprintf("r%d@localhost/x", i)), "r", rcvs[i]))
	}
	var wg sync.WaitGroup
	errc := make(chan error, senders)
	total := 0
	var totalMu sync.Mutex
	for i := range senders {
		s := router.NewSession(jid.MustParse(fmt.Sprintf("s%d@localhost/x", i)), "s", nopSender{})
		r.Bind(ctx, s)
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 1))
			for range batches {
				batch := make([]*xml.Element, 1+rng.IntN(router.MaxBatch))
				for j := range batch {
					to := fmt.Sprintf("r%d@localhost/x", rng.IntN(recipients))
					batch[j] = xml.New("jabber:client", "message", "to", to, "type", "chat")
					batch[j].Append(xml.New("jabber:client", "body").AppendText("hi"))
				}
				n, err := r.HandleMessagesFromClient(ctx, s, batch)
				if err != nil || n != len(batch) {
					errc <- fmt.Errorf("batch: %d of %d, %v", n, len(batch), err)
					return
				}
				totalMu.Lock()
				total += n
				totalMu.Unlock()
			}
		}(uint64(i))
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	delivered := 0
	for i, rcv := range rcvs {
		if len(rcv.errs) > 0 {
			t.Fatalf("r%d: delivery order differs from the order of the outbound work, first: %s", i, rcv.errs[0])
		}
		delivered += rcv.next
	}
	if delivered != total || a.orphaned != 0 {
		t.Fatalf("delivered %d of %d; inbound hooks without the outbound value: %d", delivered, total, a.orphaned)
	}
}

// hookLog records the order in which hooks and deliveries happen.
type hookLog struct {
	mu  sync.Mutex
	log []string
}

func (l *hookLog) add(s string) {
	l.mu.Lock()
	l.log = append(l.log, s)
	l.mu.Unlock()
}

type batchHook struct{ l *hookLog }

func (batchHook) Name() string { return "batch" }
func (h batchHook) OutboundMessage(ctx context.Context, ev *router.MessageEvent) error {
	errs := make([]error, 1)
	h.OutboundMessages(ctx, []*router.MessageEvent{ev}, errs)
	return errs[0]
}
func (h batchHook) OutboundMessages(_ context.Context, evs []*router.MessageEvent, errs []error) {
	for i, ev := range evs {
		h.l.add("batch:" + ev.Stanza.Attr("id"))
		if ev.Stanza.Attr("id") == "fail" {
			errs[i] = fmt.Errorf("hook refused")
		}
	}
}

type plainHook struct{ l *hookLog }

func (plainHook) Name() string { return "plain" }
func (h plainHook) OutboundMessage(_ context.Context, ev *router.MessageEvent) error {
	h.l.add("plain:" + ev.Stanza.Attr("id"))
	return nil
}

type logSender struct{ l *hookLog }

func (s logSender) Send(st *xml.Element) error {
	if st.Attr("type") == "error" {
		s.l.add("bounce:" + st.Attr("id"))
	} else {
		s.l.add("deliver:" + st.Attr("id"))
	}
	return nil
}
func (logSender) Close(string) {}

// TestBatchHookOrder: batch-capable hooks registered first run once over
// the batch; then each message runs the other hooks and is delivered, in
// order. A batch hook registered after a plain one runs per message. A
// message a batch hook fails goes no further and is bounced.
func TestBatchHookOrder(t *testing.T) {
	tests := []struct {
		name  string
		hooks func(l *hookLog) []router.Module
		want  string
	}{
		{"batch then plain", func(l *hookLog) []router.Module { return []router.Module{batchHook{l}, plainHook{l}} },
			"batch:1 batch:fail batch:3 plain:1 deliver:1 plain:3 deliver:3 bounce:fail"},
		{"plain then batch", func(l *hookLog) []router.Module { return []router.Module{plainHook{l}, batchHook{l}} },
			"plain:1 batch:1 deliver:1 plain:fail batch:fail plain:3 batch:3 deliver:3 bounce:fail"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			l := &hookLog{}
			r := router.New(router.Config{Domains: []string{"localhost"}, Users: ordUsers{}})
			r.Register(tc.hooks(l)...)
			alice := router.NewSession(jid.MustParse("alice@localhost/a"), "a", logSender{l})
			r.Bind(ctx, alice)
			r.Bind(ctx, router.NewSession(jid.MustParse("bob@localhost/b"), "b", logSender{l}))
			var batch []*xml.Element
			for _, id := range []string{"1", "fail", "3"} {
				batch = append(batch, xml.New("jabber:client", "message", "to", "bob@localhost/b", "id", id, "type", "chat"))
			}
			if n, err := r.HandleMessagesFromClient(ctx, alice, batch); n != 3 || err != nil {
				t.Fatalf("HandleMessagesFromClient = %d, %v", n, err)
			}
			if got := strings.Join(l.log, " "); got != tc.want {
				t.Fatalf("order\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// countingUsers is a directory where every account but "nobody" exists,
// counting lookups.
type countingUsers struct {
	mu      sync.Mutex
	lookups []string
}

func (u *countingUsers) UserExists(_ context.Context, bare string) (bool, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lookups = append(u.lookups, bare)
	return !strings.HasPrefix(bare, "nobody@"), nil
}

// TestBatchLooksUpEachAccountOnce: a batch asks the directory once per
// recipient account, whatever its size, and the answer holds for every
// message of the batch to that account (existing or not).
func TestBatchLooksUpEachAccountOnce(t *testing.T) {
	ctx := context.Background()
	u := &countingUsers{}
	r := router.New(router.Config{Domains: []string{"localhost"}, Users: u})
	l := &hookLog{}
	alice := router.NewSession(jid.MustParse("alice@localhost/a"), "a", logSender{l})
	r.Bind(ctx, alice)
	r.Bind(ctx, router.NewSession(jid.MustParse("bob@localhost/b"), "b", logSender{l}))
	var batch []*xml.Element
	for i, to := range []string{"bob@localhost/b", "nobody@localhost", "bob@localhost/b", "bob@localhost/b", "nobody@localhost"} {
		batch = append(batch, xml.New("jabber:client", "message", "to", to, "id", fmt.Sprint(i), "type", "chat"))
	}
	if n, err := r.HandleMessagesFromClient(ctx, alice, batch); n != len(batch) || err != nil {
		t.Fatalf("HandleMessagesFromClient = %d, %v", n, err)
	}
	if got := strings.Join(u.lookups, " "); got != "bob@localhost nobody@localhost" {
		t.Errorf("lookups %q, want one per account", got)
	}
	if got := strings.Join(l.log, " "); got != "deliver:0 deliver:2 deliver:3 bounce:1 bounce:4" {
		t.Errorf("outcomes %s", got)
	}
}
