package xml

import (
	"bytes"
	"errors"
	"io"
	"strings"
)

// nsStored is the namespace of the root ParseElements wraps its input in.
const nsStored = "urn:skald:stored"

// ParseElements reads b, zero or more elements written one after the other
// as Bytes("") writes them (each declaring its own namespace), back into
// elements: for XML a module stored and now serves again (vCards, private
// XML storage). lim's depth and attribute limits apply to each element (0:
// none, for XML that met the stream's limits on its way in); its byte
// budget is replaced by b's length, which the storing module bounded. An element that declares no namespace comes back in an
// internal one that no caller accepts. Malformed input, character data
// between the elements included, is an error.
func ParseElements(b []byte, lim Limits) ([]*Element, error) {
	src := io.MultiReader(strings.NewReader(`<stored xmlns="`+nsStored+`">`), bytes.NewReader(b), strings.NewReader(`</stored>`))
	lim.MaxStanzaBytes = int64(len(b)) + 1024
	rd := NewReader(src, lim, min(len(b)+64, 4096))
	if _, _, err := rd.ReadStreamStart(); err != nil {
		return nil, err
	}
	var out []*Element
	for {
		el, err := rd.Next()
		if errors.Is(err, ErrStreamEnd) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, el)
	}
}
