package stanza

import "github.com/skald-xmpp/skald/internal/xml"

// NSClient is the content namespace of client streams.
const NSClient = "jabber:client"

// IsStanza reports whether e is one of the three stanza kinds in a client
// or server namespace.
func IsStanza(e *xml.Element) bool {
	if e.Space != NSClient && e.Space != "jabber:server" {
		return false
	}
	return e.Local == "message" || e.Local == "presence" || e.Local == "iq"
}

// Result returns an empty iq result answering req.
func Result(req *xml.Element) *xml.Element {
	r := xml.New(NSClient, "iq", "type", "result", "id", req.Attr("id"))
	if to := req.Attr("to"); to != "" {
		r.SetAttr("from", to)
	}
	if from := req.Attr("from"); from != "" {
		r.SetAttr("to", from)
	}
	return r
}

// IQ types.
const (
	TypeGet    = "get"
	TypeSet    = "set"
	TypeResult = "result"
	TypeError  = "error"
)
