package c2s

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"testing"
)

// writeLog is a net.Conn (not a *net.TCPConn, like a TLS connection) that
// records each Write; it can fail the nth.
type writeLog struct {
	net.Conn
	writes [][]byte
	failAt int // 1-based; 0: never
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.writes = append(w.writes, bytes.Clone(p))
	if len(w.writes) == w.failAt {
		return 0, errors.New("broken pipe")
	}
	return len(p), nil
}

func TestWriteBatchCoalesces(t *testing.T) {
	small := func(n int) net.Buffers {
		var bs net.Buffers
		for i := range n {
			bs = append(bs, fmt.Appendf(nil, "<message id='%d'/>", i))
		}
		return bs
	}
	big := bytes.Repeat([]byte("x"), coalesceMax)
	tests := []struct {
		name  string
		batch net.Buffers
		sizes []int // lengths of the writes
	}{
		{"one stanza as it is", small(1), []int{len("<message id='0'/>")}},
		{"a page of stanzas in one write", small(51), []int{len(bytes.Join(small(51), nil))}},
		{"a stanza and its <r/>", net.Buffers{[]byte("<message/>"), ackRequest}, []int{10 + len(ackRequest)}},
		{"a big stanza goes alone, in order", append(append(small(2), big), small(1)...),
			[]int{2 * len("<message id='0'/>"), coalesceMax, len("<message id='0'/>")}},
		{"writes stay within the bound", net.Buffers{big[:coalesceMax-5], []byte("0123456789"), []byte("ab")},
			[]int{coalesceMax - 5, 12}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := bytes.Join(tc.batch, nil)
			w := &writeLog{}
			if err := writeBatch(w, append(net.Buffers(nil), tc.batch...)); err != nil {
				t.Fatal(err)
			}
			var sizes []int
			for _, b := range w.writes {
				sizes = append(sizes, len(b))
			}
			if fmt.Sprint(sizes) != fmt.Sprint(tc.sizes) {
				t.Errorf("write sizes %v, want %v", sizes, tc.sizes)
			}
			if got := bytes.Join(w.writes, nil); !bytes.Equal(got, want) {
				t.Errorf("bytes written differ from the batch")
			}
		})
	}
}

func TestWriteBatchStopsAtFailure(t *testing.T) {
	big := bytes.Repeat([]byte("x"), coalesceMax)
	w := &writeLog{failAt: 1}
	err := writeBatch(w, net.Buffers{[]byte("<a/>"), big, []byte("<b/>")})
	if err == nil || len(w.writes) != 1 {
		t.Fatalf("err %v after %d writes", err, len(w.writes))
	}
}
