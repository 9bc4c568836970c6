package server_test

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

const (
	nsAvatarData = "urn:xmpp:avatar:data" // XEP-0084
	nsVCardX     = "vcard-temp:x:update"  // XEP-0153
)

// avatarImage is an "image" with its XEP-0084 id (SHA-1, hex) and base64.
type avatarImage struct{ id, b64 string }

func newAvatar(content string) avatarImage {
	sum := sha1.Sum([]byte(content))
	return avatarImage{hex.EncodeToString(sum[:]), base64.StdEncoding.EncodeToString([]byte(content))}
}

// publishAvatar publishes the image as XEP-0084 §4.1-4.2 says: data, then
// metadata with info (the image's id, unless id overrides it), after
// extra (other <info/> elements, such as one with a url).
func publishAvatar(t *testing.T, c *xmpptest.Conn, img avatarImage, id, extra string) {
	t.Helper()
	if id == "" {
		id = img.id
	}
	mustResult(t, c, "pd-"+img.id, fmt.Sprintf(`<iq type='set' id='pd-%s'><pubsub xmlns='%s'><publish node='%s'><item id='%s'><data xmlns='%s'>%s</data></item></publish></pubsub></iq>`,
		img.id, nsPubSub, nsAvatarData, id, nsAvatarData, img.b64))
	mustResult(t, c, "pm-"+img.id, fmt.Sprintf(`<iq type='set' id='pm-%s'><pubsub xmlns='%s'><publish node='%s'><item id='%s'><metadata xmlns='%s'>%s<info bytes='5' id='%s' type='image/png' width='1' height='1'/></metadata></item></publish></pubsub></iq>`,
		img.id, nsPubSub, nsAvatarMeta, id, nsAvatarMeta, extra, id))
}

// vcardPhoto returns the TYPE and BINVAL of owner's vCard as c reads it.
func vcardPhoto(t *testing.T, c *xmpptest.Conn, id, owner string) (string, string) {
	t.Helper()
	res := mustResult(t, c, id, `<iq type='get' id='`+id+`' to='`+owner+`'><vCard xmlns='vcard-temp'/></iq>`)
	p := res.Child(nsVCard, "vCard").Child(nsVCard, "PHOTO")
	if p == nil {
		return "", ""
	}
	return p.ChildText(nsVCard, "TYPE"), p.ChildText(nsVCard, "BINVAL")
}

// TestAvatarConversionPEPToVCard (XEP-0398 §3.1): an avatar published
// with XEP-0084 becomes the PHOTO of the vCard, which anyone may read;
// the rest of the vCard stays; the <info/> with a url is passed over; an
// image whose SHA-1 is not its id is not converted; an empty metadata
// (avatar disabled, XEP-0084 §4.5) removes the photo.
func TestAvatarConversionPEPToVCard(t *testing.T) {
	s := startServer(t, nil, nil)
	for i, tc := range []struct {
		name  string
		vcard string // set before, "" for none
		extra string // other <info/> before the one of the image
		badID bool   // publish under another id than the image's SHA-1
		want  bool   // the vCard gets the photo
	}{
		{"no vcard", "", "", false, true},
		{"keeps the vcard", `<vCard xmlns='vcard-temp'><FN>Alice</FN><PHOTO><TYPE>image/gif</TYPE><BINVAL>R0lG</BINVAL></PHOTO></vCard>`, "", false, true},
		{"skips url info", "", `<info bytes='9' id='0000000000000000000000000000000000000000' type='image/png' url='https://example.org/a.png'/>`, false, true},
		{"hash mismatch", "", "", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := fmt.Sprintf("pep%d", i)
			c := newAccount(t, s, user, "dino")
			stranger := login(t, s, "carol", fmt.Sprintf("r%d", i))
			if tc.vcard != "" {
				mustResult(t, c, "v", `<iq type='set' id='v'>`+tc.vcard+`</iq>`)
			}
			img := newAvatar("image of " + user)
			id := ""
			if tc.badID {
				id = newAvatar("another image").id
			}
			publishAvatar(t, c, img, id, tc.extra)
			if !tc.want {
				// No vCard was made: the stranger is told there is none.
				if got, el := ask(t, stranger, "g", `<iq type='get' id='g' to='`+user+`@localhost'><vCard xmlns='vcard-temp'/></iq>`); got != "service-unavailable" {
					t.Errorf("converted an image whose hash is not its id: %s", el)
				}
				return
			}
			if typ, bin := vcardPhoto(t, stranger, "g", user+"@localhost"); typ != "image/png" || bin != img.b64 {
				t.Errorf("vCard PHOTO %q %q, want image/png %q", typ, bin, img.b64)
			}
			if tc.vcard != "" {
				res := mustResult(t, c, "own", `<iq type='get' id='own'><vCard xmlns='vcard-temp'/></iq>`)
				if res.Child(nsVCard, "vCard").ChildText(nsVCard, "FN") != "Alice" {
					t.Errorf("vCard lost its other fields: %s", res)
				}
			}
			// Avatar disabled: no photo.
			mustResult(t, c, "off", fmt.Sprintf(`<iq type='set' id='off'><pubsub xmlns='%s'><publish node='%s'><item id='off'><metadata xmlns='%s'/></item></publish></pubsub></iq>`, nsPubSub, nsAvatarMeta, nsAvatarMeta))
			if typ, bin := vcardPhoto(t, stranger, "g2", user+"@localhost"); typ != "" || bin != "" {
				t.Errorf("after disabling: PHOTO %q %q", typ, bin)
			}
		})
	}
}

// TestAvatarConversionVCardToPEP (XEP-0398 §3.2): a vCard set with a
// photo publishes the image to urn:xmpp:avatar:data (item id its SHA-1),
// then urn:xmpp:avatar:metadata with one <info/> of the vCard's TYPE,
// notified to the contacts that want it; the nodes the server creates are
// open (the vCard is public anyway, §6); a vCard with no usable photo
// publishes nothing; setting the same photo again publishes nothing new.
func TestAvatarConversionVCardToPEP(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	bob := login(t, s, "bob", "laptop")
	carol := login(t, s, "carol", "desk")
	for _, c := range []*xmpptest.Conn{alice, bob} {
		c.Send(`<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>`)
		c.Expect(isID("r"))
	}
	announceCaps(t, alice, true, nsAvatarMeta+"+notify")
	announceCaps(t, bob, false, nsAvatarMeta+"+notify")
	mutualSubscription(alice, bob)

	isMetaEvent := func(e *xml.Element) bool {
		ev := e.Child(nsPubSubEvent, "event")
		return e.Local == "message" && ev != nil && ev.Child(nsPubSubEvent, "items") != nil &&
			ev.Child(nsPubSubEvent, "items").Attr("node") == nsAvatarMeta
	}
	img := newAvatar("the vcard photo")
	for _, tc := range []struct {
		name, vcard string
		publishes   bool
	}{
		{"no photo", `<vCard xmlns='vcard-temp'><FN>Alice</FN></vCard>`, false},
		{"bad base64", `<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>not base64!</BINVAL></PHOTO></vCard>`, false},
		{"external photo", `<vCard xmlns='vcard-temp'><PHOTO><EXTVAL>https://example.org/a.png</EXTVAL></PHOTO></vCard>`, false},
		{"photo", `<vCard xmlns='vcard-temp'><FN>Alice</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>` + img.b64 + `</BINVAL></PHOTO></vCard>`, true},
		{"same photo again", `<vCard xmlns='vcard-temp'><FN>Alice L.</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>` + img.b64 + `</BINVAL></PHOTO></vCard>`, false},
	} {
		mustResult(t, alice, "v-"+tc.name, `<iq type='set' id='v-`+tc.name+`'>`+tc.vcard+`</iq>`)
		bob.Sendf(`<iq type='get' id='p-%s'><ping xmlns='urn:xmpp:ping'/></iq>`, tc.name)
		var events []*xml.Element
		for {
			el := bob.Next()
			if el.Attr("id") == "p-"+tc.name {
				break
			}
			if isMetaEvent(el) {
				events = append(events, el)
			}
		}
		if !tc.publishes {
			if len(events) != 0 {
				t.Errorf("%s: metadata events %v", tc.name, events)
			}
			continue
		}
		if len(events) != 1 {
			t.Fatalf("%s: metadata events %v", tc.name, events)
		}
		item := events[0].Child(nsPubSubEvent, "event").Child(nsPubSubEvent, "items").Child(nsPubSubEvent, "item")
		info := item.Child(nsAvatarMeta, "metadata").Child(nsAvatarMeta, "info")
		if item.Attr("id") != img.id || info == nil || info.Attr("id") != img.id || info.Attr("type") != "image/png" || info.Attr("bytes") != "15" {
			t.Errorf("%s: metadata event %s", tc.name, events[0])
		}
		// Anyone reads the data (open node: the vCard is public anyway).
		res := mustResult(t, carol, "d", fmt.Sprintf(`<iq type='get' id='d' to='alice@localhost'><pubsub xmlns='%s'><items node='%s'><item id='%s'/></items></pubsub></iq>`, nsPubSub, nsAvatarData, img.id))
		if !strings.Contains(res.String(), img.b64) {
			t.Errorf("%s: data item: %s", tc.name, res)
		}
	}
	// The vCard is what alice set, not rewritten by the conversion.
	if typ, bin := vcardPhoto(t, bob, "g", "alice@localhost"); typ != "image/png" || bin != img.b64 {
		t.Errorf("vCard PHOTO %q %q", typ, bin)
	}
}

// TestAvatarPresenceHash (XEP-0398 §4): the server puts the vCard
// photo's hash in its users' available presence, broadcast and directed,
// filling an <x/> without <photo/> and replacing a wrong hash, but never
// touching an empty <photo/> (the client says it has none); with no photo
// the presence says so with an empty <photo/>. The account advertises
// urn:xmpp:pep-vcard-conversion:0.
func TestAvatarPresenceHash(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	bob := login(t, s, "bob", "laptop")
	for _, c := range []*xmpptest.Conn{alice, bob} {
		c.Send(`<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>`)
		c.Expect(isID("r"))
	}
	bob.Send(`<presence/>`)
	alice.Send(`<presence/>`)
	mutualSubscription(alice, bob)

	img := newAvatar("presence photo")
	photoOf := func(status string) *xml.Element {
		el := bob.Expect(func(e *xml.Element) bool {
			return e.Local == "presence" && e.Attr("from") == "alice@localhost/phone" && e.ChildText("", "status") == status
		})
		if x := el.Child(nsVCardX, "x"); x != nil {
			return x.Child(nsVCardX, "photo")
		}
		return nil
	}
	cases := []struct {
		name, presence string
		want           string // the photo element's text, "-" for none
	}{
		{"no vcard", `<presence><status>a</status></presence>`, ""},
		{"set", `<presence><status>b</status></presence>`, img.id},
		{"x without photo", `<presence><status>c</status><x xmlns='vcard-temp:x:update'/></presence>`, img.id},
		{"wrong hash", `<presence><status>d</status><x xmlns='vcard-temp:x:update'><photo>0123</photo></x></presence>`, img.id},
		{"empty photo kept", `<presence><status>e</status><x xmlns='vcard-temp:x:update'><photo/></x></presence>`, ""},
		{"directed", `<presence to='bob@localhost'><status>f</status></presence>`, img.id},
	}
	for i, tc := range cases {
		if i == 1 {
			mustResult(t, alice, "v", `<iq type='set' id='v'><vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>`+img.b64+`</BINVAL></PHOTO></vCard></iq>`)
		}
		alice.Send(tc.presence)
		p := photoOf(string(rune('a' + i)))
		if p == nil || p.Text() != tc.want {
			t.Errorf("%s: photo %v, want %q", tc.name, p, tc.want)
		}
	}

	res := mustResult(t, alice, "d", `<iq type='get' id='d' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(res.String(), `"urn:xmpp:pep-vcard-conversion:0"`) {
		t.Errorf("account disco#info lacks urn:xmpp:pep-vcard-conversion:0: %s", res)
	}
}

// TestAvatarPresenceHashRoomJoin (XEP-0398 §4: "also ... directed
// presences such as MUC joins"): the occupants see the hash in the join.
func TestAvatarPresenceHashRoomJoin(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	bob := login(t, s, "bob", "laptop")
	img := newAvatar("room photo")
	mustResult(t, bob, "v", `<iq type='set' id='v'><vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>`+img.b64+`</BINVAL></PHOTO></vCard></iq>`)
	alice.Send(`<presence to='` + room + `/Al'><x xmlns='` + nsMUC + `'/></presence>`)
	wantPresence(t, alice, room+"/Al", "", "100 170 201 110", "owner/moderator alice@localhost/phone")
	mustResult(t, alice, "o1", `<iq type='set' id='o1' to='`+room+`'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`)
	bob.Send(`<presence to='` + room + `/Bob'><x xmlns='` + nsMUC + `'/></presence>`)
	p := alice.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("from") == room+"/Bob" })
	if x := p.Child(nsVCardX, "x"); x == nil || x.ChildText(nsVCardX, "photo") != img.id {
		t.Errorf("bob's join as alice sees it: %s", p)
	}
}

// TestAvatarConversionOff: with [vcard] avatar_conversion = false nothing
// is converted, presence is left as sent and the feature is not
// advertised.
func TestAvatarConversionOff(t *testing.T) {
	s := startServerConfig(t, loadConfigFile(t, "[vcard]\navatar_conversion = false\n"), nil, nil)
	alice := login(t, s, "alice", "phone")
	bob := login(t, s, "bob", "laptop")
	bob.Send(`<presence/>`)
	img := newAvatar("not converted")
	mustResult(t, alice, "v", `<iq type='set' id='v'><vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>`+img.b64+`</BINVAL></PHOTO></vCard></iq>`)
	if got, el := ask(t, alice, "g", `<iq type='get' id='g'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:metadata'/></pubsub></iq>`); got != "item-not-found" {
		t.Errorf("metadata node without the conversion: %s", el)
	}
	alice.Send(`<presence to='bob@localhost'><status>s</status></presence>`)
	p := bob.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.ChildText("", "status") == "s" })
	if p.Child(nsVCardX, "x") != nil {
		t.Errorf("presence rewritten without the conversion: %s", p)
	}
	res := mustResult(t, alice, "d", `<iq type='get' id='d' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if strings.Contains(res.String(), "pep-vcard-conversion") {
		t.Errorf("feature advertised without the conversion: %s", res)
	}
}

// TestAvatarHashForgottenWithAccount: an account deleted in-band takes
// its cached photo hash along; a new account of the same name has none.
func TestAvatarHashForgottenWithAccount(t *testing.T) {
	s := startServer(t, nil, nil)
	bob := login(t, s, "bob", "laptop")
	bob.Send(`<presence/>`)
	dave := newAccount(t, s, "dave", "phone")
	img := newAvatar("dave's photo")
	mustResult(t, dave, "v", `<iq type='set' id='v'><vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>`+img.b64+`</BINVAL></PHOTO></vCard></iq>`)
	photoAtBob := func(c *xmpptest.Conn, status string) string {
		c.Send(`<presence to='bob@localhost'><status>` + status + `</status></presence>`)
		p := bob.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.ChildText("", "status") == status })
		return p.Child(nsVCardX, "x").ChildText(nsVCardX, "photo")
	}
	if got := photoAtBob(dave, "1"); got != img.id {
		t.Fatalf("hash %q, want %q", got, img.id)
	}
	dave.Send(`<iq type='set' id='x1'><query xmlns='jabber:iq:register'><remove/></query></iq>`)
	dave.Expect(isID("x1"))
	dave.ExpectStreamError()
	dave = newAccount(t, s, "dave", "phone")
	if got := photoAtBob(dave, "2"); got != "" {
		t.Errorf("the new dave's hash %q, want none", got)
	}
}
