package s2s_test

import (
	"context"
	"crypto/x509"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
)

// roomService hosts conference.<domain> and answers every message to a
// room with a message from the room to the sender.
type roomService struct {
	domain string
	r      *router.Router
	mu     sync.Mutex
	got    []string
}

func (*roomService) Name() string               { return "room-service" }
func (s *roomService) ServiceDomains() []string { return []string{s.domain} }
func (s *roomService) HandleServiceStanza(_ context.Context, sess *router.Session, st *xml.Element, to jid.JID) error {
	s.mu.Lock()
	s.got = append(s.got, st.Local+" "+to.String()+" from "+sess.JID().String())
	s.mu.Unlock()
	if st.Local == "message" {
		reply := xml.New("jabber:client", "message", "from", to.Bare().String()+"/echo", "to", sess.JID().String(), "type", "groupchat")
		reply.Append(xml.New("jabber:client", "body").AppendText("echo"))
		s.r.SendTo(sess.JID(), reply)
	}
	return nil
}

// TestServiceDomainOverS2S: a hosted service domain (conference.b.test)
// takes streams addressed to it and opens streams from it: o's user
// sends to a room, b's service answers from the room, each direction
// authenticated, with dialback (the service domain is verified through
// its own authoritative server, which is b's listener) or with SASL
// EXTERNAL when b's certificate covers the service domain.
func TestServiceDomainOverS2S(t *testing.T) {
	for _, tc := range []struct {
		name     string
		roots    *x509.CertPool
		external bool
	}{{"dialback", nil, false}, {"sasl external", x509.NewCertPool(), true}} {
		t.Run(tc.name, func(t *testing.T) {
			oRoutes := map[string]string{}
			o := startNodeRoots(t, "o.test", "o-secret", true, oRoutes, tc.roots)
			svc := &roomService{domain: "conference.b.test"}
			withService, alsoCertify = svc, []string{"conference.b.test"}
			b := startNodeRoots(t, "b.test", "b-secret", true, map[string]string{"o.test": o.addr}, tc.roots)
			withService, alsoCertify = nil, nil
			svc.r = b.r
			oRoutes["b.test"] = b.addr
			oRoutes["conference.b.test"] = b.addr

			msg := routertest.Parse(t, `<message from='user@o.test/res' to='tea@conference.b.test' type='groupchat'><body>hi room</body></message>`)
			if err := o.r.SendRemote(msg, jid.MustParse("user@o.test/res"), jid.MustParse("tea@conference.b.test")); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			var got []string
			for len(got) == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
				got = o.rec.Take()
			}
			if len(got) != 1 || !strings.Contains(got[0], `from="tea@conference.b.test/echo"`) {
				t.Fatalf("o's user got %v", got)
			}
			svc.mu.Lock()
			if len(svc.got) != 1 || svc.got[0] != "message tea@conference.b.test from user@o.test/res" {
				t.Errorf("the service got %v", svc.got)
			}
			svc.mu.Unlock()
			// Both directions were authenticated: o.test at b's
			// service domain, conference.b.test at o; each node counts
			// one stream in and one out with SASL EXTERNAL, dialback
			// only as the receiving server.
			for _, n := range []*node{o, b} {
				ext, _ := n.metrics.Value("skald_s2s_sasl_external_total")
				db, _ := n.metrics.Value("skald_s2s_dialback_valid_total")
				if tc.external && (ext != 2 || db != 0) || !tc.external && (ext != 0 || db != 1) {
					t.Errorf("%s: SASL EXTERNAL %v, dialback %v", n.domain, ext, db)
				}
			}
		})
	}
}
