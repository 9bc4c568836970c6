package xmlcut

import "testing"

func TestUnit(t *testing.T) {
	for _, tt := range []struct {
		in       string
		n        int
		complete bool
	}{
		{`<?xml version='1.0'?><stream:stream>`, 21, true},
		{`<?xml version=`, 0, false},
		{`<stream:stream xmlns="jabber:client" id="a>b"><message/>`, 46, true},
		{`</stream:stream>`, 16, true},
		{`<message to="a"><body>x &lt; y</body></message><iq/>`, 47, true},
		{`<message to="a"><body>x`, 0, false},
		{`<presence/>`, 11, true},
		{`<presence to='a>b'/>`, 20, true},
		{`<presence to='a`, 0, false},
	} {
		n, complete := Unit([]byte(tt.in))
		if complete != tt.complete || complete && n != tt.n {
			t.Errorf("%q: %d %v, want %d %v", tt.in, n, complete, tt.n, tt.complete)
		}
	}
}

func TestStartTag(t *testing.T) {
	name, attrs, ok := StartTag([]byte(`<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl" a = 'x>y'>dg==</success>`))
	if !ok || name != "success" || len(attrs) != 2 || AttrValue(attrs, "xmlns") != "urn:ietf:params:xml:ns:xmpp-sasl" || attrs[1].Quoted != `'x>y'` || !HasAttr(attrs, "a") || HasAttr(attrs, "b") {
		t.Fatalf("%q %+v %v", name, attrs, ok)
	}
	if _, _, ok := StartTag([]byte(`<a b="c`)); ok {
		t.Fatal("an unfinished tag parsed")
	}
}
