package pep

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/storage"
)

// TestConcurrentPublish: two resources publishing at once to a node that
// neither created yet: one auto-creates it, no publish is lost, and each
// subscriber sees the events in the order the items were stored.
func TestConcurrentPublish(t *testing.T) {
	e := setup(t)
	e.m.cfg.MaxItems = 1000
	home, homeRec := e.withCaps(romeo+"/home", "blog+notify")
	phone, phoneRec := e.withCaps(romeo+"/phone", "blog+notify")
	_, balconyRec := e.withCaps(juliet+"/balcony", "blog+notify")
	const each = 40
	var wg sync.WaitGroup
	for i, s := range []string{"home", "phone"} {
		sess := home
		if i == 1 {
			sess = phone
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				e.Send(sess, fmt.Sprintf(`<iq type="set" id="p"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="blog"><item id="%s-%d"><e xmlns="urn:x"/></item></publish><publish-options><x xmlns="jabber:x:data" type="submit"><field var="pubsub#max_items"><value>max</value></field></x></publish-options></pubsub></iq>`, s, j))
			}
		}()
	}
	wg.Wait()
	items, err := e.Store.PEPItems(t.Context(), romeo, "blog", nil, 0)
	if err != nil || len(items) != 2*each {
		t.Fatalf("%d items stored, %v; want %d", len(items), err, 2*each)
	}
	var stored []string // oldest first
	for i := len(items) - 1; i >= 0; i-- {
		stored = append(stored, items[i].ID)
	}
	for name, got := range map[string][]string{"home": e.take(homeRec), "phone": e.take(phoneRec), "balcony": e.take(balconyRec)} {
		var ids []string
		for _, st := range got {
			if i := strings.Index(st, `<item id="`); i >= 0 && strings.Contains(st, "<message") {
				ids = append(ids, strings.SplitN(st[i+len(`<item id="`):], `"`, 2)[0])
			}
		}
		if strings.Join(ids, ",") != strings.Join(stored, ",") {
			t.Errorf("%s saw events %v, stored order %v", name, ids, stored)
		}
	}
}

// gatedPEP holds the first read of a node's newest item (the read that
// sends a last published item) until release is closed.
type gatedPEP struct {
	storage.PEP
	once    sync.Once
	reached chan struct{}
	release chan struct{}
}

func (g *gatedPEP) PEPItems(ctx context.Context, owner, node string, ids []string, max int) ([]storage.PEPItem, error) {
	items, err := g.PEP.PEPItems(ctx, owner, node, ids, max)
	if max == 1 && ids == nil {
		g.once.Do(func() {
			close(g.reached)
			<-g.release
		})
	}
	return items, err
}

// TestLastItemNotOvertaken: a last published item read while the owner
// publishes a newer one must reach the contact before the newer event
// (XEP-0163 §4.3.4 sends the last item; §4.3.1's events then follow in
// publish order), or the contact ends with the older state: the sending
// of last items takes the owner's lock too.
func TestLastItemNotOvertaken(t *testing.T) {
	e := setup(t)
	home, _ := e.Bind(romeo+"/home", true, 0)
	e.Send(home, publishTune("t1", "Yesterday"))
	gate := &gatedPEP{PEP: e.m.store, reached: make(chan struct{}), release: make(chan struct{})}
	e.m.store = gate

	balcony, balconyRec := e.Bind(juliet+"/balcony", true, 0)
	features := []string{tune + "+notify"}
	ver := verOf(features...)
	e.Send(balcony, `<presence><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="`+capsNode+`" ver="`+ver+`"/></presence>`)
	q := routertest.Parse(t, balconyRec.Take()[0])
	answer := routertest.Parse(t, `<iq type="result" to="example.org" id="`+q.Attr("id")+`"><query xmlns="http://jabber.org/protocol/disco#info" node="`+capsNode+`#`+ver+`"><identity category="client" type="pc"/><feature var="`+features[0]+`"/></query></iq>`)
	answered := make(chan error, 1)
	go func() { answered <- e.Router.HandleFromClient(context.Background(), balcony, answer) }()
	select {
	case <-gate.reached: // the last item t1 is read, not sent yet
	case err := <-answered:
		t.Fatalf("caps answer handled (%v) without reading the last item; sent %q", err, balconyRec.Take())
	}

	published := make(chan error, 1)
	go func() {
		published <- e.Router.HandleFromClient(context.Background(), home, routertest.Parse(t, publishTune("t2", "Today")))
	}()
	var pubErr error
	select {
	case pubErr = <-published: // without the lock the newer event goes out now
	case <-time.After(300 * time.Millisecond):
		close(gate.release)
		pubErr = <-published
	}
	if pubErr != nil {
		t.Fatal(pubErr)
	}
	select {
	case <-gate.release:
	default:
		close(gate.release)
	}
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	e.expect(t, "contact", balconyRec, tuneEvent(juliet+"/balcony", "t1", "Yesterday"), tuneEvent(juliet+"/balcony", "t2", "Today"))
}
