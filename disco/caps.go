package disco

import (
	"cmp"
	"crypto/sha1"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/skald-xmpp/skald/internal/xml"
)

// NSData is the Data Forms namespace (XEP-0004) of the extended service
// discovery forms (XEP-0128) that CapsVer takes.
const NSData = "jabber:x:data"

// Identity is a disco#info identity.
type Identity struct {
	Category, Type, Lang, Name string
}

// CapsVer returns the XEP-0115 §5.1 verification string of a disco#info
// answer: the SHA-1 of the identities, features and extended forms in
// canonical order, base64-encoded. forms are <x xmlns='jabber:x:data'/>
// elements; as §5.4 prescribes for processing, a form without a hidden
// FORM_TYPE field contributes nothing.
func CapsVer(identities []Identity, features []string, forms []*xml.Element) string {
	var b strings.Builder
	ids := slices.Clone(identities)
	// i;octet collation is Go's byte-wise string order.
	slices.SortStableFunc(ids, func(a, c Identity) int {
		return cmp.Or(strings.Compare(a.Category, c.Category),
			strings.Compare(a.Type, c.Type), strings.Compare(a.Lang, c.Lang),
			strings.Compare(a.Name, c.Name))
	})
	for _, id := range ids {
		b.WriteString(id.Category + "/" + id.Type + "/" + id.Lang + "/" + id.Name + "<")
	}
	fs := slices.Clone(features)
	slices.Sort(fs)
	for _, f := range fs {
		b.WriteString(f + "<")
	}
	type form struct {
		typ    string
		fields []*xml.Element
	}
	var fms []form
	for _, x := range forms {
		if typ, ok := formType(x); ok {
			fms = append(fms, form{typ, x.ChildrenNamed(NSData, "field")})
		}
	}
	slices.SortStableFunc(fms, func(a, c form) int { return strings.Compare(a.typ, c.typ) })
	for _, f := range fms {
		b.WriteString(f.typ + "<")
		fields := slices.Clone(f.fields)
		slices.SortStableFunc(fields, func(a, c *xml.Element) int { return strings.Compare(a.Attr("var"), c.Attr("var")) })
		for _, fld := range fields {
			if fld.Attr("var") == "FORM_TYPE" {
				continue
			}
			b.WriteString(fld.Attr("var") + "<")
			var vals []string
			for _, v := range fld.ChildrenNamed(NSData, "value") {
				vals = append(vals, v.Text())
			}
			slices.Sort(vals)
			for _, v := range vals {
				b.WriteString(v + "<")
			}
		}
	}
	sum := sha1.Sum([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// formType returns the value of a form's hidden FORM_TYPE field.
func formType(x *xml.Element) (string, bool) {
	if !x.Is(NSData, "x") {
		return "", false
	}
	for _, f := range x.ChildrenNamed(NSData, "field") {
		if f.Attr("var") == "FORM_TYPE" {
			if f.Attr("type") != "hidden" {
				return "", false
			}
			return f.ChildText(NSData, "value"), true
		}
	}
	return "", false
}
