package xml

import (
	"bytes"
	"strings"
)

// NSXML is the namespace bound to the reserved "xml" prefix (xml:lang).
const NSXML = "http://www.w3.org/XML/1998/namespace"

// Attr is one attribute. Space is the namespace URI of a prefixed attribute
// ("" for the usual unqualified ones, NSXML for xml:lang).
type Attr struct {
	Space, Local, Value string
}

// Node is a child of an Element: *Element, Text, or *Raw (an element kept
// serialised, which the navigation methods do not see; see Raw).
type Node interface{ isNode() }

// Text is character data, already unescaped.
type Text string

func (Text) isNode() {}

// Element is an XML element with namespace-resolved names. Elements are
// mutable; code that hands one to several consumers (fan-out to resources,
// archive, carbons) must Clone it before changing it.
type Element struct {
	Space string // namespace URI
	Local string
	Attrs []Attr
	Nodes []Node
}

func (*Element) isNode() {}

// New returns an element with the given namespace and local name and
// unqualified attributes given as name/value pairs.
func New(space, local string, attrPairs ...string) *Element {
	e := &Element{Space: space, Local: local}
	if len(attrPairs) > 0 {
		e.Attrs = make([]Attr, 0, len(attrPairs)/2)
		for i := 0; i+1 < len(attrPairs); i += 2 {
			e.Attrs = append(e.Attrs, Attr{Local: attrPairs[i], Value: attrPairs[i+1]})
		}
	}
	return e
}

// Is reports whether the element has the given namespace and local name.
func (e *Element) Is(space, local string) bool {
	return e != nil && e.Local == local && e.Space == space
}

// Attr returns the value of the unqualified attribute local, or "". Like
// the other getters it accepts a nil e, so that e.Child(…).Attr(…) is safe.
func (e *Element) Attr(local string) string {
	if e == nil {
		return ""
	}
	for i := range e.Attrs {
		if e.Attrs[i].Local == local && e.Attrs[i].Space == "" {
			return e.Attrs[i].Value
		}
	}
	return ""
}

// HasAttr reports whether the unqualified attribute local is present.
func (e *Element) HasAttr(local string) bool {
	if e == nil {
		return false
	}
	for i := range e.Attrs {
		if e.Attrs[i].Local == local && e.Attrs[i].Space == "" {
			return true
		}
	}
	return false
}

// SetAttr sets (or, with an empty value, removes) an unqualified attribute.
func (e *Element) SetAttr(local, value string) *Element {
	for i := range e.Attrs {
		if e.Attrs[i].Local == local && e.Attrs[i].Space == "" {
			if value == "" {
				e.Attrs = append(e.Attrs[:i], e.Attrs[i+1:]...)
			} else {
				e.Attrs[i].Value = value
			}
			return e
		}
	}
	if value != "" {
		e.Attrs = append(e.Attrs, Attr{Local: local, Value: value})
	}
	return e
}

// Lang returns xml:lang.
func (e *Element) Lang() string {
	if e == nil {
		return ""
	}
	for _, a := range e.Attrs {
		if a.Space == NSXML && a.Local == "lang" {
			return a.Value
		}
	}
	return ""
}

// Child returns the first child element with the given name, or nil. An
// empty space matches any namespace.
func (e *Element) Child(space, local string) *Element {
	if e == nil {
		return nil
	}
	for _, n := range e.Nodes {
		if c, ok := n.(*Element); ok && c.Local == local && (space == "" || c.Space == space) {
			return c
		}
	}
	return nil
}

// ChildNS returns the first child element in namespace space, or nil.
func (e *Element) ChildNS(space string) *Element {
	if e == nil {
		return nil
	}
	for _, n := range e.Nodes {
		if c, ok := n.(*Element); ok && c.Space == space {
			return c
		}
	}
	return nil
}

// Elements returns all child elements (no text nodes).
func (e *Element) Elements() []*Element {
	if e == nil {
		return nil
	}
	out := make([]*Element, 0, len(e.Nodes))
	for _, n := range e.Nodes {
		if c, ok := n.(*Element); ok {
			out = append(out, c)
		}
	}
	return out
}

// ChildrenNamed returns all child elements with the given name.
func (e *Element) ChildrenNamed(space, local string) []*Element {
	if e == nil {
		return nil
	}
	var out []*Element
	for _, n := range e.Nodes {
		if c, ok := n.(*Element); ok && c.Local == local && (space == "" || c.Space == space) {
			out = append(out, c)
		}
	}
	return out
}

// FirstElement returns the first child element, or nil.
func (e *Element) FirstElement() *Element {
	if e == nil {
		return nil
	}
	for _, n := range e.Nodes {
		if c, ok := n.(*Element); ok {
			return c
		}
	}
	return nil
}

// Append adds children and returns e.
func (e *Element) Append(children ...Node) *Element {
	e.Nodes = append(e.Nodes, children...)
	return e
}

// AppendText adds a text child and returns e.
func (e *Element) AppendText(s string) *Element {
	if s != "" {
		e.Nodes = append(e.Nodes, Text(s))
	}
	return e
}

// RemoveChildren removes every child element for which drop returns true and
// reports how many were removed.
func (e *Element) RemoveChildren(drop func(*Element) bool) int {
	kept := e.Nodes[:0]
	removed := 0
	for _, n := range e.Nodes {
		if c, ok := n.(*Element); ok && drop(c) {
			removed++
			continue
		}
		kept = append(kept, n)
	}
	for i := len(kept); i < len(e.Nodes); i++ {
		e.Nodes[i] = nil
	}
	e.Nodes = kept
	return removed
}

// Text returns the concatenated direct character data of e.
func (e *Element) Text() string {
	if e == nil {
		return ""
	}
	if len(e.Nodes) == 1 {
		if t, ok := e.Nodes[0].(Text); ok {
			return string(t)
		}
	}
	var b strings.Builder
	for _, n := range e.Nodes {
		if t, ok := n.(Text); ok {
			b.WriteString(string(t))
		}
	}
	return b.String()
}

// ChildText returns the text of the first matching child, or "".
func (e *Element) ChildText(space, local string) string {
	return e.Child(space, local).Text()
}

// Clone returns a deep copy.
func (e *Element) Clone() *Element {
	if e == nil {
		return nil
	}
	c := &Element{Space: e.Space, Local: e.Local}
	if len(e.Attrs) > 0 {
		c.Attrs = append([]Attr(nil), e.Attrs...)
	}
	if len(e.Nodes) > 0 {
		c.Nodes = make([]Node, len(e.Nodes))
		for i, n := range e.Nodes {
			if ce, ok := n.(*Element); ok {
				c.Nodes[i] = ce.Clone()
			} else {
				c.Nodes[i] = n // Text and *Raw are immutable: shared
			}
		}
	}
	return c
}

// String serialises e as a standalone document fragment: its namespace is
// always declared.
func (e *Element) String() string {
	var b bytes.Buffer
	b.Grow(e.sizeHint(""))
	e.WriteTo(&b, "")
	return b.String()
}

// Bytes serialises e assuming the parent's default namespace is parentNS
// (for stanzas on a c2s stream: "jabber:client").
func (e *Element) Bytes(parentNS string) []byte {
	var b bytes.Buffer
	b.Grow(e.sizeHint(parentNS))
	e.WriteTo(&b, parentNS)
	return b.Bytes()
}
