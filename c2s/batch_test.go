package c2s_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/router"
)

// batchRecorder is an outbound hook that takes batches and records their
// sizes and the message ids in the order it saw them. While gate is set,
// the first batch waits for it, so that what the client sends meanwhile is
// surely waiting when the connection reads on.
type batchRecorder struct {
	mu    sync.Mutex
	sizes []int
	ids   []string
	gate  chan struct{}
}

func (*batchRecorder) Name() string { return "batch-recorder" }

func (b *batchRecorder) OutboundMessage(ctx context.Context, ev *router.MessageEvent) error {
	errs := make([]error, 1)
	b.OutboundMessages(ctx, []*router.MessageEvent{ev}, errs)
	return errs[0]
}

func (b *batchRecorder) OutboundMessages(_ context.Context, evs []*router.MessageEvent, _ []error) {
	b.mu.Lock()
	first := len(b.sizes) == 0
	b.sizes = append(b.sizes, len(evs))
	for _, ev := range evs {
		b.ids = append(b.ids, ev.Stanza.Attr("id"))
	}
	gate := b.gate
	b.mu.Unlock()
	if first && gate != nil {
		<-gate
	}
}

func (b *batchRecorder) largest() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, s := range b.sizes {
		n = max(n, s)
	}
	return n
}

func messageIDs(n int, prefix string) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return ids
}

// TestPipelinedMessages: messages a client sends back to back are routed
// in batches, in order, each counted once for stream management, and the
// element that ends a batch is handled after it. Over plain TCP and TLS
// (where records wait inside crypto/tls as well as in the kernel).
func TestPipelinedMessages(t *testing.T) {
	for _, viaTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", viaTLS), func(t *testing.T) {
			rec := &batchRecorder{gate: make(chan struct{})}
			f := start(t, nil, rec)
			var a *xmpptest.Conn
			if viaTLS {
				a = xmpptest.DialTLS(t, f.tlsAddr)
				a.OpenStream("localhost")
				a.AuthPlain("localhost", "alice", "secret-alice")
				a.Bind("a1")
			} else {
				a = xmpptest.Dial(t, f.addr)
				a.Login("localhost", "alice", "secret-alice", "a1")
			}
			b := xmpptest.Dial(t, f.addr)
			b.Login("localhost", "bob", "secret-bob", "b1")
			enableSM(t, a, false)

			ids := messageIDs(60, "m")
			sendMessages(a, "bob@localhost/b1", ids...) // one write per message: one TLS record each
			a.Send(`<r xmlns='urn:xmpp:sm:3'/>`)
			close(rec.gate)

			if got := readStanzas(t, b, len(ids)); strings.Join(got, ",") != strings.Join(ids, ",") {
				t.Fatalf("bob got %v", got)
			}
			ack := a.Expect(isSM("a"))
			if h := ack.Attr("h"); h != "60" {
				t.Fatalf("<a/> after 60 messages: h=%s", h)
			}
			if n := rec.largest(); n < 2 {
				t.Fatalf("no batch of pipelined messages: largest %d", n)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if strings.Join(rec.ids, ",") != strings.Join(ids, ",") {
				t.Fatalf("hook order %v", rec.ids)
			}
		})
	}
}

// TestBatchNeverWaitsForMore: a message followed by whitespace or by part
// of the next stanza is routed at once, without waiting for more input.
func TestBatchNeverWaitsForMore(t *testing.T) {
	f := start(t, nil, &batchRecorder{})
	a := xmpptest.Dial(t, f.addr)
	a.Login("localhost", "alice", "secret-alice", "a1")
	b := xmpptest.Dial(t, f.addr)
	b.Login("localhost", "bob", "secret-bob", "b1")

	a.Send("<message to='bob@localhost/b1' id='w1'><body>1</body></message> \n\t ")
	if el := b.Next(); el.Attr("id") != "w1" {
		t.Fatalf("bob got %s", el)
	}
	a.Send("<message to='bob@localhost/b1' id='w2'><body>2</body></message><message to='bob@localhost/b1' id='w3'><bo")
	if el := b.Next(); el.Attr("id") != "w2" {
		t.Fatalf("bob got %s", el)
	}
	a.Send("dy>3</body></message>")
	if el := b.Next(); el.Attr("id") != "w3" {
		t.Fatalf("bob got %s", el)
	}
}

// TestBatchErrors: within a batch each message gets its own outcome, in
// order; a stream error ends the stream after the messages before it.
func TestBatchErrors(t *testing.T) {
	tests := []struct {
		name     string
		send     string
		bobGets  []string
		aliceErr map[string]string // message id -> stanza error condition
		streamEr string
	}{
		{
			name: "bounce in the middle",
			send: `<message to='bob@localhost/b1' id='e1'><body>1</body></message>` +
				`<message to='nobody@localhost' type='chat' id='e2'><body>2</body></message>` +
				`<message to='bob@localhost/b1' id='e3'><body>3</body></message>` +
				`<message to='bob@elsewhere.example' type='chat' id='e4'><body>4</body></message>` +
				`<message to='bob@localhost/b1' id='e5'><body>5</body></message>`,
			bobGets:  []string{"e1", "e3", "e5"},
			aliceErr: map[string]string{"e2": "service-unavailable", "e4": "remote-server-not-found"},
		},
		{
			name: "malformed to in the middle",
			send: `<message to='bob@localhost/b1' id='j1'><body>1</body></message>` +
				`<message to='@localhost' id='j2'><body>2</body></message>` +
				`<message to='bob@localhost/b1' id='j3'><body>3</body></message>`,
			bobGets:  []string{"j1", "j3"},
			aliceErr: map[string]string{"j2": "jid-malformed"},
		},
		{
			name: "spoofed from ends the stream after the messages before it",
			send: `<message to='bob@localhost/b1' id='s1'><body>1</body></message>` +
				`<message to='bob@localhost/b1' id='s2'><body>2</body></message>` +
				`<message from='bob@localhost/b1' to='bob@localhost/b1' id='s3'><body>3</body></message>` +
				`<message to='bob@localhost/b1' id='s4'><body>4</body></message>`,
			bobGets:  []string{"s1", "s2"},
			streamEr: "invalid-from",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t, nil, &batchRecorder{})
			a := xmpptest.Dial(t, f.addr)
			a.Login("localhost", "alice", "secret-alice", "a1")
			b := xmpptest.Dial(t, f.addr)
			b.Login("localhost", "bob", "secret-bob", "b1")
			a.Send(tc.send) // one write: the server reads it as one batch
			for _, want := range tc.bobGets {
				if el := b.Next(); el.Attr("id") != want {
					t.Fatalf("bob got %s, want %s", el, want)
				}
			}
			if tc.streamEr != "" {
				if got := a.ExpectStreamError(); got != tc.streamEr {
					t.Fatalf("stream error %q, want %q", got, tc.streamEr)
				}
				b.Send(`<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
				if el := b.Next(); el.Local != "iq" {
					t.Fatalf("bob got %s after the stream error; nothing after it may be routed", el)
				}
				return
			}
			for range tc.aliceErr {
				el := a.Next()
				want, ok := tc.aliceErr[el.Attr("id")]
				if !ok || el.Attr("type") != "error" || errorCondition(el) != want {
					t.Fatalf("alice got %s; want errors %v", el, tc.aliceErr)
				}
			}
		})
	}
}

// errorCondition returns the defined condition of a stanza error.
func errorCondition(st *xml.Element) string {
	e := st.Child("jabber:client", "error")
	if e == nil {
		return ""
	}
	if c := e.ChildNS("urn:ietf:params:xml:ns:xmpp-stanzas"); c != nil {
		return c.Local
	}
	return ""
}
