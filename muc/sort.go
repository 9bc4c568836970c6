package muc

import (
	"sort"

	"github.com/skald-xmpp/skald/internal/xml"
)

func sortByJID(items []*xml.Element) {
	sort.Slice(items, func(i, j int) bool { return items[i].Attr("jid") < items[j].Attr("jid") })
}
