package server_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestServerInfoOverSocket: the server domain announces In-Band
// Registration, Entity Time and Last Activity in disco#info and answers
// the last two (XEP-0202, XEP-0012 uptime).
func TestServerInfoOverSocket(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	cond, info := ask(t, alice, "d1", `<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	for _, f := range []string{"jabber:iq:register", "urn:xmpp:time", "jabber:iq:last"} {
		if cond != "result" || !strings.Contains(info.String(), `<feature var="`+f+`"/>`) {
			t.Errorf("disco#info lacks %s: %s", f, info)
		}
	}

	cond, el := ask(t, alice, "t1", `<iq type='get' id='t1' to='localhost'><time xmlns='urn:xmpp:time'/></iq>`)
	tm := el.Child("urn:xmpp:time", "time")
	if cond != "result" || tm == nil || tm.ChildText("urn:xmpp:time", "tzo") != "+00:00" {
		t.Fatalf("time: %s", el)
	}
	utc, err := time.Parse(time.RFC3339, tm.ChildText("urn:xmpp:time", "utc"))
	if err != nil || time.Since(utc).Abs() > time.Minute {
		t.Errorf("utc %q: %v", tm.ChildText("urn:xmpp:time", "utc"), err)
	}

	cond, el = ask(t, alice, "l1", `<iq type='get' id='l1' to='localhost'><query xmlns='jabber:iq:last'/></iq>`)
	q := el.Child("jabber:iq:last", "query")
	if cond != "result" || q == nil {
		t.Fatalf("last: %s", el)
	}
	if secs, err := strconv.Atoi(q.Attr("seconds")); err != nil || secs < 0 || secs > 60 {
		t.Errorf("uptime %q", q.Attr("seconds"))
	}
}
