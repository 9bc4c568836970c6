package server_test

import (
	"fmt"
	"testing"
)

// TestAvatarVCardPhotoBackToAnOlderAvatar (XEP-0398 §3.2): a vCard set
// with a photo publishes it as the avatar unless the metadata node's
// newest item already is it. A metadata node the user made keep more
// than one item still holds older avatars: setting the vCard back to one
// of them must make it the current avatar again, not be skipped because
// an old item has its id.
func TestAvatarVCardPhotoBackToAnOlderAvatar(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	a, b := newAvatar("first photo"), newAvatar("second photo")
	setPhoto := func(id string, img avatarImage) {
		mustResult(t, alice, id, `<iq type='set' id='`+id+`'><vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>`+img.b64+`</BINVAL></PHOTO></vCard></iq>`)
	}
	setPhoto("v1", a)
	mustResult(t, alice, "conf", fmt.Sprintf(`<iq type='set' id='conf'><pubsub xmlns='%s'><configure node='%s'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field><field var='pubsub#max_items'><value>5</value></field></x></configure></pubsub></iq>`, nsPubSubOwner, nsAvatarMeta))
	setPhoto("v2", b)
	setPhoto("v3", a)
	res := mustResult(t, alice, "items", fmt.Sprintf(`<iq type='get' id='items'><pubsub xmlns='%s'><items node='%s'/></pubsub></iq>`, nsPubSub, nsAvatarMeta))
	items := res.Child(nsPubSub, "pubsub").Child(nsPubSub, "items").ChildrenNamed(nsPubSub, "item")
	if len(items) == 0 || items[len(items)-1].Attr("id") != a.id {
		t.Fatalf("metadata items (oldest first) %s: the newest is not the vCard's photo %s", res, a.id)
	}
}
