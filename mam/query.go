package mam

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// countBound and countOnlyBound cap the work spent on a filtered RSM
// <count/> (with, start, end, ids, after-id, before-id). XEP-0059 lets a
// responder leave the count out only where reasonably accurate values
// would be impossible or exceptionally resource intensive to calculate.
// Backends count a filtered set by walking an index, about 0.12 µs per
// item on SQLite, and a paging query counts again on every page: at 10000
// items the count cost 1.2 ms against a 50 µs page at an archive of 10^6
// items (bench/compare query, with-last-page), so pages give a filtered
// count up to countBound items. A count-only request (max=0, "Getting the
// Item Count") asks for nothing else and gets one up to countOnlyBound
// items (about 12 ms). The whole archive's count is maintained by the
// stores and always given.
const (
	countBound     = 1000
	countOnlyBound = 100000
)

// access checks that the requester may use the archive an iq is addressed
// to. It returns the archive owner and the address result messages come
// from (the queried entity, which clients check, XEP-0313 "Sender Impersonation").
func access(iq *router.IQ) (owner, from jid.JID, err error) {
	if iq.Session == nil {
		return jid.JID{}, jid.JID{}, stanza.E(stanza.Forbidden, "")
	}
	if iq.To.Local() == "" {
		// The server domain: the requester's own archive, on the
		// requester's own domain only.
		if iq.To.Domain() != iq.From.Domain() {
			return jid.JID{}, jid.JID{}, stanza.E(stanza.Forbidden, "")
		}
		return iq.From.Bare(), iq.To, nil
	}
	if iq.To.Bare() != iq.From.Bare() {
		return jid.JID{}, jid.JID{}, stanza.E(stanza.Forbidden, "only the account itself may access its archive")
	}
	return iq.To.Bare(), iq.To.Bare(), nil
}

// handleForm answers iq get <query/> with the supported query fields.
func (m *Module) handleForm(_ context.Context, iq *router.IQ) (*xml.Element, error) {
	if _, _, err := access(iq); err != nil {
		return nil, err
	}
	return stanza.Result(iq.Stanza).Append(queryForm(true)), nil
}

// handleQuery runs an archive query (XEP-0313 "Querying an archive"): the matching page is
// sent as result messages, then the iq result with <fin/> goes last.
//
// Paging: RSM <after/> pages forward, <before/> (empty: from the end)
// backward, both bounded by the form's after-id/before-id; RSM <after/>
// and <before/> together, which XEP-0313 "Paging through results" leaves undefined, select
// the range between them and page backward from <before/>. RSM <index/>
// is served only as <index>0</index> without <after/> or <before/>, the
// first page, which XEP-0059 "Retrieving a Page Out of Order" says SHOULD
// be derived; any other index is answered feature-not-implemented, which
// it allows: deriving an item from a position costs a scan of every item
// before it.
func (m *Module) handleQuery(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	owner, from, err := access(iq)
	if err != nil {
		return nil, err
	}
	return m.query(ctx, iq, owner, from, queryOpts{user: true})
}

// queryOpts are what differs between a user's and a room's archive query.
type queryOpts struct {
	// room: a room's archive, which is all groupchat and does not offer
	// include-groupchat (no #groupchat-field on rooms).
	room bool
	// hideMUCUser leaves any muc#user <x/> out of the forwarded messages
	// (a room's senders' real JIDs, for a requester who may not see them).
	hideMUCUser bool
	// user: the requester's own archive, whose catch-up queries mark
	// the session (catchUp).
	user bool
}

// catchUp reports whether q catches a client up: it reaches the newest
// item of every conversation. Such a client then takes its messages
// from the archive, not offline storage (router.Session.SetMAMQueried);
// a query of one conversation, of older items, of given ids or a search
// is history, and the offline module must still send what it keeps.
func catchUp(q Query) bool {
	return q.With.IsZero() && q.End.IsZero() && q.BeforeID == "" && q.RSM.Before == "" &&
		q.IDs == nil && q.Text == ""
}

// query serves one archive query on owner's archive, whose result
// messages come from the address from; the caller has checked access.
func (m *Module) query(ctx context.Context, iq *router.IQ, owner, from jid.JID, opts queryOpts) (*xml.Element, error) {
	q, err := ParseQuery(iq.Payload)
	if err != nil {
		return nil, err
	}
	if opts.room && q.IncludeGroupchat != nil {
		return nil, stanza.E(stanza.FeatureNotImplemented, "unsupported field 'include-groupchat'")
	}
	if q.RSM.HasIndex && (q.RSM.Index != 0 || q.RSM.After != "" || q.RSM.HasBefore) {
		return nil, stanza.E(stanza.FeatureNotImplemented, "RSM <index/> other than 0 is not supported; page with <after/> or <before/>")
	}
	if opts.user && catchUp(q) {
		// Before the archive is read: what is archived from now on may
		// be in no answer (offline.leftToMAM).
		iq.Session.SetMAMQueried()
	}

	aq := storage.ArchiveQuery{Owner: owner.String(), Start: q.Start, End: q.End, Text: q.Text}
	if !q.With.IsZero() {
		aq.With = q.With.Bare().String()
		aq.WithResource = q.With.Resource()
	}
	var r resolver
	r.codec = m.ids
	formAfter, formBefore := r.id(q.AfterID), r.id(q.BeforeID)
	rsmAfter, rsmBefore := r.id(q.RSM.After), r.id(q.RSM.Before)
	for _, s := range q.IDs {
		aq.IDs = append(aq.IDs, r.id(s))
	}
	if err := r.check(ctx, m.store, aq.Owner); err != nil {
		return nil, err
	}
	aq.AfterID = maxID(formAfter, rsmAfter)
	aq.BeforeID = minID(formBefore, rsmBefore)
	aq.Last = q.RSM.HasBefore

	limit := m.set.defaultPage
	if q.RSM.HasMax {
		limit = min(q.RSM.Max, m.set.maxPage)
	}

	// The count covers the whole result set as the form defines it: its
	// filters and its after-id/before-id, not the RSM cursors, which only
	// page within the set.
	count := -1
	cq := aq
	cq.AfterID, cq.BeforeID, cq.Last, cq.Limit = formAfter, formBefore, false, 0
	most := countBound
	if limit == 0 {
		most = countOnlyBound
	}
	bound := most + 1
	if cq.With == "" && cq.Start.IsZero() && cq.End.IsZero() && len(cq.IDs) == 0 && cq.AfterID == 0 && cq.BeforeID == 0 {
		bound = 0 // the whole archive: a maintained count, exact at any size
	}
	if cq.Text != "" {
		// A full-text count costs a search of the whole set: given to a
		// count-only request, up to countBound matches, where the
		// backend's search bound allows; left out of pages (XEP-0059:
		// exceptionally resource intensive).
		bound = 0
		if limit == 0 {
			most, bound = countBound, countBound+1
		}
	}
	if bound != 0 || cq.Text == "" {
		n, err := m.store.CountArchive(ctx, cq, bound)
		switch {
		case errors.Is(err, storage.ErrTextTooBroad):
		case err != nil:
			return nil, fmt.Errorf("mam: count: %w", err)
		case bound == 0 || n <= most:
			count = n
		}
	}

	if limit == 0 {
		// max=0 asks for the count only (XEP-0059 "Getting the Item Count"); a one-item probe
		// tells whether anything lies in the paging direction.
		aq.Limit = 1
		page, err := m.store.QueryArchive(ctx, aq)
		if err != nil {
			return nil, queryError(err)
		}
		return m.fin(iq, len(page.Messages) == 0, rsmResult("", "", -1, count)), nil
	}

	aq.Limit = limit
	page, err := m.store.QueryArchive(ctx, aq)
	if err != nil {
		return nil, queryError(err)
	}
	msgs := page.Messages
	var stanzas []xml.Node
	if opts.hideMUCUser {
		stanzas = make([]xml.Node, len(msgs))
		for i, st := range m.decodePage(msgs) {
			if st != nil { // a nil *xml.Element would make a non-nil Node
				st.RemoveChildren(func(c *xml.Element) bool { return c.Is(nsMUCUser, "x") })
				stanzas[i] = st
			}
		}
	} else {
		stanzas = m.pageStanzas(msgs)
	}
	to, fromStr := iq.From.String(), from.String()
	for i := range msgs {
		j := i
		if q.FlipPage {
			j = len(msgs) - 1 - i
		}
		if err := iq.Session.Send(m.resultMessage(to, fromStr, &q, &msgs[j], stanzas[j])); err != nil {
			// The client's queue is full; its connection is being cut.
			return nil, stanza.E(stanza.ResourceConstraint, "")
		}
	}
	if len(msgs) == 0 {
		return m.fin(iq, page.Complete, rsmResult("", "", -1, count)), nil
	}
	first, last := m.ids.encode(msgs[0].ID), m.ids.encode(msgs[len(msgs)-1].ID)
	return m.fin(iq, page.Complete, rsmResult(first, last, firstIndex(q, aq, page, count), count)), nil
}

// queryError is the stanza error of a failed page query: a full-text
// search that met the backend's bound on the items it examines before
// finding any is the requester's to narrow (with, start, end); anything
// else is internal.
func queryError(err error) error {
	if errors.Is(err, storage.ErrTextTooBroad) {
		return stanza.E(stanza.PolicyViolation, "the full-text search examined too many messages without a match; narrow it with 'with', 'start' or 'end'")
	}
	return fmt.Errorf("mam: query: %w", err)
}

// firstIndex returns the position of the page's first item in the result
// set, or -1 where it cannot be known from the count alone. The set is the
// form's range (its filters and after-id/before-id), which bounds every
// page, and count (-1: unknown) is its size; the RSM cursors only choose
// where in the set the page lies.
func firstIndex(q Query, aq storage.ArchiveQuery, page storage.ArchivePage, count int) int {
	n := len(page.Messages)
	switch {
	case !aq.Last && q.RSM.After == "":
		return 0 // the start of the set
	case aq.Last && page.Complete && q.RSM.After == "":
		return 0 // paged back to the start of the set
	case count < 0:
		return -1
	case !aq.Last && page.Complete:
		return max(count-n, 0) // the page reaches the end of the set
	case aq.Last && q.RSM.Before == "" && q.RSM.After == "":
		return max(count-n, 0) // the last page
	}
	return -1
}

func (m *Module) fin(iq *router.IQ, complete bool, set *xml.Element) *xml.Element {
	fin := xml.New(NS, "fin")
	if complete {
		fin.SetAttr("complete", "true")
	}
	return stanza.Result(iq.Stanza).Append(fin.Append(set))
}

// resultMessage wraps an archived item for the requester (XEP-0313 "Query results",
// XEP-0297, XEP-0203).
//
// st is the stored message as pageStanzas returns it. A nil st (an item
// that cannot be read) gives an empty <forwarded/>, which XEP-0313
// "Message retention and deletion" allows for an item that cannot be
// shown: its id and timestamp keep paging consistent.
//
// to and from are the requester's full JID and the archive's JID, as
// strings: made once per page.
func (m *Module) resultMessage(to, from string, q *Query, it *storage.ArchivedMessage, st xml.Node) *xml.Element {
	p := new(resultParts)
	p.delayAttrs[0] = xml.Attr{Local: "stamp", Value: FormatDateTime(it.Stamp)}
	p.delay = xml.Element{Space: NSDelay, Local: "delay", Attrs: p.delayAttrs[:]}
	p.fwdNodes[0] = &p.delay
	p.fwd = xml.Element{Space: NSForward, Local: "forwarded", Nodes: p.fwdNodes[:1]}
	if st != nil {
		p.fwdNodes[1] = st
		p.fwd.Nodes = p.fwdNodes[:2]
	}
	resAttrs := p.resAttrs[:0]
	if q.HasQueryID {
		// Echoed even when empty (XEP-0313 "Query results": "If the client
		// gave a 'queryid' attribute ... MUST also include that").
		resAttrs = append(resAttrs, xml.Attr{Local: "queryid", Value: q.QueryID})
	}
	resAttrs = append(resAttrs, xml.Attr{Local: "id", Value: m.ids.encode(it.ID)})
	p.resNodes[0] = &p.fwd
	p.res = xml.Element{Space: NS, Local: "result", Attrs: resAttrs, Nodes: p.resNodes[:]}
	p.msgAttrs = [3]xml.Attr{{Local: "to", Value: to}, {Local: "from", Value: from}, {Local: "id", Value: m.nextMsgID()}}
	p.msgNodes[0] = &p.res
	p.msg = xml.Element{Space: nsClient, Local: "message", Attrs: p.msgAttrs[:], Nodes: p.msgNodes[:]}
	return &p.msg
}

// resultParts holds one result message's elements, allocated together
// (one allocation instead of a dozen; a page sends fifty of them).
type resultParts struct {
	msg, res, fwd, delay xml.Element
	msgAttrs             [3]xml.Attr
	resAttrs             [2]xml.Attr
	delayAttrs           [1]xml.Attr
	msgNodes, resNodes   [1]xml.Node
	fwdNodes             [2]xml.Node
}

// decodeStanza parses a stored message. It is wrapped in a jabber:client
// root so that both self-contained serialisations and ones relying on an
// inherited default namespace read back the same.
func decodeStanza(b []byte) (*xml.Element, error) {
	src := io.MultiReader(strings.NewReader(`<s xmlns="jabber:client">`), bytes.NewReader(b), strings.NewReader(`</s>`))
	lim := xml.DefaultLimits
	lim.MaxStanzaBytes = int64(len(b)) + 1024
	rd := xml.NewReader(src, lim, min(len(b)+64, 4096))
	if _, _, err := rd.ReadStreamStart(); err != nil {
		return nil, err
	}
	st, err := nextStanza(rd)
	if err != nil {
		return nil, err
	}
	if _, err := rd.Next(); !errors.Is(err, xml.ErrStreamEnd) {
		return nil, errors.New("stored data holds more than one stanza")
	}
	return st, nil
}

func nextStanza(rd *xml.Reader) (*xml.Element, error) {
	st, err := rd.Next()
	if err != nil {
		return nil, err
	}
	if !st.Is(nsClient, "message") {
		return nil, fmt.Errorf("stored stanza is {%s}%s", st.Space, st.Local)
	}
	return st, nil
}

// pageStanzas returns the stored messages of a page as the children of
// their <forwarded/>, nil for an item that cannot be read.
//
// A stored message that is exactly what our writer writes for a
// jabber:client message with its namespace declared (as archive.go's
// prepare and pie.ToArchived, hence skald archive import, store it:
// cp.String()) is passed through as an *xml.Raw: NewRaw's scan proves
// that without parsing or allocating, so the client gets the bytes a
// parse and write would give it. Anything else (rows relying on an
// inherited default namespace, written by other tools, damaged) is
// parsed by decodePage. NewRaw applies decodePage's depth and attribute
// limits, so a row one path refuses the other refuses too.
//
// The whole row is scanned, not only its start and end: rows cross
// versions and tools (an older writer, an edited database), and one such
// as `<message xmlns="jabber:client">…</message><message
// xmlns="jabber:client" from="bank@…">…</message>` passes a prefix and
// suffix check and would put a forged stanza in the client's stream. The
// scan is about a tenth of the handler's CPU for a page of 50 from the
// memory store (BenchmarkQueryPageWire), less end to end; the parse and
// rewrite it saves were about 70% of the same benchmark.
func (m *Module) pageStanzas(items []storage.ArchivedMessage) []xml.Node {
	out := make([]xml.Node, len(items))
	var raws []xml.Raw // one allocation for the page's *Raw
	var slow []int     // indexes of the items to parse
	for i := range items {
		if r, ok := xml.NewRaw(items[i].Stanza, nsClient, "message", xml.DefaultLimits); ok {
			if raws == nil {
				raws = make([]xml.Raw, len(items))
			}
			raws[i] = r
			out[i] = &raws[i]
		} else {
			if slow == nil {
				slow = make([]int, 0, len(items)-i)
			}
			slow = append(slow, i)
		}
	}
	if len(slow) == 0 {
		return out
	}
	parse := items
	if len(slow) < len(items) {
		parse = make([]storage.ArchivedMessage, len(slow))
		for k, i := range slow {
			parse[k] = items[i]
		}
	}
	for k, st := range m.decodePage(parse) {
		if st != nil { // a nil *xml.Element would make a non-nil Node
			out[slow[k]] = st
		}
	}
	return out
}

// nsPageSep is the namespace of the separators in decodePage's stream.
const nsPageSep = "urn:skald:mam:page"

// decodePage parses the stored messages of a page with one XML reader
// (setting up a decoder costs as much as parsing a short message). An
// entry is nil, with the error logged, for an item that cannot be read.
//
// Each item must read as exactly one message followed by its separator,
// which carries the item's position and a per-process random nonce, so
// no stored data (however corrupt or crafted) can shift items against
// their ids; at the first item that does not, the rest of the page is
// decoded item by item.
func (m *Module) decodePage(items []storage.ArchivedMessage) []*xml.Element {
	out := make([]*xml.Element, len(items))
	readers := make([]io.Reader, 0, 2*len(items)+2)
	readers = append(readers, strings.NewReader(`<s xmlns="jabber:client">`))
	longest := 0
	for i := range items {
		sep := `<sep xmlns="` + nsPageSep + `" n="` + m.sepNonce + strconv.Itoa(i) + `"/>`
		readers = append(readers, bytes.NewReader(items[i].Stanza), strings.NewReader(sep))
		longest = max(longest, len(items[i].Stanza))
	}
	readers = append(readers, strings.NewReader(`</s>`))
	lim := xml.DefaultLimits
	lim.MaxStanzaBytes = int64(longest) + 1024
	rd := xml.NewReader(io.MultiReader(readers...), lim, 4096)
	i := 0
	if _, _, err := rd.ReadStreamStart(); err == nil {
		for ; i < len(items); i++ {
			st, err := nextStanza(rd)
			if err != nil {
				break
			}
			sep, err := rd.Next()
			if err != nil || !sep.Is(nsPageSep, "sep") || sep.Attr("n") != m.sepNonce+strconv.Itoa(i) {
				break
			}
			out[i] = st
		}
	}
	// From the first item that broke the stream on, one at a time.
	for ; i < len(items); i++ {
		st, err := decodeStanza(items[i].Stanza)
		if err != nil {
			m.log.Error("mam: stored stanza unreadable", "owner", items[i].Owner, "item", items[i].ID, "err", err)
			continue
		}
		out[i] = st
	}
	return out
}

// resolver turns archive ids from a query into item ids, collecting them
// for one existence check.
type resolver struct {
	codec *idCodec
	ids   []int64
	bad   bool
}

func (r *resolver) id(s string) int64 {
	if s == "" {
		return 0
	}
	n, ok := r.codec.decode(s)
	if !ok {
		r.bad = true
		return 0
	}
	r.ids = append(r.ids, n)
	return n
}

// check answers item-not-found unless every id named in the query is an
// item of owner's archive (XEP-0313 "Limiting results by id" and "Requesting pages": MUST).
func (r *resolver) check(ctx context.Context, store storage.Archive, owner string) error {
	notFound := stanza.E(stanza.ItemNotFound, "no such item in the archive")
	if r.bad {
		return notFound
	}
	if len(r.ids) == 0 {
		return nil
	}
	exist, err := store.ArchiveIDsExist(ctx, owner, r.ids)
	if err != nil {
		return fmt.Errorf("mam: id lookup: %w", err)
	}
	for _, n := range r.ids {
		if !exist[n] {
			return notFound
		}
	}
	return nil
}

func maxID(a, b int64) int64 { return max(a, b) }

// minID is the tighter of two exclusive upper bounds (0 = none).
func minID(a, b int64) int64 {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

// handleMetadata answers XEP-0313 "Archive metadata": the first and last
// items, or an empty <metadata/> for an empty archive.
func (m *Module) handleMetadata(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	owner, _, err := access(iq)
	if err != nil {
		return nil, err
	}
	return m.metadata(ctx, iq, owner)
}

// metadata answers <metadata/> from owner's archive (a user's or a room's).
func (m *Module) metadata(ctx context.Context, iq *router.IQ, owner jid.JID) (*xml.Element, error) {
	md, err := m.metadataOf(ctx, owner)
	if err != nil {
		return nil, err
	}
	return stanza.Result(iq.Stanza).Append(md), nil
}

// metadataOf is the <metadata/> of owner's archive: its first and last
// items, none if it is empty.
func (m *Module) metadataOf(ctx context.Context, owner jid.JID) (*xml.Element, error) {
	first, last, ok, err := m.store.ArchiveBounds(ctx, owner.String())
	if err != nil {
		return nil, fmt.Errorf("mam: bounds: %w", err)
	}
	md := xml.New(NS, "metadata")
	if ok {
		md.Append(
			xml.New(NS, "start", "id", m.ids.encode(first.ID), "timestamp", FormatDateTime(first.Stamp)),
			xml.New(NS, "end", "id", m.ids.encode(last.ID), "timestamp", FormatDateTime(last.Stamp)),
		)
	}
	return md, nil
}

// BoundInfo implements c2s.BoundInfo: XEP-0386 §3.2 has the server put
// the archive's <metadata/> at the moment of binding in <bound/>, so the
// client knows where its sync starts.
func (m *Module) BoundInfo(ctx context.Context, account jid.JID) (*xml.Element, error) {
	return m.metadataOf(ctx, account.Bare())
}

// handlePrefsGet answers XEP-0441 preferences.
func (m *Module) handlePrefsGet(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	owner, _, err := access(iq)
	if err != nil {
		return nil, err
	}
	p, err := m.currentPrefs(ctx, owner.String())
	if err != nil {
		return nil, fmt.Errorf("mam: prefs: %w", err)
	}
	return stanza.Result(iq.Stanza).Append(prefsElement(p)), nil
}

// handlePrefsSet stores XEP-0441 preferences and answers with them as
// applied.
func (m *Module) handlePrefsSet(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	owner, _, err := access(iq)
	if err != nil {
		return nil, err
	}
	cur, err := m.currentPrefs(ctx, owner.String())
	if err != nil {
		return nil, fmt.Errorf("mam: prefs: %w", err)
	}
	p, err := parsePrefs(iq.Payload, cur)
	if err != nil {
		return nil, err
	}
	err = m.store.SetArchivePrefs(ctx, owner.String(), p)
	// Forgotten even after an error: the write may have happened.
	m.prefs.forget(owner.String())
	if err != nil {
		return nil, fmt.Errorf("mam: store prefs: %w", err)
	}
	return stanza.Result(iq.Stanza).Append(prefsElement(p)), nil
}
