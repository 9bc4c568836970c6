package muc_test

import (
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentOccupants runs entering, messages, nick changes, kicks and
// ending sessions from several goroutines at once (run it with -race):
// nothing deadlocks, and when everyone is gone the temporary room is too.
func TestConcurrentOccupants(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.user("alice", "admin")
	e.create(alice)
	var wg sync.WaitGroup
	for i, name := range []string{"bob", "carol"} {
		for r := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u := e.user(name, fmt.Sprintf("r%d", r))
				nick := fmt.Sprintf("%s%d", name, i)
				for k := range 20 {
					e.send(u, `<presence to='%R/`+nick+`'/>`)
					e.send(u, fmt.Sprintf(`<message to='%%R' type='groupchat'><body>%d</body></message>`, k))
					if k%5 == 4 {
						e.send(u, `<presence to='%R/`+nick+`x'/>`)
						e.send(u, `<presence to='%R/`+nick+`x' type='unavailable'/>`)
					}
					u.rec.Take()
				}
				e.Router.Unbind(bg, u.s)
			}()
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 20 {
			e.send(alice, `<iq type='set' id='k' to='%R'><query xmlns='`+nsMUC+`#admin'><item nick='bob0' role='none'/></query></iq>`)
			e.send(alice, `<iq type='get' id='l' to='%R'><query xmlns='`+nsMUC+`#admin'><item role='participant'/></query></iq>`)
			alice.rec.Take()
		}
	}()
	wg.Wait()
	e.send(alice, `<iq type='get' id='l' to='%R'><query xmlns='`+nsMUC+`#admin'><item role='participant'/></query></iq>`)
	if el := alice.last(t); el.Child(nsMUC+"#admin", "query").Child("", "item") != nil {
		t.Fatalf("participants left behind: %s", el)
	}
	e.Router.Unbind(bg, alice.s)
	late := e.user("bob", "late")
	e.send(late, `<iq type='get' id='i' to='%R'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if c := condition(late.last(t)); c != "item-not-found" {
		t.Fatalf("the emptied temporary room answered %q", c)
	}
}
