package upload

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/url"
	"strconv"
	"time"
)

// A slot is what the server grants: one upload of one file. Nothing of it
// is kept on the server: the PUT URL carries it, signed (see sign), so a
// slot survives a restart and costs no memory until it is used. It is
// single-use because its id then names a stored file.
type slot struct {
	id      string // 128 random bits, base64url: the file's name on disk and in URLs
	name    string // file name as the client asked, already checked
	size    int64
	ctype   string // content-type of the request, "" if none was given
	owner   string // bare JID of the requester
	expires time.Time
}

// newSlotID returns an unguessable id: the GET URL is the file's only
// protection (XEP-0363 §8: long random paths).
func newSlotID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// sign returns the slot's signature: HMAC-SHA-256, under a key derived from
// the server secret, over every field, each length-prefixed so that no two
// slots share an input.
func sign(key []byte, s slot) string {
	mac := hmac.New(sha256.New, key)
	var n [8]byte
	for _, f := range []string{"skald-upload-put", s.id, s.name, strconv.FormatInt(s.size, 10), s.ctype, s.owner, strconv.FormatInt(s.expires.Unix(), 10)} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		mac.Write(n[:])
		mac.Write([]byte(f))
	}
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// deriveKey makes the upload key from the server secret (secret.key in the
// data directory): PUT URLs stay valid across a restart, and no other use
// of the secret can produce a valid signature.
func deriveKey(secret []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("skald upload slot key v1"))
	return mac.Sum(nil)
}

// putQuery is the query of a PUT URL: the slot fields the path does not
// carry, and the signature.
func putQuery(key []byte, s slot) string {
	q := url.Values{}
	q.Set("e", strconv.FormatInt(s.expires.Unix(), 10))
	q.Set("s", strconv.FormatInt(s.size, 10))
	if s.ctype != "" {
		q.Set("t", s.ctype)
	}
	q.Set("o", s.owner)
	q.Set("sig", sign(key, s))
	return q.Encode()
}

// slotFromPut reads the slot a PUT claims and reports whether its
// signature holds (in constant time).
func slotFromPut(key []byte, id, name string, q url.Values) (slot, bool) {
	e, err1 := strconv.ParseInt(q.Get("e"), 10, 64)
	size, err2 := strconv.ParseInt(q.Get("s"), 10, 64)
	if err1 != nil || err2 != nil || len(q["sig"]) != 1 {
		return slot{}, false
	}
	s := slot{id: id, name: name, size: size, ctype: q.Get("t"), owner: q.Get("o"), expires: time.Unix(e, 0)}
	return s, hmac.Equal([]byte(sign(key, s)), []byte(q.Get("sig")))
}
