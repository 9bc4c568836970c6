package server_test

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
	xmppws "mellium.im/xmpp/websocket"
)

// melliumChat is a message with a body, as mellium clients encode one.
type melliumChat struct {
	stanza.Message
	Body string `xml:"body"`
}

// TestInteropWebSocketMellium: an independent client implementation,
// mellium.im/xmpp (over golang.org/x/net/websocket, not the library the
// server uses), logs in over wss:// with SCRAM-SHA-1 and binds, then
// exchanges a message with a TCP client both ways.
func TestInteropWebSocketMellium(t *testing.T) {
	s, url := startWebSocketServer(t, "tls = true")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// mellium 0.22 marks the stream secure (and only then offers SASL)
	// when the scheme of the connection's LocalAddr is wss, and
	// x/net/websocket gives a client connection its Origin as LocalAddr:
	// hence an Origin with that scheme.
	d := xmppws.Dialer{Origin: "wss://converse.example.org", TLSConfig: &tls.Config{InsecureSkipVerify: true}}
	conn, err := d.DialDirect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The bare JID: mellium puts it in <open/>'s 'from', and checks
	// that the server's 'to' names it (RFC 6120 §4.7.2: the bare JID).
	alice := jid.MustParse("alice@localhost")
	sess, err := xmppws.NewSession(ctx, alice, conn, xmpp.SASL("", "pw-alice", sasl.ScramSha1), xmpp.BindResource())
	if err != nil {
		t.Fatalf("mellium session: %v", err)
	}
	defer sess.Close()
	full := sess.LocalAddr()
	if full.Bare().String() != "alice@localhost" || full.Resourcepart() == "" {
		t.Fatalf("bound %s", full)
	}

	received := make(chan melliumChat, 1)
	served := make(chan error, 1)
	go func() {
		served <- sess.Serve(xmpp.HandlerFunc(func(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			if start.Name.Local != "message" {
				return nil
			}
			var m melliumChat
			if err := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), t)).Decode(&m); err != nil {
				return err
			}
			received <- m
			return nil
		}))
	}()

	bob := login(t, s, "bob", "desk")
	out := melliumChat{Message: stanza.Message{To: jid.MustParse("bob@localhost/desk"), Type: stanza.ChatMessage}, Body: "from mellium"}
	if err := sess.Encode(ctx, out); err != nil {
		t.Fatal(err)
	}
	got := bob.Expect(isMessageWithBody("from mellium"))
	if got.Attr("from") != full.String() {
		t.Fatalf("bob got %s", got)
	}

	bob.Sendf(`<message to='%s' type='chat' id='r1'><body>to mellium</body></message>`, full)
	select {
	case m := <-received:
		if m.Body != "to mellium" || m.From.String() != "bob@localhost/desk" {
			t.Fatalf("mellium got %+v", m)
		}
	case err := <-served:
		t.Fatalf("mellium session ended: %v", err)
	case <-ctx.Done():
		t.Fatal("mellium received nothing")
	}
}
