package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
)

// bodyPrefix starts the body of every message the bench sends. The body
// then names the run, the flow and the sequence number, so that any copy
// of the message (delivered, bounced, archived) says where it belongs:
// "skald-bench RUN FLOW SEQ [padding]".
const bodyPrefix = "skald-bench "

// newRunID returns a short random run id: archives keep earlier runs'
// messages, which must never be mistaken for this run's.
func newRunID() string {
	const digits = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [8]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = digits[int(b[i])%len(digits)]
	}
	return string(b[:])
}

// traffic sends numbered chat messages along flows (one sender client, one
// receiver client, n messages, at most window undelivered) and records
// what arrives: delivery latency, duplicates, bounces, stanza-ids.
type traffic struct {
	run    string
	flows  []*flow
	pad    string
	start  time.Time
	cancel context.CancelFunc // stops the senders

	lastNS   atomic.Int64 // latest first delivery, ns after start
	progress atomic.Int64 // deliveries and bounces
	foreign  atomic.Int64 // bench messages of other runs or flows

	errMu         sync.Mutex
	sendErrs      []error
	foreignSample string
}

// flow is one sender→receiver stream of numbered messages.
type flow struct {
	id       int
	from, to *Client
	n        int
	sem      chan struct{} // the window: a token per undelivered message
	sentAt   []atomic.Int64
	sent     atomic.Int64
	head     []byte // `<message to="…" type="chat" id="`

	mu         sync.Mutex
	got        []uint16 // copies received per seq
	bouncedSeq []bool
	stanzaIDs  []string // the receiver's stanza-id per seq
	lat        []time.Duration
	delivered  int
	bounced    int
	dups       int
	noSID      int
	done       chan struct{}
	finished   bool
}

// newTraffic prepares flows from[i] → to[i] of counts[i] messages and
// installs the message handler on every client involved.
func newTraffic(from, to []*Client, counts []int, window, bodyBytes int) *traffic {
	tr := &traffic{run: newRunID()}
	if pad := bodyBytes - len(bodyPrefix) - 24; pad > 0 {
		tr.pad = " " + strings.Repeat("x", pad)
	}
	for i := range from {
		var head bytes.Buffer
		head.WriteString(`<message to="`)
		xml.EscapeAttr(&head, to[i].Bare)
		head.WriteString(`" type="chat" id="`)
		n := counts[i]
		tr.flows = append(tr.flows, &flow{
			id: i, from: from[i], to: to[i], n: n,
			sem:        make(chan struct{}, max(window, 1)),
			sentAt:     make([]atomic.Int64, n),
			head:       head.Bytes(),
			got:        make([]uint16, n),
			bouncedSeq: make([]bool, n),
			stanzaIDs:  make([]string, n),
			lat:        make([]time.Duration, 0, n),
			done:       make(chan struct{}),
		})
		if n == 0 {
			tr.flows[i].finish()
		}
	}
	for _, f := range tr.flows {
		f.from.SetHandler(tr.handle)
		f.to.SetHandler(tr.handle)
	}
	return tr
}

func (f *flow) finish() {
	if !f.finished {
		f.finished = true
		close(f.done)
	}
}

// appendMessage serialises message seq of the flow.
func (tr *traffic) appendMessage(b []byte, f *flow, seq int) []byte {
	ref := tr.run + "." + strconv.Itoa(f.id) + "." + strconv.Itoa(seq)
	b = append(b, f.head...)
	b = append(b, ref...)
	b = append(b, `"><body>`...)
	b = append(b, bodyPrefix...)
	b = append(b, tr.run...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(f.id), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, tr.pad...)
	b = append(b, `</body><origin-id xmlns="urn:xmpp:sid:0" id="`...)
	b = appendUUID(b)
	b = append(b, `"/></message>`...)
	return b
}

// appendUUID appends a random version 4 UUID: the origin-id Conversations,
// Dino and Gajim send (XEP-0359 §4 wants it unique, and random ids are
// what a server's origin-id index gets from real clients; an id that
// grows with each message would keep its index pages hot).
func appendUUID(b []byte) []byte {
	const hexDigits = "0123456789abcdef"
	hi, lo := mrand.Uint64(), mrand.Uint64()
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // variant 10
	for i := 60; i >= 0; i -= 4 {
		b = append(b, hexDigits[hi>>uint(i)&0xf])
		if i == 32 || i == 16 {
			b = append(b, '-')
		}
	}
	b = append(b, '-')
	for i := 60; i >= 0; i -= 4 {
		b = append(b, hexDigits[lo>>uint(i)&0xf])
		if i == 48 {
			b = append(b, '-')
		}
	}
	return b
}

// parseRef splits "RUN<sep>FLOW<sep>SEQ[ rest]".
func parseRef(s string, sep byte) (run string, flow, seq int, ok bool) {
	i := strings.IndexByte(s, sep)
	if i < 0 {
		return "", 0, 0, false
	}
	run, s = s[:i], s[i+1:]
	j := strings.IndexByte(s, sep)
	if j < 0 {
		return "", 0, 0, false
	}
	fs, ss := s[:j], s[j+1:]
	if k := strings.IndexByte(ss, ' '); k >= 0 {
		ss = ss[:k]
	}
	var err1, err2 error
	flow, err1 = strconv.Atoi(fs)
	seq, err2 = strconv.Atoi(ss)
	return run, flow, seq, err1 == nil && err2 == nil && flow >= 0 && seq >= 0
}

// parseBody returns the reference in a bench message body.
func parseBody(body string) (run string, flow, seq int, ok bool) {
	rest, ok := strings.CutPrefix(body, bodyPrefix)
	if !ok {
		return "", 0, 0, false
	}
	return parseRef(rest, ' ')
}

// lookup returns the flow and checks seq, for messages of this run.
func (tr *traffic) lookup(run string, fid, seq int) *flow {
	if run != tr.run || fid >= len(tr.flows) || seq >= tr.flows[fid].n {
		return nil
	}
	return tr.flows[fid]
}

func (tr *traffic) handle(c *Client, m *xml.Element) {
	if m.Attr("type") == "error" {
		run, fid, seq, ok := parseRef(m.Attr("id"), '.')
		if f := tr.lookup(run, fid, seq); ok && f != nil && f.from == c {
			f.bounce(tr, seq)
		}
		return
	}
	run, fid, seq, ok := parseBody(m.Child("", "body").Text())
	if !ok {
		return
	}
	f := tr.lookup(run, fid, seq)
	if f == nil || f.to != c {
		if tr.foreign.Add(1) == 1 {
			tr.errMu.Lock()
			tr.foreignSample = fmt.Sprintf("%s got %s", c.JID, m)
			tr.errMu.Unlock()
		}
		return
	}
	sid := ""
	for _, e := range m.ChildrenNamed(nsSID, "stanza-id") {
		if e.Attr("by") == c.Bare {
			sid = e.Attr("id")
		}
	}
	f.deliver(tr, seq, sid)
}

func (f *flow) deliver(tr *traffic, seq int, sid string) {
	now := time.Since(tr.start)
	f.mu.Lock()
	f.got[seq]++
	if f.got[seq] > 1 || f.bouncedSeq[seq] {
		f.dups++
		f.mu.Unlock()
		return
	}
	f.delivered++
	f.lat = append(f.lat, now-time.Duration(f.sentAt[seq].Load()))
	f.stanzaIDs[seq] = sid
	if sid == "" {
		f.noSID++
	}
	if f.delivered+f.bounced == f.n {
		f.finish()
	}
	f.mu.Unlock()
	f.release()
	tr.progress.Add(1)
	for {
		last := tr.lastNS.Load()
		if int64(now) <= last || tr.lastNS.CompareAndSwap(last, int64(now)) {
			break
		}
	}
}

func (f *flow) bounce(tr *traffic, seq int) {
	f.mu.Lock()
	if f.got[seq] > 0 || f.bouncedSeq[seq] {
		f.mu.Unlock()
		return
	}
	f.bouncedSeq[seq] = true
	f.bounced++
	if f.delivered+f.bounced == f.n {
		f.finish()
	}
	f.mu.Unlock()
	f.release()
	tr.progress.Add(1)
}

func (f *flow) release() {
	select {
	case <-f.sem:
	default:
	}
}

// startSending starts one sender goroutine per flow; wait stops them.
func (tr *traffic) startSending(ctx context.Context) {
	ctx, tr.cancel = context.WithCancel(ctx)
	tr.start = time.Now()
	for _, f := range tr.flows {
		go func() {
			buf := make([]byte, 0, 256+len(tr.pad))
			for seq := range f.n {
				select {
				case f.sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				buf = tr.appendMessage(buf[:0], f, seq)
				f.sentAt[seq].Store(int64(time.Since(tr.start)))
				if err := f.from.SendRaw(buf); err != nil {
					tr.errMu.Lock()
					tr.sendErrs = append(tr.sendErrs, fmt.Errorf("%s: %w", f.from.JID, err))
					tr.errMu.Unlock()
					return
				}
				f.sent.Add(1)
			}
		}()
	}
}

// wait returns when every flow is complete, or when nothing has arrived
// for stall (what is missing is then reported as lost), or ctx ends.
func (tr *traffic) wait(ctx context.Context, stall time.Duration) {
	defer tr.cancel() // senders blocked on a window that will not open
	all := make(chan struct{})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for _, f := range tr.flows {
			select {
			case <-f.done:
			case <-stop:
				return
			}
		}
		close(all)
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last, lastChange := tr.progress.Load(), time.Now()
	for {
		select {
		case <-all:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
			if p := tr.progress.Load(); p != last {
				last, lastChange = p, time.Now()
			} else if time.Since(lastChange) > stall {
				return
			}
		}
	}
}

// TrafficStats describe one traffic run.
type TrafficStats struct {
	Flows      int     `json:"flows"`
	Messages   int     `json:"messages"` // planned
	Sent       int     `json:"sent"`
	Delivered  int     `json:"delivered"`
	Bounced    int     `json:"bounced"`
	Lost       int     `json:"lost"` // neither delivered nor bounced
	Duplicates int     `json:"duplicates"`
	Foreign    int     `json:"foreign"`      // bench messages of another run, or to the wrong client
	NoStanzaID int     `json:"no_stanza_id"` // delivered without the receiver's stanza-id
	Seconds    float64 `json:"seconds"`      // first send to last delivery
	Rate       float64 `json:"rate"`         // delivered messages per second
	Latency    Latency `json:"latency"`      // send to delivery
	Error      string  `json:"error,omitempty"`
	// ForeignSample is the first foreign message, for diagnosis.
	ForeignSample string `json:"foreign_sample,omitempty"`
}

func (tr *traffic) stats() TrafficStats {
	var s TrafficStats
	var lat []time.Duration
	for _, f := range tr.flows {
		f.mu.Lock()
		s.Messages += f.n
		s.Delivered += f.delivered
		s.Bounced += f.bounced
		s.Duplicates += f.dups
		s.NoStanzaID += f.noSID
		lat = append(lat, f.lat...)
		f.mu.Unlock()
		s.Sent += int(f.sent.Load())
	}
	s.Flows = len(tr.flows)
	s.Lost = s.Messages - s.Delivered - s.Bounced
	s.Foreign = int(tr.foreign.Load())
	d := time.Duration(tr.lastNS.Load())
	s.Seconds = secs(d)
	s.Rate = rate(s.Delivered, d)
	s.Latency = summarize(lat)
	tr.errMu.Lock()
	if err := errors.Join(tr.sendErrs...); err != nil {
		s.Error = err.Error()
	}
	s.ForeignSample = tr.foreignSample
	tr.errMu.Unlock()
	return s
}

// detach removes the handlers (later messages of this run are ignored).
func (tr *traffic) detach() {
	for _, f := range tr.flows {
		f.from.SetHandler(nil)
		f.to.SetHandler(nil)
	}
}
