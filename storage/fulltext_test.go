package storage

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestFoldText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Hello World", "hello world"},
		{"Café", "cafe"},
		{"ÜNÏCÖDÉ", "unicode"},
		{"Grüße", "grusse"},
		{"STRASSE", "strasse"},
		{"ẞ", "ss"},
		{"Ｆｕｌｌ", "full"},
		{"ﬁne", "fine"},
		{"ΣΊΣΥΦΟΣ", "σισυφοσ"},
		{"σίσυφος", "σισυφοσ"}, // final sigma folds with sigma
		{"我们的未来", "我们的未来"},
		{"が", "が"}, // kana voicing is kept
		{"한국어", "한국어"},
		{`"*-:`, `"*-:`},
	} {
		if got := FoldText(c.in); got != c.want {
			t.Errorf("FoldText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTextTerms(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		err  error
	}{
		{"", nil, nil},
		{"  \t\n ", nil, nil},
		{"Hello  WORLD hello", []string{"hello", "world"}, nil},
		{`"quoted" OR NEAR(x)`, []string{`"quoted"`, "or", "near(x)"}, nil},
		{strings.Repeat("x", MaxTextQueryBytes), []string{strings.Repeat("x", MaxTextQueryBytes)}, nil},
		{strings.Repeat("x", MaxTextQueryBytes+1), nil, ErrTextQueryTooLong},
		{"a b c d e f g h", []string{"a", "b", "c", "d", "e", "f", "g", "h"}, nil},
		{"a b c d e f g h i", nil, ErrTextQueryTooLong},
	} {
		got, err := TextTerms(c.in)
		if !errors.Is(err, c.err) || !slices.Equal(got, c.want) {
			t.Errorf("TextTerms(%.30q) = %q, %v; want %q, %v", c.in, got, err, c.want, c.err)
		}
	}
}

// FuzzTextTerms: a query never panics, its terms are non-empty and free
// of white space, and a body that contains the query between spaces
// matches it.
func FuzzTextTerms(f *testing.F) {
	for _, s := range []string{"hello", "Café CAFE", "我们 未来", `"*" OR -x:`, "ß ẞ ﬁ", "e\u0301", "\u0301x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if !utf8.ValidString(q) {
			return
		}
		terms, err := TextTerms(q)
		if err != nil {
			return
		}
		for _, term := range terms {
			if term == "" || strings.IndexFunc(term, unicode.IsSpace) >= 0 {
				t.Fatalf("term %q of %q", term, q)
			}
		}
		if !MatchText(FoldText(q), terms) {
			t.Fatalf("%q does not match its own terms %q", q, terms)
		}
		if !MatchText(FoldText("x "+q+" y"), terms) {
			t.Fatalf("a body containing %q does not match its terms %q", q, terms)
		}
	})
}
