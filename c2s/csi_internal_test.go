package c2s

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
)

func TestCSIClassify(t *testing.T) {
	const cs = `xmlns='http://jabber.org/protocol/chatstates'`
	carbon := func(dir, inner string) string {
		return `<message xmlns='jabber:client' from='a@x' to='a@x/r' type='chat'><` + dir + ` xmlns='urn:xmpp:carbons:2'>` +
			`<forwarded xmlns='urn:xmpp:forward:0'>` + inner + `</forwarded></` + dir + `></message>`
	}
	tests := []struct {
		name, st string
		want     csiAction
	}{
		{"available presence", `<presence from='b@x/r'/>`, csiHold},
		{"presence with show", `<presence from='b@x/r'><show>away</show></presence>`, csiHold},
		{"unavailable presence", `<presence from='b@x/r' type='unavailable'/>`, csiHold},
		{"subscription request", `<presence from='b@x' type='subscribe'/>`, csiSend},
		{"subscribed", `<presence from='b@x' type='subscribed'/>`, csiSend},
		{"presence error", `<presence from='b@x' type='error'/>`, csiSend},
		{"chat state", `<message type='chat'><composing ` + cs + `/></message>`, csiDrop},
		{"chat state with thread, hints, ids, delay", `<message type='chat'><paused ` + cs + `/><thread>t</thread>` +
			`<no-store xmlns='urn:xmpp:hints'/><origin-id xmlns='urn:xmpp:sid:0' id='o'/>` +
			`<delay xmlns='urn:xmpp:delay' stamp='2026-12-07T00:00:00Z'/></message>`, csiDrop},
		{"chat state with a body", `<message type='chat'><body>hi</body><active ` + cs + `/></message>`, csiSend},
		{"chat state with a subject", `<message type='chat'><subject>s</subject><active ` + cs + `/></message>`, csiSend},
		{"chat state with another payload", `<message type='chat'><active ` + cs + `/><x xmlns='jabber:x:oob'/></message>`, csiSend},
		{"no payload at all", `<message type='chat'/>`, csiSend},
		{"hints alone", `<message type='chat'><store xmlns='urn:xmpp:hints'/></message>`, csiSend},
		{"carbon of a chat state", carbon("received", `<message xmlns='jabber:client' type='chat'><composing `+cs+`/></message>`), csiDrop},
		{"sent carbon of a chat state", carbon("sent", `<message xmlns='jabber:client' type='chat'><gone `+cs+`/></message>`), csiDrop},
		{"carbon of a message with a body", carbon("received", `<message xmlns='jabber:client' type='chat'><body>hi</body></message>`), csiSend},
		{"carbon without a message", carbon("received", ``), csiSend},
		{"carbon of a carbon", carbon("received", carbon("sent", `<message xmlns='jabber:client' type='chat'><composing `+cs+`/></message>`)), csiSend},
		{"other carbons element", `<message><private xmlns='urn:xmpp:carbons:2'/><composing ` + cs + `/></message>`, csiSend},
		{"iq", `<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>`, csiSend},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			el := routertest.Parse(t, tc.st)
			if got := csiClassify(el); got != tc.want {
				t.Errorf("csiClassify = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestCSIHoldBound: holding keeps one presence per sender, the latest,
// in the order of the latest updates, and reports a full hold.
func TestCSIHoldBound(t *testing.T) {
	var c csiState
	p := func(from string) *xml.Element { return xml.New("jabber:client", "presence", "from", from) }
	c.hold(p("a"), []byte("a1"))
	c.hold(p("b"), []byte("b1"))
	c.hold(p("a"), []byte("a2"))
	if len(c.held) != 2 || string(c.held[0].b) != "b1" || string(c.held[1].b) != "a2" {
		t.Fatalf("held %q", c.held)
	}
	c = csiState{}
	for i := range maxHeld {
		if !c.hold(p(string(rune('A'+i%26))+string(rune('0'+i/26))), nil) {
			t.Fatalf("full after %d senders", i+1)
		}
	}
	if c.hold(p("one more"), nil) {
		t.Fatalf("not full after %d senders", maxHeld+1)
	}
}
