package muc

import (
	"errors"
	"fmt"
	"strings"
)

// Config is the [muc] section.
type Config struct {
	// Enabled turns the service on.
	Enabled bool `toml:"enabled"`
	// Domain is the service's label under each hosted domain: "conference"
	// serves conference.example.com for example.com.
	Domain string `toml:"domain"`
	// MaxRooms caps the rooms of all the services together (existing
	// ones, persistent or not); creating one more is refused with
	// not-allowed.
	MaxRooms int `toml:"max_rooms"`
	// MaxRoomsPerAccount caps the rooms one account holds as their
	// creator: rooms it created that exist and of which it is still an
	// owner. Creating one more is refused with not-allowed (§10.1.1), so
	// that one account cannot take all of MaxRooms. Ownership granted by
	// others does not count (nobody can use up another's allowance), nor
	// do rooms stored before this rule (their creator is unknown).
	MaxRoomsPerAccount int `toml:"max_rooms_per_account"`
	// MaxOccupants caps the occupants (nicks) of a room, and is the
	// highest maxusers an owner may configure.
	MaxOccupants int `toml:"max_occupants"`
	// MaxAffiliations caps the affiliation lists of a room together
	// (owners, admins, members, bans), which a persistent room stores and
	// loads whole. A change that would grow them past it, an admin set or
	// an invitation into a members-only room, is refused with
	// policy-violation; one that shrinks them always passes.
	MaxAffiliations int `toml:"max_affiliations"`
	// MaxNickLength caps a nick, in bytes.
	MaxNickLength int `toml:"max_nick_length"`
	// HistoryMessages is how many recent messages a room keeps in memory
	// for the discussion history sent on entering (§7.2.15), the most a
	// client can ask for; fewer when they exceed 256 KiB together
	// (maxHistoryBytes).
	HistoryMessages int `toml:"history_messages"`
	// DefaultHistoryMessages is how many of them a client that asks for
	// no particular history gets.
	DefaultHistoryMessages int `toml:"default_history_messages"`
	// MaxRemoteOccupantsPerDomain caps the occupant sessions from one
	// remote domain in all the rooms together (over server-to-server):
	// a remote server may name as many users as it likes, and without
	// it could fill every room. Entering past it is refused with
	// service-unavailable (wait). It bounds too the members one remote
	// domain may have in a room for its users to register with it
	// (§7.10, register.go: policy-violation). 0 keeps remote users out.
	MaxRemoteOccupantsPerDomain int `toml:"max_remote_occupants_per_domain"`
	// MaxVCardBytes bounds a room's vCard (XEP-0486 room avatars), its
	// serialisation: the photo is base64 inside it. A persistent room
	// stores it, and anyone may fetch it.
	MaxVCardBytes int `toml:"max_vcard_bytes"`
}

// DefaultConfig returns the defaults: on, conference.<domain>, 1000
// rooms (10 created per account) of at most 200 occupants and 1000
// affiliations, nicks of up to 64 bytes, 50 messages
// kept for the history, 20 of them sent by default, 100 occupant sessions
// per remote domain, room vCards (avatars) of up to 64 KiB.
func DefaultConfig() Config {
	return Config{
		Enabled:                true,
		Domain:                 "conference",
		MaxRooms:               1000,
		MaxRoomsPerAccount:     10,
		MaxOccupants:           200,
		MaxAffiliations:        1000,
		MaxNickLength:          64,
		HistoryMessages:        50,
		DefaultHistoryMessages: 20,

		MaxRemoteOccupantsPerDomain: 100,
		MaxVCardBytes:               64 << 10,
	}
}

// Validate reports the first configuration error.
func (c Config) Validate() error {
	switch {
	case c.Domain == "" || strings.ContainsAny(c.Domain, "@/ ") || strings.HasPrefix(c.Domain, ".") || strings.HasSuffix(c.Domain, "."):
		return fmt.Errorf("muc: domain = %q: must be a domain label such as \"conference\"", c.Domain)
	case c.MaxRooms < 1:
		return fmt.Errorf("muc: max_rooms = %d: must be at least 1", c.MaxRooms)
	case c.MaxRoomsPerAccount < 1 || c.MaxRoomsPerAccount > c.MaxRooms:
		return fmt.Errorf("muc: max_rooms_per_account = %d: must be between 1 and max_rooms", c.MaxRoomsPerAccount)
	case c.MaxOccupants < 1:
		return fmt.Errorf("muc: max_occupants = %d: must be at least 1", c.MaxOccupants)
	case c.MaxAffiliations < 1:
		return fmt.Errorf("muc: max_affiliations = %d: must be at least 1", c.MaxAffiliations)
	case c.MaxNickLength < 1 || c.MaxNickLength > 1023:
		return fmt.Errorf("muc: max_nick_length = %d: must be between 1 and 1023 (a JID resource's limit)", c.MaxNickLength)
	case c.HistoryMessages < 0:
		return fmt.Errorf("muc: history_messages = %d: must not be negative", c.HistoryMessages)
	case c.DefaultHistoryMessages < 0 || c.DefaultHistoryMessages > c.HistoryMessages:
		return errors.New("muc: default_history_messages must be between 0 and history_messages")
	case c.MaxRemoteOccupantsPerDomain < 0:
		return fmt.Errorf("muc: max_remote_occupants_per_domain = %d: must not be negative", c.MaxRemoteOccupantsPerDomain)
	case c.MaxVCardBytes < len(`<vCard xmlns="vcard-temp"/>`):
		return fmt.Errorf("muc: max_vcard_bytes = %d: must be at least 27 (an empty vCard)", c.MaxVCardBytes)
	}
	return nil
}
