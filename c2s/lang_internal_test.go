package c2s

import "testing"

func TestIsLanguageTag(t *testing.T) {
	for s, want := range map[string]bool{
		"en": true, "de-CH": true, "zh-Hant-TW": true, "i-klingon": true, "x-private1": true,
		"": false, "-en": false, "en-": false, "en--us": false, "en us": false, "en_US": false,
		"<x>": false, "abcdefghi": false, "é": false,
	} {
		if got := isLanguageTag(s); got != want {
			t.Errorf("isLanguageTag(%q) = %v, want %v", s, got, want)
		}
	}
}
