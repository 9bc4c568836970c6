package xml

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// scriptedWaiter is an InputWaiter source following a script of steps:
// what one Read returns, or what PollInput returns in p (as a TLS layer
// holding a record does). A step marked idle is not there when polled: the
// reader must wait for it. It records what the reader held at each wait.
type scriptedWaiter struct {
	steps   []step
	rd      *Reader // set after NewReader, to look at its state while waiting
	waits   []waitState
	waiting bool // WaitInput was called for the idle step due
}

type step struct {
	data  string
	err   error
	probe bool // returned by PollInput instead of Read
	idle  bool // arrives only after a wait; an idle probe step is WaitInput's err
}

type waitState struct{ buffer, decoder, stack bool }

func (s *scriptedWaiter) Read(p []byte) (int, error) {
	if len(s.steps) == 0 {
		return 0, io.EOF
	}
	st := s.steps[0]
	if st.probe || (st.idle && !s.waiting) {
		panic("read while the next step was not there: the reader did not poll or wait")
	}
	s.steps, s.waiting = s.steps[1:], false
	return copy(p, st.data), st.err
}

func (s *scriptedWaiter) PollInput(p []byte) (int, bool, error) {
	if len(s.steps) == 0 {
		return 0, true, nil // the read meets EOF
	}
	st := s.steps[0]
	switch {
	case st.idle && !s.waiting:
		return 0, false, nil
	case st.probe:
		s.steps = s.steps[1:]
		return copy(p, st.data), false, st.err
	}
	return 0, true, nil
}

func (s *scriptedWaiter) WaitInput() error {
	s.waits = append(s.waits, waitState{
		buffer:  s.rd.src.br.buf != nil,
		decoder: s.rd.tok != nil,
		stack:   s.rd.stack != nil,
	})
	if len(s.steps) > 0 && s.steps[0].idle && s.steps[0].probe {
		st := s.steps[0]
		s.steps = s.steps[1:]
		return st.err
	}
	s.waiting = true
	return nil
}

// newScripted returns a reader of a stream whose header and first stanza
// come in one read, positioned after that stanza: from there on, Next
// waits for input itself.
func newScripted(t *testing.T, steps ...step) (*Reader, *scriptedWaiter) {
	t.Helper()
	src := &scriptedWaiter{steps: append([]step{{data: hdr + "<first/>"}}, steps...)}
	src.rd = NewReader(src, testLimits, 0)
	if _, _, err := src.rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	if el, err := src.rd.Next(); err != nil || el.Local != "first" {
		t.Fatalf("first stanza: %v, %v", el, err)
	}
	return src.rd, src
}

// TestIdleReaderHoldsNothing: between stanzas, with nothing buffered and
// nothing arrived, the reader waits through its source holding no buffer,
// decoder or element stack; whitespace keepalives (however split) are
// consumed without the parser, and it waits again at once. Input already
// there is read without waiting.
func TestIdleReaderHoldsNothing(t *testing.T) {
	rd, src := newScripted(t,
		step{data: "<iq><query><item/></query></iq>", idle: true},
		step{data: "  \n", idle: true},
		step{data: "\t "},
		step{data: "<message><body>hi</body></message> ", idle: true},
		step{data: "<presence/>"},
	)
	var got []string
	for {
		el, err := rd.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("Next: %v", err)
			}
			break
		}
		got = append(got, el.Local)
	}
	if strings.Join(got, " ") != "iq message presence" {
		t.Errorf("read %v, want iq message presence", got)
	}
	if len(src.waits) != 3 {
		t.Fatalf("waited %d times, want 3 (once per idle step)", len(src.waits))
	}
	for i, w := range src.waits {
		if w != (waitState{}) {
			t.Errorf("wait %d: reader held %+v, want nothing", i, w)
		}
	}
}

// TestPollAndWaitInput: bytes PollInput returns are read before anything
// else, also when an error follows them; errors of PollInput and
// WaitInput end the stream as a read's would.
func TestPollAndWaitInput(t *testing.T) {
	tests := []struct {
		name   string
		steps  []step
		want   string // locals of the elements read
		endErr error
	}{
		{"element split between probe and read",
			[]step{{data: "<a><b/", probe: true}, {data: "></a>"}}, "a", io.EOF},
		{"whole element in the probe",
			[]step{{data: "<a/>", probe: true}}, "a", io.EOF},
		{"probe of whitespace only",
			[]step{{data: "   ", probe: true}, {data: "<a/>", probe: true}}, "a", io.EOF},
		{"probe bytes then end of stream",
			[]step{{data: "<a/>", probe: true, err: io.EOF}}, "a", io.EOF},
		{"poll fails",
			[]step{{data: "<a/>"}, {probe: true, err: errTimeoutForTest}}, "a", errTimeoutForTest},
		{"wait fails",
			[]step{{data: "<a/>"}, {probe: true, idle: true, err: errTimeoutForTest}}, "a", errTimeoutForTest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, _ := newScripted(t, tt.steps...)
			var got []string
			var err error
			for {
				var el *Element
				if el, err = rd.Next(); err != nil {
					break
				}
				got = append(got, el.Local)
			}
			if strings.Join(got, " ") != tt.want || !errors.Is(err, tt.endErr) {
				t.Errorf("read %v then %v, want %s then %v", got, err, tt.want, tt.endErr)
			}
		})
	}
}

var errTimeoutForTest = errors.New("i/o timeout")

// TestSelfClosingRootEndsStream: after <stream:stream/> the stream is over
// at once; the reader does not wait for input first.
func TestSelfClosingRootEndsStream(t *testing.T) {
	src := &scriptedWaiter{steps: []step{
		{data: `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'/>`},
		{data: "<a/>", idle: true},
	}}
	src.rd = NewReader(src, testLimits, 0)
	if _, _, err := src.rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	if _, err := src.rd.Next(); !errors.Is(err, ErrStreamEnd) {
		t.Fatalf("Next = %v, want ErrStreamEnd", err)
	}
	if len(src.waits) != 0 {
		t.Errorf("waited for input %d times first", len(src.waits))
	}
}

// TestReaderWithoutWaiterKeepsReading: a plain source is read as before
// (the parser's read waits); the buffer is still given back once empty.
func TestReaderWithoutWaiterKeepsReading(t *testing.T) {
	rd := NewReader(io.MultiReader(strings.NewReader(hdr+"<a/>"), strings.NewReader("  <b/>")), testLimits, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a", "b"} {
		el, err := rd.Next()
		if err != nil || el.Local != want {
			t.Fatalf("Next = %v, %v; want %s", el, err, want)
		}
		if rd.src.br.buf != nil {
			t.Errorf("after %s the reader still holds its buffer", want)
		}
	}
}

// chunkReader returns its chunks one per Read (an empty chunk is a read
// of nothing), then err.
type chunkReader struct {
	chunks []string
	err    error
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, c.err
	}
	n := copy(p, c.chunks[0])
	if n < len(c.chunks[0]) {
		c.chunks[0] = c.chunks[0][n:]
	} else {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

// TestInputBufferActsLikeBufio: ReadByte, Peek and Buffered give what
// bufio.Reader gives for the same input, errors included (pending.go's
// look-ahead relies on Peek's behaviour).
func TestInputBufferActsLikeBufio(t *testing.T) {
	boom := errors.New("boom")
	const size = 16     // of both buffers
	const readByte = -1 // an op: ReadByte; any other op n is Peek(n)
	tests := []struct {
		name   string
		chunks []string
		err    error
		ops    []int
	}{
		{"bytes then EOF", []string{"ab", "c"}, io.EOF, []int{readByte, readByte, readByte, readByte, readByte}},
		{"peek across reads", []string{"ab", "cd"}, io.EOF, []int{3, 4, 5, readByte, 4}},
		{"peek more than the buffer", []string{"abcdefghij"}, io.EOF, []int{size + 1, readByte, size + 1}},
		{"error after data", []string{"ab"}, boom, []int{1, 3, readByte, readByte, readByte, readByte}},
		{"peek nothing", []string{"a"}, io.EOF, []int{0, readByte, 0, 1}},
		{"empty reads", []string{"", "", "a", ""}, io.EOF, []int{readByte, readByte, 1}},
		{"no progress", nil, nil, []int{readByte, 1}},
		{"negative peek", []string{"a"}, io.EOF, []int{-2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := bufio.NewReaderSize(&chunkReader{chunks: append([]string(nil), tt.chunks...), err: tt.err}, size)
			got := &inputBuffer{rd: &chunkReader{chunks: append([]string(nil), tt.chunks...), err: tt.err}, size: size}
			for i, o := range tt.ops {
				if o == readByte {
					wb, werr := want.ReadByte()
					gb, gerr := got.ReadByte()
					if wb != gb || werr != gerr {
						t.Fatalf("op %d ReadByte = %q, %v; bufio gives %q, %v", i, gb, gerr, wb, werr)
					}
				} else {
					wp, werr := want.Peek(o)
					gp, gerr := got.Peek(o)
					if string(wp) != string(gp) || werr != gerr {
						t.Fatalf("op %d Peek(%d) = %q, %v; bufio gives %q, %v", i, o, gp, gerr, wp, werr)
					}
				}
				if want.Buffered() != got.Buffered() {
					t.Fatalf("op %d: Buffered = %d, bufio has %d", i, got.Buffered(), want.Buffered())
				}
			}
		})
	}
}

// TestIdleAfterHeader: right after the stream header, before any stanza,
// the reader waits as between stanzas, holding nothing; a root that closed
// itself is not waited after: its end comes next.
func TestIdleAfterHeader(t *testing.T) {
	src := &scriptedWaiter{steps: []step{{data: hdr}, {data: "<iq/>", idle: true}}}
	src.rd = NewReader(src, testLimits, 0)
	if _, _, err := src.rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	if _, err := src.rd.NextOrIdle(); !errors.Is(err, ErrWouldWait) {
		t.Fatalf("NextOrIdle after the header: %v, want ErrWouldWait", err)
	}
	if el, err := src.rd.Next(); err != nil || el.Local != "iq" {
		t.Fatalf("Next: %v, %v", el, err)
	}
	if len(src.waits) != 1 || src.waits[0] != (waitState{}) {
		t.Fatalf("waits %+v, want one, holding nothing", src.waits)
	}

	closed := &scriptedWaiter{steps: []step{{data: strings.Replace(hdr, "'>", "'/>", 1)}, {data: " ", idle: true}}}
	closed.rd = NewReader(closed, testLimits, 0)
	if _, _, err := closed.rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	if _, err := closed.rd.NextOrIdle(); !errors.Is(err, ErrStreamEnd) {
		t.Fatalf("NextOrIdle after a self-closing root: %v, want ErrStreamEnd", err)
	}
}
