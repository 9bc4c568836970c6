package push

import (
	"bytes"
	"testing"

	"github.com/skald-xmpp/skald/jid"
)

// FuzzDecode: decoding stored registrations never panics, and what it
// accepts encodes back to a document that decodes the same.
func FuzzDecode(f *testing.F) {
	f.Add(encode([]*registration{{JID: jid.MustParse("push.example"), Node: "n", Resource: "phone"}}))
	f.Add([]byte(`<registrations xmlns="urn:xmpp:push:0"><registration jid="a@b" node="x" resource=""><x xmlns="jabber:x:data"/></registration></registrations>`))
	f.Add([]byte(`<registrations xmlns="urn:xmpp:push:0"><registration jid="@@"/></registrations>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		regs, err := decode(b)
		if err != nil {
			return
		}
		again, err := decode(encode(regs))
		if err != nil {
			t.Fatalf("re-encoded document does not decode: %v", err)
		}
		if !bytes.Equal(encode(again), encode(regs)) {
			t.Fatalf("round trip changed %q", b)
		}
	})
}
