package xml

import "testing"

func TestParseElements(t *testing.T) {
	a := New("a:ns", "a", "x", "1").Append(New("a:ns", "b").AppendText("<&>"))
	c := New("c:ns", "c")
	b := append(a.Bytes(""), c.Bytes("")...)
	tests := []struct {
		name string
		in   string
		want []string // serialisations; nil with wantErr
		err  bool
	}{
		{"none", ``, nil, false},
		{"one", `<v xmlns="vcard-temp"><FN>A</FN></v>`, []string{`<v xmlns="vcard-temp"><FN>A</FN></v>`}, false},
		{"several", string(b), []string{a.String(), c.String()}, false},
		{"no namespace", `<x/>`, []string{`<x xmlns="` + nsStored + `"/>`}, false},
		{"malformed", `<a xmlns="a:ns">`, nil, true},
		{"text", `oops`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			els, err := ParseElements([]byte(tc.in), DefaultLimits)
			if tc.err {
				if err == nil {
					t.Fatalf("read %d elements from malformed input", len(els))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(els) != len(tc.want) {
				t.Fatalf("got %d elements, want %d", len(els), len(tc.want))
			}
			for i, el := range els {
				if got := string(el.Bytes("")); got != tc.want[i] {
					t.Errorf("element %d = %s, want %s", i, got, tc.want[i])
				}
			}
		})
	}
	deep := `<a xmlns="a:ns"><a><a><a/></a></a></a>`
	if _, err := ParseElements([]byte(deep), Limits{MaxStanzaBytes: 1, MaxDepth: 3}); err == nil {
		t.Error("an element deeper than MaxDepth was read")
	}
}

func TestParseElementsUnlimited(t *testing.T) {
	deep := New("a:ns", "a")
	for range 100 {
		deep = New("a:ns", "a").Append(deep)
	}
	els, err := ParseElements(deep.Bytes(""), Limits{})
	if err != nil || len(els) != 1 || els[0].String() != deep.String() {
		t.Fatalf("ParseElements of a 101-deep element with no limits: %d elements, %v", len(els), err)
	}
}
