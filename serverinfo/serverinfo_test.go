package serverinfo

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		ci   ContactInfo
		bad  string // part of the error, "" if valid
	}{
		{"nothing", ContactInfo{}, ""},
		{"the XEP's example", ContactInfo{
			Abuse:    []string{"mailto:abuse@shakespeare.lit", "xmpp:abuse@shakespeare.lit"},
			Feedback: []string{"http://shakespeare.lit/feedback.php"},
			Support:  []string{"xmpp:support@conference.shakespeare.lit?join"},
			Status:   []string{"https://status.shakespeare.lit/"},
			Security: []string{"tel:+1-555-0100"},
		}, ""},
		{"bare address", ContactInfo{Abuse: []string{"abuse@example.org"}}, "contact_info.abuse"},
		{"scheme only", ContactInfo{Admin: []string{"mailto:"}}, "nothing after"},
		{"space", ContactInfo{Sales: []string{"mailto:a b@example.org"}}, "spaces"},
		{"newline", ContactInfo{Security: []string{"mailto:a@example.org\n"}}, "control"},
		{"https without host", ContactInfo{Status: []string{"https:/status"}}, "without a host"},
		{"empty", ContactInfo{Support: []string{""}}, "contact_info.support"},
		{"twice", ContactInfo{Feedback: []string{"xmpp:a@b", "xmpp:a@b"}}, "twice"},
		{"too long", ContactInfo{Abuse: []string{"mailto:" + strings.Repeat("a", MaxAddressBytes) + "@example.org"}}, "longer"},
		{"too many", ContactInfo{Abuse: func() []string {
			var a []string
			for i := range MaxAddresses + 1 {
				a = append(a, "xmpp:abuse"+strings.Repeat("x", i)+"@example.org")
			}
			return a
		}()}, "at most"},
	}
	for _, tt := range tests {
		err := Config{ContactInfo: tt.ci}.Validate()
		if tt.bad == "" && err != nil || tt.bad != "" && (err == nil || !strings.Contains(err.Error(), tt.bad)) {
			t.Errorf("%s: Validate() = %v, want %q", tt.name, err, tt.bad)
		}
	}
}

func TestForm(t *testing.T) {
	if ids, forms := New(DefaultConfig()).DiscoServerInfo(); ids != nil || forms != nil {
		t.Errorf("nothing configured: %v %v", ids, forms)
	}
	m := New(Config{ContactInfo: ContactInfo{
		Support: []string{"https://example.org/support", "xmpp:support@example.org"},
		Abuse:   []string{"mailto:abuse@example.org"},
	}})
	ids, forms := m.DiscoServerInfo()
	const want = `<x xmlns="jabber:x:data" type="result">` +
		`<field var="FORM_TYPE" type="hidden"><value>http://jabber.org/network/serverinfo</value></field>` +
		`<field var="abuse-addresses" type="list-multi"><value>mailto:abuse@example.org</value></field>` +
		`<field var="support-addresses" type="list-multi"><value>https://example.org/support</value><value>xmpp:support@example.org</value></field></x>`
	if len(ids) != 0 || len(forms) != 1 || forms[0].String() != want {
		t.Fatalf("got %v %v\nwant %s", ids, forms, want)
	}
	// The caller may not change the module's form.
	forms[0].Append(forms[0].FirstElement())
	if _, again := m.DiscoServerInfo(); again[0].String() != want {
		t.Errorf("form changed by a caller: %s", again[0])
	}
}

// TestFieldNames: every role has the field name of XEP-0157's registry
// (status-addresses registered after 1.0), in its order.
func TestFieldNames(t *testing.T) {
	one := []string{"mailto:x@example.org"}
	_, forms := New(Config{ContactInfo: ContactInfo{Abuse: one, Admin: one, Feedback: one, Sales: one, Security: one, Status: one, Support: one}}).DiscoServerInfo()
	var got []string
	for _, f := range forms[0].ChildrenNamed(nsData, "field") {
		got = append(got, f.Attr("var"))
	}
	want := []string{"FORM_TYPE", "abuse-addresses", "admin-addresses", "feedback-addresses", "sales-addresses", "security-addresses", "status-addresses", "support-addresses"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("fields %q, want %q", got, want)
	}
}
