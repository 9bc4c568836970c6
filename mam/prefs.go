package mam

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// MaxPrefsJIDs bounds each of the always and never lists.
const MaxPrefsJIDs = 1000

// parsePrefs reads an XEP-0441 <prefs/> set request. A missing 'default'
// keeps cur's default; a missing <always/> or <never/> is an empty list
// (XEP-0441 "Always archive", "Never archive"). JIDs are stored in canonical form, without
// duplicates; a JID listed in both lists is kept in <never/> only, so the
// applied preferences the server answers with are never contradictory.
func parsePrefs(p *xml.Element, cur storage.ArchivePrefs) (storage.ArchivePrefs, error) {
	out := storage.ArchivePrefs{Default: cur.Default}
	if p.HasAttr("default") {
		switch d := p.Attr("default"); d {
		case policyAlways, policyNever, policyRoster:
			out.Default = d
		default:
			return out, stanza.E(stanza.BadRequest, "'default' must be always, never or roster")
		}
	}
	lists := map[string][]string{}
	for _, name := range []string{"always", "never"} {
		els := p.ChildrenNamed(NS, name)
		if len(els) > 1 {
			return out, stanza.E(stanza.BadRequest, "more than one <"+name+"/>")
		}
		if len(els) == 0 {
			continue
		}
		seen := map[string]bool{}
		for _, j := range els[0].ChildrenNamed(NS, "jid") {
			// Trimmed like any xs:string list item a client may indent.
			parsed, err := jid.Parse(strings.TrimSpace(j.Text()))
			if err != nil {
				return out, stanza.E(stanza.JIDMalformed, "invalid JID in <"+name+"/>")
			}
			s := parsed.String()
			if !seen[s] {
				seen[s] = true
				lists[name] = append(lists[name], s)
			}
		}
		if len(lists[name]) > MaxPrefsJIDs {
			return out, stanza.E(stanza.PolicyViolation, fmt.Sprintf("at most %d JIDs per list", MaxPrefsJIDs))
		}
	}
	never := map[string]bool{}
	for _, s := range lists["never"] {
		never[s] = true
	}
	out.Never = lists["never"]
	for _, s := range lists["always"] {
		if !never[s] {
			out.Always = append(out.Always, s)
		}
	}
	return out, nil
}

// prefsElement renders preferences; both lists are always present
// (XEP-0441 "Simple configuration": MUST).
func prefsElement(p storage.ArchivePrefs) *xml.Element {
	el := xml.New(NS, "prefs", "default", p.Default)
	always := xml.New(NS, "always")
	for _, j := range p.Always {
		always.Append(xml.New(NS, "jid").AppendText(j))
	}
	never := xml.New(NS, "never")
	for _, j := range p.Never {
		never.Append(xml.New(NS, "jid").AppendText(j))
	}
	return el.Append(always, never)
}

// currentPrefs returns the owner's stored preferences, or the configured
// default with empty lists. Every archived message needs the preferences
// of its sender and its recipient: they are cached (see prefsCache). The
// lists of the result are shared and must not be modified.
func (m *Module) currentPrefs(ctx context.Context, owner string) (storage.ArchivePrefs, error) {
	if p, ok := m.prefs.get(owner); ok {
		return p, nil
	}
	gen := m.prefs.generation()
	p, ok, err := m.store.ArchivePrefs(ctx, owner)
	if err != nil {
		return storage.ArchivePrefs{}, err
	}
	if !ok {
		p = storage.ArchivePrefs{Default: m.set.policy}
	}
	switch p.Default {
	case policyAlways, policyNever, policyRoster:
	default:
		p.Default = m.set.policy
	}
	m.prefs.put(owner, p, gen)
	return p, nil
}

// prefsTTL bounds how long cached preferences are used without reading
// the store again. Preferences change only through handlePrefsSet, which
// updates the cache itself; the bound is for the one change made outside
// this process, the deletion of an account by the command line, after
// which the account's old preferences could otherwise outlive it.
const prefsTTL = 10 * time.Second

// maxCachedPrefs bounds the cache (entries of ~100 bytes plus the lists).
const maxCachedPrefs = 100000

// prefsCache caches owners' effective preferences. A read that started
// before an invalidation never stores its (possibly stale) result: put
// checks the generation the read began under.
type prefsCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]cachedPrefs
}

type cachedPrefs struct {
	p       storage.ArchivePrefs
	expires time.Time // monotonic
}

func (c *prefsCache) get(owner string) (storage.ArchivePrefs, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[owner]
	if !ok || !time.Now().Before(e.expires) {
		return storage.ArchivePrefs{}, false
	}
	return e.p, true
}

func (c *prefsCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put caches p as read from the store by a read begun at generation gen.
func (c *prefsCache) put(owner string, p storage.ArchivePrefs, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= maxCachedPrefs {
		c.m = make(map[string]cachedPrefs)
	}
	c.m[owner] = cachedPrefs{p, time.Now().Add(prefsTTL)}
}

// forget drops owner's entry after its preferences were written, and
// keeps reads begun before the write from caching what they found.
func (c *prefsCache) forget(owner string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, owner)
}

// listMatch tells whether target is in a preference list, and whether by
// its full JID (more specific) or its bare JID (XEP-0441 "JID matching": a listed
// full JID compares with the target as is, a listed bare JID with the
// target's bare JID).
func listMatch(list []string, target jid.JID) (full, bare bool) {
	t, tb := target.String(), target.Bare().String()
	for _, s := range list {
		if target.IsFull() && s == t {
			full = true
		} else if s == tb {
			bare = true
		}
	}
	return full, bare
}

// shouldArchive applies the owner's preferences to a message whose
// target is the peer (XEP-0441 "JID matching": 'to' for outgoing, 'from' for
// incoming messages).
//
// XEP-0441 does not say which list wins when a JID matches both. Skald
// lets the more specific entry win (a full JID over a bare JID), so
// "never bob@x except bob@x/desk" and "always bob@x except bob@x/phone"
// both work; on an equally specific match never wins (parsePrefs already
// keeps a JID in at most one list, so that only happens with stored
// preferences written by other tools). Under the default 'roster', the
// peer's bare JID must be a roster item the user added (any subscription
// state, including none, but not a hidden item that only records an
// incoming subscription request): XEP-0441 says "in the user's roster",
// and a contact added minutes ago whose approval is pending is one. The
// user's own JID counts as in the roster, so notes to self are kept.
func (m *Module) shouldArchive(ctx context.Context, owner, target jid.JID) (bool, error) {
	p, err := m.currentPrefs(ctx, owner.String())
	if err != nil {
		return false, err
	}
	nf, nb := listMatch(p.Never, target)
	af, ab := listMatch(p.Always, target)
	switch {
	case nf:
		return false, nil
	case af:
		return true, nil
	case nb:
		return false, nil
	case ab:
		return true, nil
	}
	switch p.Default {
	case policyAlways:
		return true, nil
	case policyRoster:
		return m.inRoster(ctx, owner, target.Bare())
	}
	return false, nil
}

func (m *Module) inRoster(ctx context.Context, owner, contact jid.JID) (bool, error) {
	if contact == owner {
		return true, nil
	}
	item, err := m.rosters.RosterItem(ctx, owner.String(), contact.String())
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !item.Hidden, nil
}
