package storage

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Full-text search of archives (ArchiveQuery.Text). The semantics are
// defined here, once, and every backend gives exactly these results (the
// SQLite and PostgreSQL indexes only narrow the candidates; see
// storage/sqlite/fulltext.go and storage/postgres/archive_query.go):
//
//   - The query is split at white space into terms; a message matches
//     when its body contains every term (in any order, anywhere: substring,
//     not whole words), so "ticket" finds "tickets" and "未来" finds
//     "我们的未来".
//   - Both sides are folded by FoldText first: compatibility forms
//     (NFKD: full-width letters, ligatures), case (simple folding, and ß
//     as ss) and the Latin/Greek/Cyrillic diacritics (the combining
//     diacritical mark blocks) are ignored, so "CAFE" finds "café". Other
//     marks (kana voicing, Indic vowel signs) are kept: they change the
//     letter, not its accent.
//   - No character is special: quotes, *, -, :, OR, NEAR are text.
const (
	// MaxTextQueryBytes bounds the UTF-8 length of a text query.
	MaxTextQueryBytes = 256
	// MaxTextTerms bounds the number of terms of a text query.
	MaxTextTerms = 8
)

// Text query errors. ErrTextTooBroad is a query that could not fill a
// single item of its page within the backend's bound on the rows it
// examines: the caller should narrow it (with, start, end).
var (
	ErrTextQueryTooLong = errors.New("storage: text query too long")
	ErrTextTooBroad     = errors.New("storage: text query examines too many items")
)

// TextTerms splits and folds a text query into its terms, without
// duplicates. An empty or white-space-only query has no terms (no text
// filter).
func TextTerms(q string) ([]string, error) {
	if len(q) > MaxTextQueryBytes {
		return nil, ErrTextQueryTooLong
	}
	var terms []string
	for _, f := range strings.Fields(FoldText(q)) {
		if !containsString(terms, f) {
			terms = append(terms, f)
		}
	}
	if len(terms) > MaxTextTerms {
		return nil, ErrTextQueryTooLong
	}
	return terms, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// MatchText reports whether a folded body (FoldText) contains every term.
func MatchText(folded string, terms []string) bool {
	for _, t := range terms {
		if !strings.Contains(folded, t) {
			return false
		}
	}
	return true
}

// FoldText is the normal form text search compares: NFKD, the combining
// diacritical marks removed, each rune case-folded (ß becomes ss), NFC.
// Pure ASCII takes a shortcut with the same result.
func FoldText(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	d := norm.NFKD.String(s)
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range d {
		switch {
		case isDiacritic(r):
			continue
		case r == 'ß' || r == 'ẞ':
			b.WriteString("ss")
			continue
		}
		b.WriteRune(foldRune(r))
	}
	return norm.NFC.String(b.String())
}

// foldRune maps a rune to its lower-case form in its case-fold orbit
// (so that final sigma, long s and the Kelvin sign fold with the
// letters they stand for).
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		return unicode.ToLower(r)
	}
	return unicode.ToLower(unicode.ToUpper(r))
}

// isDiacritic reports whether r is in one of the combining diacritical
// mark blocks (accents of Latin, Greek and Cyrillic letters, after NFKD).
func isDiacritic(r rune) bool {
	return (r >= 0x0300 && r <= 0x036F) || (r >= 0x1AB0 && r <= 0x1AFF) ||
		(r >= 0x1DC0 && r <= 0x1DFF) || (r >= 0x20D0 && r <= 0x20FF) ||
		(r >= 0xFE20 && r <= 0xFE2F)
}
