// Package routertest is the test harness for feature modules: a
// router.Router on a storage/memory store (Env), sessions bound with a
// Recorder as their router.Sender, which keeps what they are sent
// serialised, and helpers that read stanzas written as XML (Parse) and
// compare what was sent with the exact XML a test expects (Expect, Equal).
//
// Tests drive a module through the real router, as a client's stanzas
// would, and assert on the wire form of what each session gets:
//
//	e := routertest.New(t, "romeo@example.org")
//	e.Router.Register(ping.New())
//	s, rec := e.Bind("romeo@example.org/orchard", true, 0)
//	e.Send(s, `<iq type="get" id="p1" to="example.org"><ping xmlns="urn:xmpp:ping"/></iq>`)
//	routertest.Expect(t, rec, `<iq xmlns="jabber:client" type="result" id="p1" from="example.org" to="romeo@example.org/orchard"/>`)
//
// It imports only the router and the layers below it, so the router's own
// tests can use its Recorder and Parse too.
package routertest
