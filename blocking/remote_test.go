package blocking

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
)

// remoteRecorder is a router.RemoteRouter recording what goes out.
type remoteRecorder struct {
	mu   sync.Mutex
	sent []string
}

func (r *remoteRecorder) SendRemote(st *xml.Element, _, _ jid.JID) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, st.String())
	return nil
}

// TestRemoteSender: a message from a remote JID the recipient blocks is
// refused with service-unavailable, sent back to the remote server, and
// never delivered (XEP-0191 §3.3); a message to a remote JID the user
// blocks is refused not-acceptable/blocked.
func TestRemoteSender(t *testing.T) {
	e, _ := enforceSetup(t)
	remote := &remoteRecorder{}
	e.Router.SetRemote(remote)
	bal, balRec := e.Bind(juliet+"/balcony", true, 0)
	e.Send(bal, `<iq type="set" id="b"><block xmlns="urn:xmpp:blocking"><item jid="mallory@remote.example"/></block></iq>`)
	balRec.Take()

	st := routertest.Parse(t, `<message from="mallory@remote.example/x" to="juliet@example.org" id="m1" type="chat"><body>hi</body></message>`)
	if err := e.Router.HandleFromRemote(context.Background(), "remote.example", st); err != nil {
		t.Fatal(err)
	}
	routertest.Expect(t, balRec)
	if len(remote.sent) != 1 || !strings.Contains(remote.sent[0], "service-unavailable") || !strings.Contains(remote.sent[0], `to="mallory@remote.example/x"`) {
		t.Fatalf("sent back %v", remote.sent)
	}

	e.Send(bal, `<message to="mallory@remote.example" id="m2" type="chat"><body>hi</body></message>`)
	got := balRec.Take()
	if len(got) != 1 || !strings.Contains(got[0], "<blocked") || len(remote.sent) != 1 {
		t.Fatalf("juliet got %v; remote got %v", got, remote.sent)
	}
}
