package loadgen

import (
	"context"
	"strconv"
	"strings"

	"github.com/skald-xmpp/skald/internal/xml"
)

// MAMQuery is an archive query (XEP-0313 "Querying an archive") with its
// RSM paging (XEP-0059).
type MAMQuery struct {
	With       string // bare JID filter
	Start, End string // XEP-0082 date-times, as the server sent them
	Max        int    // page size; 0 leaves it to the server
	After      string // RSM <after/>
	Before     string // RSM <before>id</before>
	Last       bool   // RSM empty <before/>: the last page
}

// MAMItem is one result.
type MAMItem struct {
	ID      string       // the archive id (<result id=…/>)
	Stamp   string       // the <delay/> stamp
	Message *xml.Element // the forwarded message (nil if the server sent none)
}

// MAMPage is a query's results and its <fin/>.
type MAMPage struct {
	Items       []MAMItem
	Complete    bool
	First, Last string
	Count       int // RSM <count/>, -1 when absent
}

// mamCollector gathers a query's results; the read loop appends, and the
// iq result that follows the results hands them to the requester.
type mamCollector struct {
	items []MAMItem
}

func (c *Client) handleResult(msg, res *xml.Element) {
	// XEP-0313 "Sender Impersonation": results come from our own account
	// (or, without from, from the server on its behalf).
	if from := msg.Attr("from"); from != "" && from != c.Bare && !strings.HasPrefix(from, c.Bare+"/") {
		return
	}
	c.mu.Lock()
	col := c.queries[res.Attr("queryid")]
	c.mu.Unlock()
	if col == nil {
		return
	}
	fwd := res.Child(nsForward, "forwarded")
	col.items = append(col.items, MAMItem{
		ID:      res.Attr("id"),
		Stamp:   fwd.Child(nsDelay, "delay").Attr("stamp"),
		Message: fwd.Child(nsClient, "message"),
	})
}

func field(name, value string) *xml.Element {
	return xml.New(nsData, "field", "var", name).Append(xml.New(nsData, "value").AppendText(value))
}

// QueryArchive runs one query against the account's own archive.
func (c *Client) QueryArchive(ctx context.Context, q MAMQuery) (*MAMPage, error) {
	qid := c.newID()
	query := xml.New(nsMAM, "query", "queryid", qid)
	if q.With != "" || q.Start != "" || q.End != "" {
		form := xml.New(nsData, "x", "type", "submit").Append(
			xml.New(nsData, "field", "var", "FORM_TYPE", "type", "hidden").Append(xml.New(nsData, "value").AppendText(nsMAM)))
		if q.With != "" {
			form.Append(field("with", q.With))
		}
		if q.Start != "" {
			form.Append(field("start", q.Start))
		}
		if q.End != "" {
			form.Append(field("end", q.End))
		}
		query.Append(form)
	}
	if q.Max > 0 || q.After != "" || q.Before != "" || q.Last {
		set := xml.New(nsRSM, "set")
		if q.Max > 0 {
			set.Append(xml.New(nsRSM, "max").AppendText(strconv.Itoa(q.Max)))
		}
		if q.After != "" {
			set.Append(xml.New(nsRSM, "after").AppendText(q.After))
		}
		if q.Before != "" || q.Last {
			set.Append(xml.New(nsRSM, "before").AppendText(q.Before))
		}
		query.Append(set)
	}
	col := &mamCollector{}
	c.mu.Lock()
	c.queries[qid] = col
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.queries, qid)
		c.mu.Unlock()
	}()
	res, err := c.Request(ctx, xml.New(nsClient, "iq", "type", "set").Append(query))
	if err != nil {
		return nil, err
	}
	// The read loop appended every result before it handed us the iq.
	page := &MAMPage{Items: col.items, Count: -1}
	fin := res.Child(nsMAM, "fin")
	page.Complete = fin.Attr("complete") == "true"
	set := fin.Child(nsRSM, "set")
	page.First = set.ChildText(nsRSM, "first")
	page.Last = set.ChildText(nsRSM, "last")
	if n, err := strconv.Atoi(set.ChildText(nsRSM, "count")); err == nil {
		page.Count = n
	}
	return page, nil
}

// PageForward pages through a query with RSM <after/> from q.After until
// the server says complete, a page comes back empty, or at least limit
// items were seen (limit <= 0: no limit). each gets every page. It returns
// the number of queries made.
func (c *Client) PageForward(ctx context.Context, q MAMQuery, limit int, each func(*MAMPage)) (int, error) {
	seen, queries := 0, 0
	for {
		page, err := c.QueryArchive(ctx, q)
		if err != nil {
			return queries, err
		}
		queries++
		if each != nil {
			each(page)
		}
		seen += len(page.Items)
		last := page.Last
		if last == "" && len(page.Items) > 0 {
			last = page.Items[len(page.Items)-1].ID
		}
		if page.Complete || len(page.Items) == 0 || last == "" || (limit > 0 && seen >= limit) {
			return queries, nil
		}
		q.After = last
	}
}

// LastID returns the id of the newest item of the archive matching with
// ("" for an empty archive): later checks page forward from it so that
// earlier runs' items do not count.
func (c *Client) LastID(ctx context.Context, with string) (string, error) {
	page, err := c.QueryArchive(ctx, MAMQuery{With: with, Max: 1, Last: true})
	if err != nil {
		return "", err
	}
	if len(page.Items) == 0 {
		return "", nil
	}
	return page.Items[len(page.Items)-1].ID, nil
}

// MAMMetadata is the XEP-0313 "Archive metadata" answer.
type MAMMetadata struct {
	StartID, StartStamp string
	EndID, EndStamp     string
}

// Metadata asks for the archive's first and last items.
func (c *Client) Metadata(ctx context.Context) (*MAMMetadata, error) {
	res, err := c.Request(ctx, xml.New(nsClient, "iq", "type", "get").Append(xml.New(nsMAM, "metadata")))
	if err != nil {
		return nil, err
	}
	md := res.Child(nsMAM, "metadata")
	return &MAMMetadata{
		StartID: md.Child(nsMAM, "start").Attr("id"), StartStamp: md.Child(nsMAM, "start").Attr("timestamp"),
		EndID: md.Child(nsMAM, "end").Attr("id"), EndStamp: md.Child(nsMAM, "end").Attr("timestamp"),
	}, nil
}
