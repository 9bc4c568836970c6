// Package disco implements Service Discovery (XEP-0030) for the server
// domain and for local accounts' bare JIDs, and the server's Entity
// Capabilities hash (XEP-0115).
//
// disco#info on a served domain answers identity server/im named "Skald"
// and the server features of every registered module implementing
// router.FeatureProvider (this module included: it contributes disco#info
// and disco#items). On an account's bare JID the server answers on the
// account's behalf (RFC 6120 §10.3.3) with identity account/registered and
// the account features, to the owner and to those the account lets see its
// presence (subscription "from" or "both", read from the roster module
// given with SetRoster); anybody else gets service-unavailable, node or
// not, as for an account that does not exist (XEP-0030 §8: MUST). Modules
// implementing AccountIdentityProvider add identities there (pep:
// pubsub/pep). disco#info on an account's node answers what an
// AccountNodeInfoProvider says of it (pep: pubsub/leaf, XEP-0060 §5.3),
// item-not-found when none knows it. No resources are listed. disco#info to an account that does not exist never gets here
// (the router answers service-unavailable). disco#items on the server
// answers the hosted services (conference.<domain>) and the external
// components' domains (XEP-0114) under the domain, configured whether
// connected or not. On a bare JID it lists
// what the AccountItemsProvider modules give the requester (pep: the
// nodes it may see) when there is no node, and nothing under a node; it
// answers for accounts that do not exist too (an empty list, XEP-0030 §8:
// MUST), so that it tells no one which accounts exist.
//
// On the server's domain, disco#items and disco#info with a node other
// than the caps node go to the modules implementing ServerNodeProvider
// (adhoc: XEP-0050's command list and commands), whose answer, or
// error, is the reply; a node none of them knows is item-not-found.
//
// Other than there, a 'node' other than the caps node is unknown:
// item-not-found (XEP-0030, Error Conditions). The caps node is CapsNode + "#" + ver; disco#info on
// it answers exactly what the plain request answers, with the node echoed
// (XEP-0115 §6.2).
//
// CapsVer computes the XEP-0115 §5.1 verification string (SHA-1, base64).
// Module.Caps returns the <c/> element the c2s transport puts in its
// stream features (XEP-0115 §6.3). Features are collected lazily and again
// whenever the number of registered modules changes, so Caps and Ver must
// be called once every module is registered (cmd/skald does so after
// Register).
//
// Config: none.
package disco
