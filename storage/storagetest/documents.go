package storagetest

import (
	"context"
	"errors"
	"testing"

	"github.com/skald-xmpp/skald/storage"
)

// wantDoc checks owner's document (kind, key): want nil means absent.
func wantDoc(t *testing.T, s storage.Store, owner, kind, key string, want []byte) {
	t.Helper()
	got, err := s.Document(bg, owner, kind, key)
	if want == nil {
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Document(%s, %s, %q) = %q, %v; want ErrNotFound", owner, kind, key, got, err)
		}
		return
	}
	if err != nil || string(got) != string(want) {
		t.Errorf("Document(%s, %s, %q) = %q, %v; want %q", owner, kind, key, got, err, want)
	}
}

// testDocuments checks storage.Documents: documents are found by owner,
// kind and key, replaced whole, stored all or none, and the quota counts
// a kind's documents as they would be after the put.
func testDocuments(t *testing.T, s storage.Store) {
	const alice, bob = "alice@example.org", "bob@example.org"
	doc := func(key, xml string) storage.Document { return storage.Document{Key: key, XML: []byte(xml)} }
	wantDoc(t, s, alice, "vcard", "", nil)

	must(t, s.PutDocuments(bg, alice, "vcard", []storage.Document{doc("", `<vCard xmlns="vcard-temp"><FN>Alice</FN></vCard>`)}, 0))
	must(t, s.PutDocuments(bg, alice, "private", []storage.Document{doc("a:ns", `<a xmlns="a:ns"/>`), doc("b:ns", `<b xmlns="b:ns">1</b><b xmlns="b:ns">2</b>`)}, 0))
	must(t, s.PutDocuments(bg, bob, "vcard", []storage.Document{doc("", `<vCard xmlns="vcard-temp"/>`)}, 0))
	wantDoc(t, s, alice, "vcard", "", []byte(`<vCard xmlns="vcard-temp"><FN>Alice</FN></vCard>`))
	wantDoc(t, s, alice, "private", "a:ns", []byte(`<a xmlns="a:ns"/>`))
	wantDoc(t, s, alice, "private", "b:ns", []byte(`<b xmlns="b:ns">1</b><b xmlns="b:ns">2</b>`))
	wantDoc(t, s, alice, "private", "", nil)   // kinds do not share keys
	wantDoc(t, s, alice, "vcard", "a:ns", nil) // nor keys kinds
	wantDoc(t, s, bob, "private", "a:ns", nil) // owners are independent
	wantDoc(t, s, bob, "vcard", "", []byte(`<vCard xmlns="vcard-temp"/>`))

	// A put replaces only the keys it names.
	must(t, s.PutDocuments(bg, alice, "private", []storage.Document{doc("a:ns", `<a xmlns="a:ns">new</a>`)}, 0))
	wantDoc(t, s, alice, "private", "a:ns", []byte(`<a xmlns="a:ns">new</a>`))
	wantDoc(t, s, alice, "private", "b:ns", []byte(`<b xmlns="b:ns">1</b><b xmlns="b:ns">2</b>`))

	// alice's private documents hold 21+42 bytes. The quota counts the
	// replaced document at its new size (17), other kinds not at all, a
	// total equal to it fits, and a put over it stores none of its
	// documents.
	must(t, s.PutDocuments(bg, alice, "private", []storage.Document{doc("a:ns", `<a xmlns="a:ns"/>`)}, 17+42))
	err := s.PutDocuments(bg, alice, "private", []storage.Document{doc("c:ns", `<c xmlns="c:ns"/>`), doc("a:ns", `<a xmlns="a:ns">x</a>`)}, 17+42+17)
	wantErr(t, err, storage.ErrQuotaExceeded)
	wantDoc(t, s, alice, "private", "c:ns", nil)
	wantDoc(t, s, alice, "private", "a:ns", []byte(`<a xmlns="a:ns"/>`))
	must(t, s.PutDocuments(bg, alice, "private", []storage.Document{doc("c:ns", `<c xmlns="c:ns"/>`)}, 17+42+17))
	wantDoc(t, s, alice, "private", "c:ns", []byte(`<c xmlns="c:ns"/>`))

	// Stored bytes are copies: changing the caller's slices later changes
	// nothing stored.
	b := []byte(`<d xmlns="d:ns"/>`)
	must(t, s.PutDocuments(bg, bob, "private", []storage.Document{{Key: "d:ns", XML: b}}, 0))
	b[1] = 'X'
	got, err := s.Document(bg, bob, "private", "d:ns")
	must(t, err)
	got[1] = 'Y'
	wantDoc(t, s, bob, "private", "d:ns", []byte(`<d xmlns="d:ns"/>`))

	if err := s.PutDocuments(bg, "", "vcard", []storage.Document{doc("", "<x/>")}, 0); err == nil {
		t.Error("PutDocuments with an empty owner succeeded")
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := s.PutDocuments(ctx, bob, "vcard", []storage.Document{doc("", "<x/>")}, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("PutDocuments with a cancelled context: %v", err)
	}
	wantDoc(t, s, bob, "vcard", "", []byte(`<vCard xmlns="vcard-temp"/>`))
}
