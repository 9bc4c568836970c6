package xml

import (
	"bytes"
	"strings"
	"testing"
)

// repeatReader serves one stream header, then the same stanza forever:
// a connection in steady state.
type repeatReader struct {
	head   []byte
	stanza []byte
	off    int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if len(r.head) > 0 {
		n := copy(p, r.head)
		r.head = r.head[n:]
		return n, nil
	}
	n := 0
	for n < len(p) {
		k := copy(p[n:], r.stanza[r.off:])
		n += k
		r.off = (r.off + k) % len(r.stanza)
	}
	return n, nil
}

// BenchmarkReadChatMessage reads typical chat messages from a stream.
func BenchmarkReadChatMessage(b *testing.B) { benchmarkRead(b, chatMessage) }

// benchmarkRead reads stanza again and again from one stream.
func benchmarkRead(b *testing.B, stanza string) {
	rd := NewReader(&repeatReader{head: []byte(hdr), stanza: []byte(stanza)}, DefaultLimits, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(stanza)))
	for b.Loop() {
		if _, err := rd.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteChatMessage serialises one into a reused buffer, as the
// connection writer does, and through Bytes.
func BenchmarkWriteChatMessage(b *testing.B) {
	el := readOne(b, chatMessage)
	n := int64(len(el.Bytes(nsClient)))
	b.Run("WriteTo", func(b *testing.B) {
		var buf bytes.Buffer
		b.ReportAllocs()
		b.SetBytes(n)
		for b.Loop() {
			buf.Reset()
			el.WriteTo(&buf, nsClient)
		}
	})
	b.Run("Bytes", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(n)
		for b.Loop() {
			_ = el.Bytes(nsClient)
		}
	})
}

func BenchmarkCloneChatMessage(b *testing.B) {
	el := readOne(b, chatMessage)
	b.ReportAllocs()
	b.SetBytes(int64(len(chatMessage)))
	for b.Loop() {
		_ = el.Clone()
	}
}

// BenchmarkKeepalives: whitespace between stanzas costs no allocation.
func BenchmarkKeepalives(b *testing.B) {
	stanza := []byte(strings.Repeat(" ", 1000) + "<a/>")
	rd := NewReader(&repeatReader{head: []byte(hdr), stanza: stanza}, DefaultLimits, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(stanza)))
	for b.Loop() {
		if _, err := rd.Next(); err != nil {
			b.Fatal(err)
		}
	}
}
