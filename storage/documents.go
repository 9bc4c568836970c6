package storage

import "context"

// Document is one stored XML document: Key names it within its kind, XML
// is its serialisation, kept byte for byte.
type Document struct {
	Key string
	XML []byte
}

// Documents keeps small XML documents an account owns, as serialised
// bytes under a kind (the feature that owns them: "vcard" for XEP-0054,
// "private" for XEP-0049) and a key within the kind (XEP-0049: the
// namespace; "" for a kind with one document per account). Backends treat
// kinds, keys and bytes as opaque; the modules decide what is valid and
// bound each document's size.
type Documents interface {
	// Document returns owner's document (kind, key), or ErrNotFound.
	Document(ctx context.Context, owner, kind, key string) ([]byte, error)
	// PutDocuments stores docs (distinct keys) for owner under kind, each
	// replacing the document with its key, all or none. With limit > 0,
	// if owner's documents of that kind would then total more than limit
	// bytes of XML, nothing is stored and the error is ErrQuotaExceeded.
	PutDocuments(ctx context.Context, owner, kind string, docs []Document, limit int) error
}
