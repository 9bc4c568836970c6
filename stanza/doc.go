// Package stanza has the helpers every feature needs to answer stanzas:
// stanza errors (RFC 6120 §8.3), which answer one stanza and leave the
// stream alone, and iq result builders.
//
// Layering: stanza imports only internal/xml.
package stanza
