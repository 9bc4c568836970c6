package server_test

import "testing"

// TestInteropMUCRoomInfo: slixmpp's disco (XEP-0030 with XEP-0128 forms)
// reads a room's muc#roominfo form and identity, its XEP-0077 plugin
// registers a nick with the room through the muc#register form, the
// x-roomuser-item node returns it, and its XEP-0045 plugin is refused the
// reserved nick for another account (conflict) and enters with it as the
// member who registered it.
func TestInteropMUCRoomInfo(t *testing.T) { runInterop(t, "muc_roominfo.py") }

// TestInteropMUCModeration: XEP-0425 moderation and XEP-0424 retraction
// in a room with slixmpp (raw requests through its stanzas, as its
// plugins speak the retired :0 namespaces): forbidden for a participant,
// item-not-found for an unknown id, the retraction broadcast, the
// tombstone in the archive and in a newcomer's history.
func TestInteropMUCModeration(t *testing.T) { runInterop(t, "moderation.py") }
