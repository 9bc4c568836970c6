// Package roster implements roster management (RFC 6121 §2) with roster
// versioning (XEP-0237).
//
// Clients get the roster with an iq get in jabber:iq:roster; a client that
// sends a 'ver' equal to the current version gets an empty result and
// catches up from pushes instead (XEP-0237 §2.4). Every change to an item
// the user can see is pushed, with the new 'ver', to each of the user's
// interested resources (those that have requested the roster, RFC 6121
// §2.1.6). A roster set adds or updates one item's name and groups; a set
// with subscription='remove' removes the item, after the RemoveHandler (the
// presence module) has cancelled the subscriptions in both directions
// (§2.5.2).
//
// The subscription state of an item is not the client's to set: the
// presence module changes it through Update, which persists and pushes.
// Items marked Hidden only carry subscription bookkeeping (a stored
// inbound request from someone the user has not added) and are never shown.
//
// The version changes exactly when a push is sent (RFC 6121 §2.6): a
// change the user cannot see (a Hidden item, a pending inbound request on
// a shown item, which the <item/> does not show) is stored without a new
// version, so clients with a cached roster do not refetch it for nothing.
// The request stanzas the presence module keeps (storage.Documents kind
// "subscription-request") are outside the roster and never move it.
//
// The user's own bare JID may be an item (a name and groups for it); the
// presence module never runs subscriptions against it, since an account's
// own resources always share presence (RFC 6121 §4.2.2).
//
// Config (toml): max_items, max_name_length, max_group_length, max_groups.
// max_items also bounds the items, pending subscription requests
// included, that subscription requests from remote servers may make
// (HasRoomFor): a remote domain names its senders freely.
// Clients learn about versioning from the stream feature NSVersioning,
// which the c2s transport advertises.
package roster
