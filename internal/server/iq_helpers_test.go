package server_test

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// isID matches the iq with this id (the answer to a request).
func isID(id string) func(*xml.Element) bool {
	return func(e *xml.Element) bool { return e.Local == "iq" && e.Attr("id") == id }
}

// ask sends an iq and returns its answer: "result" or the error condition,
// and the answer.
func ask(t *testing.T, c *xmpptest.Conn, id, iq string) (string, *xml.Element) {
	t.Helper()
	c.Send(iq)
	el := c.Expect(isID(id))
	if el.Attr("type") == "result" {
		return "result", el
	}
	if e := el.Child("", "error"); e != nil {
		for _, cond := range e.Elements() {
			if cond.Space == nsStanzas && cond.Local != "text" {
				return cond.Local, el
			}
		}
	}
	return el.String(), el
}
