package c2s

import (
	"context"
	"errors"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/stream"
)

// In-band registration before authentication (XEP-0077 §3.1.1): the one
// kind of stanza an unauthenticated client may send. c2s only offers the
// stream feature and hands the iqs over; what an account needs (names,
// credentials, rate limits) is the register module's, behind Registrar,
// as c2s never imports a feature module.

// NSRegister is the In-Band Registration namespace (XEP-0077).
const NSRegister = "jabber:iq:register"

// NSRegisterFeature is its stream feature (XEP-0077 §8).
const NSRegisterFeature = "http://jabber.org/features/iq-register"

// Registrar creates accounts for clients that have not authenticated.
type Registrar interface {
	// RegisterUnauthenticated answers one jabber:iq:register iq get or set
	// sent on a stream to domain from the address ip. It returns the
	// payload of the result (nil: an empty result) or an error: a
	// *stanza.Error is sent as it is, anything else becomes
	// internal-server-error.
	RegisterUnauthenticated(ctx context.Context, iq *xml.Element, domain, ip string) (*xml.Element, error)
	// RegistrationOpen reports whether accounts may be created, so that
	// the stream feature is offered. When it is false the iqs are still
	// handed over, for the answer XEP-0077 §3.1 wants from a host
	// without in-band registration (service-unavailable).
	RegistrationOpen() bool
}

// registrationIQ reports whether el goes to the registrar: a registration
// iq on a stream where nobody has authenticated yet and TLS, if
// required, is done. Elsewhere it is any stanza before authentication.
func (c *conn) registrationIQ(el *xml.Element) bool {
	return c.srv.cfg.Registrar != nil && c.user == "" && !c.tlsRequiredPending() &&
		el.Local == "iq" && el.Child(NSRegister, "query") != nil
}

// offerRegistration reports whether the stream feature is offered: the
// registrar takes new accounts and the transport is encrypted (XEP-0077
// §11: the password travels in the clear inside the stream).
func (c *conn) offerRegistration() bool {
	return c.srv.cfg.Registrar != nil && c.user == "" && !c.tlsRequiredPending() &&
		c.cbInfo().TLS && c.srv.cfg.Registrar.RegistrationOpen()
}

// registerUnauthenticated answers a registration iq of an unauthenticated
// client: exactly one reply to a get or set, none to a result or error.
// The client has no address yet: replies carry no 'to', and whatever
// 'from' it claimed is ignored.
func (c *conn) registerUnauthenticated(el *xml.Element) error {
	typ := el.Attr("type")
	if typ == stanza.TypeResult || typ == stanza.TypeError {
		return nil
	}
	el.SetAttr("from", "")
	el.SetAttr("to", "")
	var payload *xml.Element
	var err error
	switch {
	case el.Attr("id") == "":
		err = stanza.E(stanza.BadRequest, "iq without id")
	case typ != stanza.TypeGet && typ != stanza.TypeSet:
		err = stanza.E(stanza.BadRequest, "bad iq type")
	case len(el.Elements()) != 1:
		err = stanza.E(stanza.BadRequest, "iq get/set must have exactly one child")
	case !c.cbInfo().TLS:
		// A loopback listener without TLS (require_tls = false): no
		// password is taken in the clear (XEP-0077 §3.3's condition for
		// a channel not safe enough).
		err = stanza.E(stanza.NotAuthorized, "registration needs an encrypted connection")
	case typ == stanza.TypeSet && c.registered:
		// XEP-0077 §3.1.1: a second identity from the connection that
		// just registered one MAY be refused; it is, so that one
		// connection makes one account and then authenticates.
		err = stanza.E(stanza.NotAcceptable, "an account was registered on this connection: log in with it")
	default:
		payload, err = c.srv.cfg.Registrar.RegisterUnauthenticated(context.Background(), el, c.domain, remoteIP(c.raw))
		c.registered = c.registered || (err == nil && typ == stanza.TypeSet)
	}
	if err != nil {
		var se *stanza.Error
		if !errors.As(err, &se) {
			c.log.Error("c2s registration failed", "err", err)
			se = stanza.E(stanza.InternalServerError, "")
		}
		return c.push(stanza.ErrorReply(el, se).Bytes(stream.NSClient))
	}
	reply := stanza.Result(el)
	if payload != nil {
		reply.Append(payload)
	}
	return c.push(reply.Bytes(stream.NSClient))
}
