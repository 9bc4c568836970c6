package private

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
)

func parseOne(t *testing.T, s string) *xml.Element {
	t.Helper()
	els, err := xml.ParseElements([]byte(s), xml.Limits{})
	if err != nil || len(els) != 1 {
		t.Fatalf("parse %q: %v", s, err)
	}
	return els[0]
}

// TestBookmarkConversion: XEP-0048 conferences to XEP-0402 items and back,
// with the cases the raw-socket tests do not reach: JIDs that cannot be
// item ids, autojoin='1', JIDs normalised.
func TestBookmarkConversion(t *testing.T) {
	for _, tc := range []struct {
		name, legacy string
		id, native   string // "" id: not convertible
		back         string // toLegacy of the result, "" for legacy itself
	}{
		{"autojoin 1", `<conference xmlns='storage:bookmarks' jid='a@muc.example' autojoin='1'/>`,
			"a@muc.example", `<conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'/>`,
			`<conference xmlns='storage:bookmarks' jid='a@muc.example' autojoin='true'/>`},
		{"autojoin false, empty name", `<conference xmlns='storage:bookmarks' jid='a@muc.example' autojoin='false' name=''/>`,
			"a@muc.example", `<conference xmlns='urn:xmpp:bookmarks:1'/>`,
			`<conference xmlns='storage:bookmarks' jid='a@muc.example'/>`},
		{"normalised jid", `<conference xmlns='storage:bookmarks' jid='Tea@MUC.example'/>`,
			"tea@muc.example", `<conference xmlns='urn:xmpp:bookmarks:1'/>`,
			`<conference xmlns='storage:bookmarks' jid='tea@muc.example'/>`},
		{"no jid", `<conference xmlns='storage:bookmarks' name='x'/>`, "", "", ""},
		{"full jid", `<conference xmlns='storage:bookmarks' jid='a@muc.example/nick'/>`, "", "", ""},
		{"domain only", `<conference xmlns='storage:bookmarks' jid='muc.example'/>`, "", "", ""},
		{"bad jid", `<conference xmlns='storage:bookmarks' jid='@@'/>`, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, native, ok := toNative(parseOne(t, tc.legacy))
			if tc.id == "" {
				if ok {
					t.Fatalf("converted to %s %s", id, native)
				}
				return
			}
			if !ok || id != tc.id || native.String() != parseOne(t, tc.native).String() {
				t.Fatalf("toNative: %v %q %v", ok, id, native)
			}
			if got := toLegacy(id, native).String(); got != parseOne(t, tc.back).String() {
				t.Errorf("toLegacy: %s", got)
			}
		})
	}
}
