package xmpptest

import "github.com/skald-xmpp/skald/internal/xml"

const nsSASL2 = "urn:xmpp:sasl:2"

// SASL2 authenticates with XEP-0388: a SCRAM exchange as opt describes
// (as for TrySCRAMWith), with extra (raw XML: a <user-agent/>, a Bind 2
// <bind/>, a XEP-0198 <resume/>) added to <authenticate/> after the
// initial response. It returns the server's last element: the <success/>
// (its server signature checked) or the <failure/>, then an error naming
// the condition. There is no stream restart; the features that follow a
// success are read by the caller (c.Next()).
func (c *Conn) SASL2(opt SCRAM, user, password, extra string) (*xml.Element, error) {
	return scramExchange(c, opt, user, password, &sasl2Request{extra: extra})
}

// SASL2 is Conn.SASL2 over WebSocket.
func (c *WSConn) SASL2(opt SCRAM, user, password, extra string) (*xml.Element, error) {
	return scramExchange(c, opt, user, password, &sasl2Request{extra: extra})
}

// SASL2 is Conn.SASL2 over BOSH.
func (c *BOSHConn) SASL2(opt SCRAM, user, password, extra string) (*xml.Element, error) {
	return scramExchange(c, opt, user, password, &sasl2Request{extra: extra})
}
