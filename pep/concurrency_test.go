package pep

import (
	"fmt"
	"strings"
	"sync"
	"testing"
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
