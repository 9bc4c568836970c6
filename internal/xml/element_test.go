package xml

import (
	"reflect"
	"testing"
)

// chatMessage is a typical client message: body, receipt request, origin
// id and chat state, about 400 bytes on the wire.
const chatMessage = `<message xmlns='jabber:client' to='juliet@capulet.example/balcony' from='romeo@montague.example/orchard' type='chat' id='5f0bd0d2-8c2e-4b61-9f5d-7a1d3c4e2b10' xml:lang='en'>` +
	`<body>Art thou not Romeo, and a Montague? Neither, fair saint, if either thee dislike.</body>` +
	`<request xmlns='urn:xmpp:receipts'/>` +
	`<origin-id xmlns='urn:xmpp:sid:0' id='5f0bd0d2-8c2e-4b61-9f5d-7a1d3c4e2b10'/>` +
	`<active xmlns='http://jabber.org/protocol/chatstates'/>` +
	`</message>`

func TestNew(t *testing.T) {
	el := New("urn:x", "x", "a", "1", "b", "2", "dangling")
	if got, want := dump(el), `{urn:x}x[a="1" b="2"]`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if el := New("urn:x", "x"); el.Attrs != nil {
		t.Errorf("Attrs = %#v, want nil", el.Attrs)
	}
}

func TestAttrHelpers(t *testing.T) {
	el := readOne(t, `<m xmlns:p='urn:p' id='1' p:id='2' xml:lang='fr' empty=''/>`)
	for _, tt := range []struct {
		name      string
		got, want any
	}{
		{"Attr unqualified only", el.Attr("id"), "1"},
		{"Attr missing", el.Attr("nope"), ""},
		{"Attr lang is qualified", el.Attr("lang"), ""},
		{"HasAttr", el.HasAttr("id"), true},
		{"HasAttr empty value", el.HasAttr("empty"), true},
		{"HasAttr missing", el.HasAttr("nope"), false},
		{"Lang", el.Lang(), "fr"},
		{"Is", el.Is(nsClient, "m"), true},
		{"Is other namespace", el.Is("", "m"), false},
	} {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestSetAttr(t *testing.T) {
	el := New(nsClient, "m", "a", "1", "b", "2")
	el.Attrs = append(el.Attrs, Attr{Space: "urn:p", Local: "a", Value: "q"})
	steps := []struct {
		name, local, value, want string
	}{
		{"replace", "a", "x", `{jabber:client}m[a="x" b="2" {urn:p}a="q"]`},
		{"add", "c", "3", `{jabber:client}m[a="x" b="2" c="3" {urn:p}a="q"]`},
		{"remove", "a", "", `{jabber:client}m[b="2" c="3" {urn:p}a="q"]`},
		{"remove missing", "zz", "", `{jabber:client}m[b="2" c="3" {urn:p}a="q"]`},
	}
	for _, s := range steps {
		if got := dump(el.SetAttr(s.local, s.value)); got != s.want {
			t.Errorf("%s: got %s, want %s", s.name, got, s.want)
		}
	}
}

func TestChildHelpers(t *testing.T) {
	el := readOne(t, `<message>pre<body>one</body><x xmlns='urn:x'>in x</x><body xmlns='urn:other'>two</body>post<body>three</body></message>`)
	if got := el.Child(nsClient, "body").Text(); got != "one" {
		t.Errorf("Child = %q", got)
	}
	if got := el.Child("urn:other", "body").Text(); got != "two" {
		t.Errorf("Child in other ns = %q", got)
	}
	if got := el.Child("", "x").Text(); got != "in x" {
		t.Errorf("Child any ns = %q", got)
	}
	if el.Child(nsClient, "x") != nil {
		t.Error("Child matched the wrong namespace")
	}
	if got := el.ChildNS("urn:x").Local; got != "x" {
		t.Errorf("ChildNS = %q", got)
	}
	if el.ChildNS("urn:none") != nil {
		t.Error("ChildNS found a missing namespace")
	}
	if got := el.ChildText(nsClient, "body"); got != "one" {
		t.Errorf("ChildText = %q", got)
	}
	if got := el.ChildText(nsClient, "missing"); got != "" {
		t.Errorf("ChildText missing = %q", got)
	}
	if got := len(el.Elements()); got != 4 {
		t.Errorf("Elements = %d", got)
	}
	if got := len(el.ChildrenNamed(nsClient, "body")); got != 2 {
		t.Errorf("ChildrenNamed = %d", got)
	}
	if got := len(el.ChildrenNamed("", "body")); got != 3 {
		t.Errorf("ChildrenNamed any ns = %d", got)
	}
	if got := el.FirstElement().Text(); got != "one" {
		t.Errorf("FirstElement = %q", got)
	}
	if got := el.Text(); got != "prepost" {
		t.Errorf("Text = %q", got)
	}
	if New("", "e").FirstElement() != nil {
		t.Error("FirstElement of empty element")
	}
}

// TestNilElement: getters accept nil so that lookups chain.
func TestNilElement(t *testing.T) {
	var e *Element
	if e.Child("", "a") != nil || e.ChildNS("x") != nil || e.FirstElement() != nil ||
		e.Elements() != nil || e.ChildrenNamed("", "a") != nil ||
		e.Text() != "" || e.ChildText("", "a") != "" || e.Attr("a") != "" ||
		e.HasAttr("a") || e.Lang() != "" || e.Is("", "") || e.Clone() != nil {
		t.Error("nil element getter returned something")
	}
	el := New(nsClient, "m")
	if got := el.Child("", "missing").Attr("id"); got != "" {
		t.Errorf("chained Attr = %q", got)
	}
}

func TestAppend(t *testing.T) {
	el := New(nsClient, "m").AppendText("").AppendText("a").Append(New(nsClient, "b")).AppendText("c")
	if got, want := dump(el), `{jabber:client}m("a" {jabber:client}b "c")`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestRemoveChildren(t *testing.T) {
	tests := []struct {
		name    string
		drop    func(*Element) bool
		removed int
		want    string
	}{
		{"none", func(*Element) bool { return false }, 0,
			`{jabber:client}m("t" {jabber:client}a {urn:x}b "u" {jabber:client}c)`},
		{"all elements, text stays", func(*Element) bool { return true }, 3,
			`{jabber:client}m("t" "u")`},
		{"by namespace", func(e *Element) bool { return e.Space == "urn:x" }, 1,
			`{jabber:client}m("t" {jabber:client}a "u" {jabber:client}c)`},
		{"first and last", func(e *Element) bool { return e.Local != "b" }, 2,
			`{jabber:client}m("t" {urn:x}b "u")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			el := readOne(t, `<m>t<a/><b xmlns='urn:x'/>u<c/></m>`)
			backing := el.Nodes[:cap(el.Nodes)]
			if n := el.RemoveChildren(tt.drop); n != tt.removed {
				t.Errorf("removed %d, want %d", n, tt.removed)
			}
			if got := dump(el); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			// Slots past the new length are cleared so removed
			// children can be collected.
			for i := len(el.Nodes); i < len(backing); i++ {
				if backing[i] != nil {
					t.Errorf("slot %d still holds %v", i, backing[i])
				}
			}
		})
	}
}

func TestClone(t *testing.T) {
	orig := readOne(t, chatMessage)
	want := dump(orig)
	c := orig.Clone()
	if got := dump(c); got != want {
		t.Fatalf("clone differs:\n%s\n%s", got, want)
	}
	// Change everything reachable from the clone.
	c.SetAttr("to", "someone@else")
	c.Attrs[0].Value = "changed"
	c.Child(nsClient, "body").Nodes[0] = Text("changed")
	c.Child(nsClient, "body").SetAttr("x", "y")
	c.Child("urn:xmpp:sid:0", "origin-id").Attrs[0].Value = "changed"
	c.RemoveChildren(func(e *Element) bool { return e.Local == "request" })
	c.Append(New("urn:x", "new"))
	if got := dump(orig); got != want {
		t.Errorf("original changed through the clone:\n%s\n%s", got, want)
	}
	// And the other way round.
	c2 := orig.Clone()
	orig.Child(nsClient, "body").AppendText(" more")
	orig.Attrs = orig.Attrs[:1]
	if got := dump(c2); got != want {
		t.Errorf("clone changed through the original:\n%s\n%s", got, want)
	}
}

func TestCloneKeepsNil(t *testing.T) {
	c := New("", "e").Clone()
	if c.Attrs != nil || c.Nodes != nil {
		t.Errorf("clone of an empty element = %#v", c)
	}
}
