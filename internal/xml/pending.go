package xml

// StanzaBuffered reports whether the reader holds, already read from its
// source, a whole top-level element: the next Next returns without reading
// more. A transport uses it to take the stanzas a peer sent back to back
// together without ever waiting for more input.
//
// It looks at the buffered bytes with a small scanner that tracks element
// depth (quotes in tags, nothing else), so it can answer false for an
// element that is there (CDATA, comments, an element longer than the
// buffer), which only ends a batch early; when it answers true, the
// element's last '>' is buffered.
func (r *Reader) StanzaBuffered() bool {
	n := r.src.br.Buffered()
	if n == 0 {
		return false
	}
	b, err := r.src.br.Peek(n)
	if err != nil {
		return false
	}
	return wholeElement(b)
}

// wholeElement reports whether b, after leading whitespace, holds the
// complete first element (see StanzaBuffered).
func wholeElement(b []byte) bool {
	i := 0
	for i < len(b) && isSpaceByte(b[i]) {
		i++
	}
	if i == len(b) || b[i] != '<' {
		return false
	}
	depth := 0
	for i < len(b) {
		// b[i] == '<'
		if i+1 >= len(b) {
			return false
		}
		switch b[i+1] {
		case '!', '?':
			return false // CDATA, comment, PI: not worth scanning
		case '/':
			end := indexByteFrom(b, i+2, '>')
			if end < 0 {
				return false
			}
			depth--
			if depth <= 0 {
				return true
			}
			i = end + 1
		default:
			end, empty := tagEnd(b, i+1)
			if end < 0 {
				return false
			}
			if !empty {
				depth++
			} else if depth == 0 {
				return true
			}
			i = end + 1
		}
		// Character data up to the next tag.
		next := indexByteFrom(b, i, '<')
		if next < 0 {
			return false
		}
		i = next
	}
	return false
}

// tagEnd finds the '>' closing a start tag whose name begins at b[i],
// skipping quoted attribute values, and reports whether the tag is empty
// ("/>"). It returns -1 if the tag is not complete in b.
func tagEnd(b []byte, i int) (end int, empty bool) {
	var quote byte
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i, i > 0 && b[i-1] == '/'
		}
	}
	return -1, false
}

func indexByteFrom(b []byte, from int, c byte) int {
	for i := from; i < len(b); i++ {
		if b[i] == c {
			return i
		}
	}
	return -1
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// ReadAhead makes one read from the source into the buffer, if the buffer
// has room, keeping whatever it returns for the next Next. It is meant
// for a source set up not to wait (a read deadline in the past, or known
// readable input): its error is returned and, except for data, nothing
// else changes; a lasting error (EOF, a broken connection) is met again
// by the next Next.
func (r *Reader) ReadAhead() error {
	br := r.src.br
	n := br.Buffered()
	if n >= br.Size() {
		return nil
	}
	_, err := br.Peek(n + 1)
	return err
}
