package presence_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/jid"
)

// TestConcurrentSubscriptions has every user subscribe to and approve
// every other user at once, while changing presence. Whatever the
// interleaving, a subscribe meets either a pending request or a
// pre-approval, so every pair must end in 'both' with nothing pending.
func TestConcurrentSubscriptions(t *testing.T) {
	const n = 6
	var users []string
	for i := range n {
		users = append(users, fmt.Sprintf("u%d@x", i))
	}
	e := newEnv(t, users...)
	for _, u := range users {
		e.online(u + "/r")
	}
	var wg sync.WaitGroup
	for i, u := range users {
		s := e.r.Session(jid.MustParse(u + "/r"))
		wg.Go(func() {
			for k := 1; k < n; k++ {
				c := users[(i+k)%n]
				for _, typ := range []string{"subscribe", "subscribed"} {
					st := routertest.Parse(t, fmt.Sprintf(`<presence to="%s" type="%s"/>`, c, typ))
					if err := e.r.HandleFromClient(e.ctx, s, st); err != nil {
						t.Error(err)
					}
				}
				if err := e.r.HandleFromClient(e.ctx, s, routertest.Parse(t, `<presence><show>chat</show></presence>`)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for _, u := range users {
		for _, c := range users {
			if u == c {
				continue
			}
			if got := stateOf(e.item(u, c)); got != "both" {
				t.Errorf("%s's item for %s: %s", u, c, got)
			}
		}
	}
}
