package adhoc

import (
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stanza"
)

// NSData is the namespace of data forms (XEP-0004).
const NSData = "jabber:x:data"

// maxFieldValues bounds the values of one submitted field (the JIDs of
// a jid-multi field): each may cost a store operation.
const maxFieldValues = 100

// Form is a submitted data form: each field's values by var.
type Form map[string][]string

// Value is the first value of field v, "" if none.
func (f Form) Value(v string) string {
	if vs := f[v]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// newForm starts a data form of type typ ("form" or "result") with a
// FORM_TYPE (XEP-0068) when formType is not "".
func newForm(typ, formType, title, instructions string) *xml.Element {
	x := xml.New(NSData, "x", "type", typ)
	if title != "" {
		x.Append(xml.New(NSData, "title").AppendText(title))
	}
	if instructions != "" {
		x.Append(xml.New(NSData, "instructions").AppendText(instructions))
	}
	if formType != "" {
		x.Append(field("hidden", "FORM_TYPE", "", false, formType))
	}
	return x
}

// field is a <field/> of a form; required adds <required/>.
func field(typ, v, label string, required bool, values ...string) *xml.Element {
	f := xml.New(NSData, "field", "var", v)
	f.SetAttr("type", typ)
	f.SetAttr("label", label)
	if required {
		f.Append(xml.New(NSData, "required"))
	}
	for _, val := range values {
		f.Append(xml.New(NSData, "value").AppendText(val))
	}
	return f
}

// option adds a list option to a list-single field.
func option(f *xml.Element, label, value string) *xml.Element {
	o := xml.New(NSData, "option")
	o.SetAttr("label", label)
	o.Append(xml.New(NSData, "value").AppendText(value))
	return f.Append(o)
}

// submitted reads the data form of a command request against the form
// the requester was shown: a missing form, another form type, a field
// with too many values or a required field left empty is bad-payload
// (XEP-0050, Possible Errors: "the data form did not provide one or more required
// fields"). XEP-0050, Use of Data Forms: a form of type cancel counts as
// submit.
func submitted(cmd, shown *xml.Element) (Form, error) {
	x := cmd.Child(NSData, "x")
	if x == nil {
		return nil, badPayload("submit the form")
	}
	switch x.Attr("type") {
	case "submit", "cancel", "":
	default:
		return nil, badPayload("the form must be of type submit")
	}
	f := Form{}
	for _, fe := range x.ChildrenNamed(NSData, "field") {
		v := fe.Attr("var")
		for _, val := range fe.ChildrenNamed(NSData, "value") {
			if len(f[v]) == maxFieldValues {
				return nil, badPayload("too many values in field " + v)
			}
			f[v] = append(f[v], val.Text())
		}
	}
	for _, fe := range shown.ChildrenNamed(NSData, "field") {
		if fe.Child(NSData, "required") == nil {
			continue
		}
		empty := true
		for _, val := range f[fe.Attr("var")] {
			if val != "" {
				empty = false
			}
		}
		if empty {
			name := fe.Attr("label")
			if name == "" {
				name = fe.Attr("var")
			}
			return nil, badPayload("required field missing: " + name)
		}
	}
	return f, nil
}

// The errors of XEP-0050, Possible Errors: a stanza error with an application
// condition in the commands namespace.
func cmdError(c stanza.Condition, app, text string) *stanza.Error {
	e := stanza.E(c, text)
	e.App = xml.New(NS, app)
	return e
}

func badPayload(text string) *stanza.Error {
	return cmdError(stanza.BadRequest, "bad-payload", text)
}
