// Package version answers Software Version (XEP-0092) requests addressed to
// the server: name "Skald", the version given to New and, only when
// configured, the operating system.
//
// Only the server domain answers; an account's bare JID is not a piece of
// software (the router answers service-unavailable there).
//
// Config ([version] in the configuration file):
//
//	enabled = true   # false: cmd/skald does not register the module at all,
//	                 # so jabber:iq:version gets service-unavailable from the
//	                 # router and disco does not list the feature
//	show_os = false  # the OS helps attackers (XEP-0092, Security
//	                 # Considerations); off by default
//
// Feature: jabber:iq:version, on the server.
package version
