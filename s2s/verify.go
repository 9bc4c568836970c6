package s2s

import (
	"context"
	"errors"
)

// verifyKey asks the authoritative server of originating whether key is
// its key for our stream id (XEP-0220 §2.3), on a connection of its own
// from receiving (a domain we serve), as RFC 6120 streams are one-way.
// It reports the answer; an error means no answer (XEP-0220 §2.4:
// type='error').
func (s *Server) verifyKey(ctx context.Context, receiving, originating, streamID, key string) (bool, error) {
	pc, err := s.connect(ctx, receiving, originating)
	if err != nil {
		return false, err
	}
	defer pc.nc.Close()
	// Shutdown (or the deadline) ends the wait for the answer.
	stop := context.AfterFunc(ctx, func() { pc.nc.Close() })
	defer stop()
	if err := writeAll(pc.nc, s.cfg.ConnectTimeout, dbElement("verify", receiving, originating, streamID, "", key)); err != nil {
		return false, err
	}
	for {
		el, err := pc.next(s)
		if err != nil {
			return false, err
		}
		if !el.Is(nsDialback, "verify") || el.Attr("id") != streamID ||
			el.Attr("from") != originating || el.Attr("to") != receiving {
			continue
		}
		writeAll(pc.nc, s.cfg.ConnectTimeout, []byte("</stream:stream>"))
		switch el.Attr("type") {
		case "valid":
			return true, nil
		case "invalid":
			return false, nil
		}
		return false, errors.New("s2s: dialback verify answered " + el.Attr("type"))
	}
}
