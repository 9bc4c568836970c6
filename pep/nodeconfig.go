package pep

import (
	"strconv"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/storage"
)

// Form types of the data forms (XEP-0004) PEP takes and gives.
const (
	formNodeConfig     = NSPubSub + "#node_config"
	formPublishOptions = NSPubSub + "#publish-options"
	nsData             = "jabber:x:data"
)

// The pubsub#node_config fields Skald supports (XEP-0060 §16.4.3).
const (
	fieldAccessModel          = "pubsub#access_model"
	fieldPersistItems         = "pubsub#persist_items"
	fieldMaxItems             = "pubsub#max_items"
	fieldSendLastPublished    = "pubsub#send_last_published_item"
	fieldNotifyRetract        = "pubsub#notify_retract"
	fieldDeliverPayloads      = "pubsub#deliver_payloads"
	fieldDeliverNotifications = "pubsub#deliver_notifications" // always true
	// fieldNotifyDelete is always true: a deletion is always notified
	// (§8.4.2). Conversations and Gajim put notify_delete=true in the
	// publish-options of their bookmarks (XEP-0402) and OMEMO nodes, so
	// refusing the field would refuse those publishes.
	fieldNotifyDelete = "pubsub#notify_delete"
)

// defaultNodeConfig is the configuration of a node created without one:
// the PEP defaults of XEP-0163 §4 (presence access, last item on
// presence) keeping one item, as a PEP node usually holds one state.
func defaultNodeConfig() storage.PEPNodeConfig {
	return storage.PEPNodeConfig{
		AccessModel:           storage.AccessPresence,
		PersistItems:          true,
		MaxItems:              1,
		SendLastPublishedItem: storage.SendLastOnSubAndPresence,
		NotifyRetract:         true,
		DeliverPayloads:       true,
	}
}

// configError says why a form cannot be applied: an unknown field or a
// bad value (invalid), or an access model Skald does not implement.
type configError struct {
	field             string
	unsupportedAccess bool
}

func (e *configError) Error() string { return "unusable value for " + e.field }

// applyForm sets the fields a submitted form gives on c. It checks that
// the form is of formType (a form without FORM_TYPE is taken as one).
// maxItems is the service's cap: "max" means it, and bigger numbers are
// capped to it.
func applyForm(c *storage.PEPNodeConfig, x *xml.Element, formType string, maxItems int) error {
	for _, f := range x.ChildrenNamed(nsData, "field") {
		v := f.ChildText(nsData, "value")
		switch name := f.Attr("var"); name {
		case "FORM_TYPE":
			if v != formType {
				return &configError{field: name}
			}
		case fieldAccessModel:
			switch v {
			case storage.AccessPresence, storage.AccessOpen, storage.AccessWhitelist:
				c.AccessModel = v
			case "roster", "authorize":
				return &configError{field: name, unsupportedAccess: true}
			default:
				return &configError{field: name}
			}
		case fieldPersistItems, fieldNotifyRetract, fieldDeliverPayloads, fieldDeliverNotifications, fieldNotifyDelete:
			b, ok := parseBool(v)
			if !ok || ((name == fieldDeliverNotifications || name == fieldNotifyDelete) && !b) {
				return &configError{field: name}
			}
			switch name {
			case fieldPersistItems:
				c.PersistItems = b
			case fieldNotifyRetract:
				c.NotifyRetract = b
			case fieldDeliverPayloads:
				c.DeliverPayloads = b
			}
		case fieldMaxItems:
			n, ok := parseMaxItems(v, maxItems)
			if !ok {
				return &configError{field: name}
			}
			c.MaxItems = n
		case fieldSendLastPublished:
			switch v {
			case storage.SendLastNever, storage.SendLastOnSub, storage.SendLastOnSubAndPresence:
				c.SendLastPublishedItem = v
			default:
				return &configError{field: name}
			}
		default:
			return &configError{field: name}
		}
	}
	return nil
}

// parseBool reads an XEP-0004 boolean.
func parseBool(v string) (b, ok bool) {
	switch v {
	case "1", "true":
		return true, true
	case "0", "false":
		return false, true
	}
	return false, false
}

// parseMaxItems reads pubsub#max_items: a positive number (capped) or
// "max" (XEP-0060 §16.4.3).
func parseMaxItems(v string, limit int) (int, bool) {
	if v == "max" {
		return limit, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, false
	}
	return min(n, limit), true
}

// configForm renders a node's configuration as a form of type typ.
func configForm(c storage.PEPNodeConfig, typ string) *xml.Element {
	x := xml.New(nsData, "x", "type", typ)
	field := func(name, ftype string, v string) {
		f := xml.New(nsData, "field", "var", name)
		f.SetAttr("type", ftype)
		x.Append(f.Append(xml.New(nsData, "value").AppendText(v)))
	}
	field("FORM_TYPE", "hidden", formNodeConfig)
	field(fieldAccessModel, "list-single", c.AccessModel)
	field(fieldDeliverNotifications, "boolean", "1")
	field(fieldDeliverPayloads, "boolean", boolValue(c.DeliverPayloads))
	field(fieldMaxItems, "text-single", strconv.Itoa(c.MaxItems))
	field(fieldNotifyDelete, "boolean", "1")
	field(fieldNotifyRetract, "boolean", boolValue(c.NotifyRetract))
	field(fieldPersistItems, "boolean", boolValue(c.PersistItems))
	field(fieldSendLastPublished, "list-single", c.SendLastPublishedItem)
	return x
}

func boolValue(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// preconditionsMet reports whether every field of a publish-options form
// (XEP-0060 §7.1.5) matches the node's configuration. A field Skald does
// not know cannot match.
func preconditionsMet(c storage.PEPNodeConfig, x *xml.Element, maxItems int) bool {
	want := c
	if applyForm(&want, x, formPublishOptions, maxItems) != nil {
		return false
	}
	return want == c
}
