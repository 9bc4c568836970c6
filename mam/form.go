package mam

import (
	"fmt"
	"strings"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// MaxQueryIDs bounds the 'ids' field of one query.
const MaxQueryIDs = 1000

// Query is a parsed archive query (XEP-0313 "Querying an archive"): the iq set payload
// <query xmlns='urn:xmpp:mam:2'/>, its data form, RSM set and flip-page.
// Archive ids are kept as the strings the client sent; the handler maps
// them to items.
type Query struct {
	QueryID    string
	HasQueryID bool      // 'queryid' present, possibly empty: echoed as given
	With       jid.JID   // zero: any
	Start, End time.Time // zero: unbounded
	AfterID    string    // form 'after-id', "" if absent
	BeforeID   string    // form 'before-id', "" if absent
	IDs        []string  // form 'ids', nil if absent
	// IncludeGroupchat is the form's 'include-groupchat', nil if absent.
	// User archives hold no groupchat messages, so it changes nothing.
	IncludeGroupchat *bool
	// Text is the XEP-0431 full-text search ("" if absent or blank):
	// storage.TextTerms accepts it.
	Text     string
	RSM      RSM
	HasRSM   bool
	FlipPage bool
}

// ParseQuery parses a MAM query element. Errors are *stanza.Error:
//   - bad-request: more than one form, RSM set or flip-page, a form that is not a submission,
//     a FORM_TYPE missing or other than urn:xmpp:mam:2, a field without
//     'var' or given twice, several values for a single-valued field, a
//     malformed JID or XEP-0082 DateTime, an empty id, a malformed RSM set;
//   - bad-request also: an 'include-groupchat' that is no xs:boolean;
//   - feature-not-implemented: any field this server does not know
//     (XEP-0313 "Retrieving form fields": MUST), and a 'node' attribute (XEP-0442 pubsub archives are not served);
//   - policy-violation: more than MaxQueryIDs ids, a full-text search
//     longer than storage.MaxTextQueryBytes or with more than
//     storage.MaxTextTerms words.
//
// An empty field (no value, or one empty value) is treated as absent, as
// some clients send every field of the form they fetched.
func ParseQuery(q *xml.Element) (Query, error) {
	var out Query
	out.QueryID, out.HasQueryID = q.Attr("queryid"), q.HasAttr("queryid")
	if q.HasAttr("node") {
		return Query{}, stanza.E(stanza.FeatureNotImplemented, "pubsub node archives are not served here")
	}
	var form *xml.Element
	for _, c := range q.Elements() {
		switch {
		case c.Is(NSData, "x"):
			if form != nil {
				return Query{}, stanza.E(stanza.BadRequest, "more than one data form")
			}
			form = c
		case c.Is(NSRSM, "set"):
			if out.HasRSM {
				return Query{}, stanza.E(stanza.BadRequest, "more than one RSM set")
			}
			r, err := ParseRSM(c)
			if err != nil {
				return Query{}, err
			}
			out.RSM, out.HasRSM = r, true
		case c.Is(NS, "flip-page"):
			if out.FlipPage {
				return Query{}, stanza.E(stanza.BadRequest, "more than one <flip-page/>")
			}
			out.FlipPage = true
		}
	}
	if form != nil {
		if err := parseForm(form, &out); err != nil {
			return Query{}, err
		}
	}
	return out, nil
}

func parseForm(x *xml.Element, out *Query) error {
	if t := x.Attr("type"); t != "submit" && t != "" {
		return stanza.E(stanza.BadRequest, "the query form must be of type 'submit'")
	}
	seen := make(map[string]bool)
	var formType bool
	var unknown string
	for _, f := range x.ChildrenNamed(NSData, "field") {
		v := f.Attr("var")
		if v == "" {
			return stanza.E(stanza.BadRequest, "form field without 'var'")
		}
		if seen[v] {
			return stanza.E(stanza.BadRequest, "field '"+v+"' given twice")
		}
		seen[v] = true
		values := fieldValues(f)
		switch v {
		case "FORM_TYPE":
			if len(values) != 1 || values[0] != NS {
				return stanza.E(stanza.BadRequest, "FORM_TYPE must be "+NS)
			}
			formType = true
		case "with":
			s, err := single(v, values)
			if err != nil {
				return err
			}
			if s == "" {
				continue
			}
			j, perr := jid.Parse(s)
			if perr != nil {
				return stanza.E(stanza.BadRequest, "'with' is not a valid JID")
			}
			out.With = j
		case "start", "end":
			s, err := single(v, values)
			if err != nil {
				return err
			}
			if s == "" {
				continue
			}
			t, perr := ParseDateTime(s)
			if perr != nil {
				return stanza.E(stanza.BadRequest, "'"+v+"' is not an XEP-0082 DateTime")
			}
			if v == "start" {
				out.Start = t
			} else {
				out.End = t
			}
		case "after-id", "before-id":
			s, err := single(v, values)
			if err != nil {
				return err
			}
			if v == "after-id" {
				out.AfterID = s
			} else {
				out.BeforeID = s
			}
		case "include-groupchat":
			s, err := single(v, values)
			if err != nil {
				return err
			}
			if s == "" {
				continue
			}
			b, ok := map[string]bool{"true": true, "1": true, "false": false, "0": false}[s]
			if !ok {
				return stanza.E(stanza.BadRequest, "'include-groupchat' must be a boolean")
			}
			out.IncludeGroupchat = &b
		case FieldFulltext:
			s, err := single(v, values)
			if err != nil {
				return err
			}
			terms, terr := storage.TextTerms(s)
			if terr != nil {
				return stanza.E(stanza.PolicyViolation, fmt.Sprintf("the full-text search may have at most %d words and %d bytes",
					storage.MaxTextTerms, storage.MaxTextQueryBytes))
			}
			if len(terms) > 0 {
				out.Text = s
			}
		case "ids":
			var ids []string
			for _, id := range values {
				if id != "" {
					ids = append(ids, id)
				}
			}
			if len(ids) > MaxQueryIDs {
				return stanza.E(stanza.PolicyViolation, "too many ids in one query")
			}
			if len(ids) > 0 {
				out.IDs = ids
			}
		default:
			// Remember the first unknown field, but let a wrong or
			// missing FORM_TYPE take precedence: the form is then not
			// ours at all and its fields mean nothing.
			if unknown == "" {
				unknown = v
			}
		}
	}
	if !formType {
		return stanza.E(stanza.BadRequest, "FORM_TYPE must be "+NS)
	}
	if unknown != "" {
		return stanza.E(stanza.FeatureNotImplemented, "unsupported field '"+unknown+"'")
	}
	return nil
}

// fieldValues returns the trimmed <value/> texts of a field.
func fieldValues(f *xml.Element) []string {
	var out []string
	for _, v := range f.ChildrenNamed(NSData, "value") {
		out = append(out, strings.TrimSpace(v.Text()))
	}
	return out
}

// single returns the one value of a single-valued field ("" if none).
func single(name string, values []string) (string, error) {
	switch len(values) {
	case 0:
		return "", nil
	case 1:
		return values[0], nil
	}
	return "", stanza.E(stanza.BadRequest, "field '"+name+"' takes one value")
}

// queryForm is the form returned to iq get <query/> (XEP-0313 "Retrieving form fields"):
// every field the server understands, none marked required, the ids
// list left open (XEP-0122) rather than enumerated, and XEP-0431's
// full-text field. include-groupchat is
// understood (and advertised with NSGroupchatField) though user archives
// hold no groupchat messages: XEP-0313 "Determining support" asks for the
// feature "even if they cannot return groupchat messages".
//
// includeGroupchat offers include-groupchat: on users' archives, not on
// rooms'.
func queryForm(includeGroupchat bool) *xml.Element {
	x := xml.New(NSData, "x", "type", "form")
	x.Append(
		xml.New(NSData, "field", "type", "hidden", "var", "FORM_TYPE").
			Append(xml.New(NSData, "value").AppendText(NS)),
		xml.New(NSData, "field", "type", "jid-single", "var", "with"),
		xml.New(NSData, "field", "type", "text-single", "var", "start"),
		xml.New(NSData, "field", "type", "text-single", "var", "end"),
		xml.New(NSData, "field", "type", "text-single", "var", "before-id"),
		xml.New(NSData, "field", "type", "text-single", "var", "after-id"),
		xml.New(NSData, "field", "type", "list-multi", "var", "ids").Append(
			xml.New(NSDataValidate, "validate", "datatype", "xs:string").
				Append(xml.New(NSDataValidate, "open"))),
		xml.New(NSData, "field", "type", "text-single", "var", FieldFulltext),
	)
	if includeGroupchat {
		x.Append(xml.New(NSData, "field", "type", "boolean", "var", "include-groupchat"))
	}
	return xml.New(NS, "query").Append(x)
}
