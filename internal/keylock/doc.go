// Package keylock serialises work per key (an account's bare JID, say)
// without keeping one mutex per key alive for ever: a key's mutex exists
// only while someone holds or waits for it.
//
// Layering: keylock imports nothing of Skald; any package may import it.
package keylock
