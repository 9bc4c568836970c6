// Package xml is Skald's XML layer: a streaming tokenizer for XMPP streams
// and the namespace-resolved element tree every other package passes
// around.
//
// Reader reads one stream (RFC 6120 §4): ReadStreamStart returns the root's
// opening tag, then Next returns complete top-level elements (stanzas,
// nonzas) until ErrStreamEnd. It enforces, while reading:
//
//   - restricted XML (RFC 6120 §11.1): comments, processing instructions
//     after the stream header, DTDs and references to entities other than
//     the five predefined ones are ErrRestrictedXML;
//   - namespace well-formedness: undeclared prefixes and bad declarations
//     (xmlns:p="", rebinding xml or xmlns) are ErrBadNamespacePrefix;
//   - Limits: bytes per top-level element (whitespace keepalives between
//     elements are free), nesting depth and attributes per element, so that
//     a peer cannot make us buffer more than the limit.
//
// The sentinel errors map to stream error conditions in package stream
// (stream.FromReadError). I/O errors pass through unchanged; a connection
// that drops mid-element yields io.ErrUnexpectedEOF.
//
// Element is the tree: names carry namespace URIs, never prefixes. Writing
// (WriteTo, Bytes, String) declares a default namespace only where an
// element's namespace differs from its parent's, escapes markup, and
// replaces characters XML cannot carry with U+FFFD, so that whatever
// Element we hold, what we send is well-formed. A Raw child (NewRaw) is
// written verbatim; NewRaw accepts only this package's own canonical
// serialisation of one element, so the guarantee holds for it too.
//
// The tokenizer under Reader is the package's own: it reads the input
// buffer in runs rather than a byte per call, and reuses its buffers, at
// about a third of the cost of encoding/xml's Decoder. It accepts what
// encoding/xml's strict RawToken accepts and fails where it fails (a fuzz
// test, FuzzTokenizerVsEncodingXML, compares them token by token).
//
// StanzaBuffered and ReadAhead let a transport batch the stanzas a peer
// sent back to back without ever waiting for more input.
//
// Layering: this package imports nothing of Skald.
package xml
