package pie

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/mam"
)

// Writer writes a XEP-0227 document. Call StartUser and/or StartArchive
// for each user, WriteItem for each of its archive items (oldest first),
// then Close, which completes the document. After the first error every call
// returns it.
type Writer struct {
	w     *bufio.Writer
	buf   bytes.Buffer
	begun bool    // <server-data> written
	host  string  // domain of the open <host>, "" if none
	user  jid.JID // the open <user>, zero if none
	arch  bool    // its <archive> is open
	last  time.Time
	err   error
}

// NewWriter returns a Writer writing to w. Nothing is written before the
// first call.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10)}
}

// StartUser closes the previous user and opens owner's, in a new <host>
// if owner's domain differs from the previous user's, with the given
// parts of its data (credentials, roster, vCard...), each on one line.
// StartArchive may follow for owner's archive.
func (w *Writer) StartUser(owner jid.JID, parts ...*xml.Element) error {
	if w.err != nil {
		return w.err
	}
	if owner.Local() == "" || owner.IsFull() {
		return w.fail(fmt.Errorf("pie: user %q is not a bare user JID", owner))
	}
	w.buf.Reset()
	w.begin()
	w.closeUser()
	if w.host != owner.Domain() {
		w.closeHost()
		w.host = owner.Domain()
		w.buf.WriteString("  <host jid=\"")
		xml.EscapeAttr(&w.buf, w.host)
		w.buf.WriteString("\">\n")
	}
	w.buf.WriteString("    <user name=\"")
	xml.EscapeAttr(&w.buf, owner.Local())
	w.buf.WriteString("\">\n")
	for _, p := range parts {
		w.buf.WriteString("      ")
		p.WriteTo(&w.buf, NS)
		w.buf.WriteByte('\n')
	}
	w.user = owner
	return w.flushBuf()
}

// StartArchive opens owner's archive: in the <user> StartUser opened for
// owner, or else in a new <user> (closing the previous one).
func (w *Writer) StartArchive(owner jid.JID) error {
	if w.err != nil {
		return w.err
	}
	if w.user != owner || w.arch || owner.IsZero() {
		if err := w.StartUser(owner); err != nil {
			return err
		}
	}
	w.buf.Reset()
	w.buf.WriteString("      <archive xmlns=\"" + NSMAM + "\">\n")
	w.arch, w.last = true, time.Time{}
	return w.flushBuf()
}

// WriteItem writes one item of the open archive, on one line. Its stamp
// is written in UTC with microseconds; it may not be earlier than the
// previous item's (XEP-0227: "MUST be in chronological order").
func (w *Writer) WriteItem(it Item) error {
	if w.err != nil {
		return w.err
	}
	switch {
	case !w.arch:
		return w.fail(errors.New("pie: WriteItem before StartArchive"))
	case it.Message == nil:
		return w.fail(errors.New("pie: item without a message"))
	}
	stamp := it.Stamp.UTC().Truncate(time.Microsecond)
	if stamp.Before(w.last) {
		return w.fail(fmt.Errorf("pie: item %q stamped %s follows one stamped %s: items must be in chronological order",
			it.ID, mam.FormatDateTime(stamp), mam.FormatDateTime(w.last)))
	}
	w.last = stamp
	res := xml.New(mam.NS, "result")
	if it.ID != "" {
		res.SetAttr("id", it.ID)
	}
	res.Append(xml.New(mam.NSForward, "forwarded").Append(
		xml.New(mam.NSDelay, "delay", "stamp", mam.FormatDateTime(stamp)),
		it.Message,
	))
	w.buf.Reset()
	w.buf.WriteString("        ")
	res.WriteTo(&w.buf, NSMAM)
	w.buf.WriteByte('\n')
	return w.flushBuf()
}

// Close completes the document and flushes it; it does not close the
// underlying writer. A document without any archive is an empty
// <server-data/>.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	w.buf.Reset()
	w.begin()
	w.closeUser()
	w.closeHost()
	w.buf.WriteString("</server-data>\n")
	if err := w.flushBuf(); err != nil {
		return err
	}
	if err := w.w.Flush(); err != nil {
		return w.fail(err)
	}
	w.err = errors.New("pie: Writer is closed")
	return nil
}

func (w *Writer) begin() {
	if !w.begun {
		w.begun = true
		w.buf.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<server-data xmlns=\"" + NS + "\">\n")
	}
}

func (w *Writer) closeUser() {
	if w.arch {
		w.buf.WriteString("      </archive>\n")
		w.arch = false
	}
	if !w.user.IsZero() {
		w.buf.WriteString("    </user>\n")
		w.user = jid.JID{}
	}
}

func (w *Writer) closeHost() {
	if w.host != "" {
		w.buf.WriteString("  </host>\n")
		w.host = ""
	}
}

func (w *Writer) flushBuf() error {
	if _, err := w.w.Write(w.buf.Bytes()); err != nil {
		return w.fail(err)
	}
	return nil
}

func (w *Writer) fail(err error) error {
	w.err = err
	return err
}
