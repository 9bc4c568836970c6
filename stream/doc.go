// Package stream holds what RFC 6120 says about the stream itself: the
// namespaces, the stream header, and stream errors, which end the stream
// (as opposed to stanza errors, package stanza, which answer one stanza).
//
// Layering: stream imports only internal/xml. Transports (c2s, later s2s and
// websocket) build on it.
package stream
