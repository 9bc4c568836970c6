package server_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/serverinfo"
)

const contactSection = `[server.contact_info]
abuse = ["mailto:abuse@localhost", "xmpp:abuse@localhost"]
status = ["https://status.localhost/"]
`

// TestContactAddressesOverSocket: [server.contact_info] appears as the
// XEP-0157 serverinfo form in the domain's disco#info, and is part of
// the caps hash; without it there is no form.
func TestContactAddressesOverSocket(t *testing.T) {
	s := startServerConfig(t, loadConfigFile(t, contactSection), nil, nil)
	alice := login(t, s, "alice", "phone")
	cond, el := ask(t, alice, "d1", `<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if cond != "result" {
		t.Fatalf("disco#info: %s", el)
	}
	var form string
	for _, x := range el.Child("http://jabber.org/protocol/disco#info", "query").ChildrenNamed("jabber:x:data", "x") {
		if strings.Contains(x.String(), serverinfo.FormType) {
			form = x.String()
		}
	}
	for _, want := range []string{
		`<field var="abuse-addresses" type="list-multi"><value>mailto:abuse@localhost</value><value>xmpp:abuse@localhost</value></field>`,
		`<field var="status-addresses" type="list-multi"><value>https://status.localhost/</value></field>`,
	} {
		if !strings.Contains(form, want) {
			t.Errorf("serverinfo form %q lacks %s", form, want)
		}
	}
	if strings.Contains(form, "admin-addresses") {
		t.Errorf("empty role published: %s", form)
	}

	plain := startServer(t, nil, nil)
	bob := login(t, plain, "bob", "desk")
	if _, el := ask(t, bob, "d2", `<iq type='get' id='d2' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`); strings.Contains(el.String(), serverinfo.FormType) {
		t.Errorf("form without contact_info: %s", el)
	}
	// Different forms, different XEP-0115 hashes (disco covers forms).
	if capsVer(t, s) == capsVer(t, plain) {
		t.Errorf("caps hash ignores the contact form")
	}
}

// capsVer is the ver the server announces in its stream features.
func capsVer(t *testing.T, s *testServer) string {
	t.Helper()
	for _, m := range s.Router.Modules() {
		if v, ok := m.(interface{ Ver() string }); ok {
			return v.Ver()
		}
	}
	t.Fatal("no disco module")
	return ""
}

// TestContactAddressesConfig: addresses must be URIs (checked at load,
// naming the key), unknown roles are errors, and skald.example.toml's
// commented section, uncommented, is the default (nothing).
func TestContactAddressesConfig(t *testing.T) {
	m, err := loadModuleConfig(t, contactSection)
	if err != nil || !slices.Equal(m.Server.ContactInfo.Abuse, []string{"mailto:abuse@localhost", "xmpp:abuse@localhost"}) {
		t.Fatalf("set: %+v, %v", m.Server, err)
	}
	for src, want := range map[string]string{
		"[server.contact_info]\nabuse = [\"abuse@localhost\"]\n": "contact_info.abuse",
		"[server.contact_info]\nabuze = [\"mailto:a@b\"]\n":      "abuze",
		"[server]\ncontact = 1\n":                                "contact",
	} {
		if _, err := loadModuleConfig(t, src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %s", src, err, want)
		}
	}
	example, err := os.ReadFile("../../skald.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, tail, _ := strings.Cut(string(example), "# [server.contact_info]\n")
	lines := []string{"[server.contact_info]"}
	for _, l := range strings.Split(tail, "\n") {
		if strings.HasPrefix(l, "# [") || l == "" {
			break
		}
		if strings.Contains(l, " = ") {
			lines = append(lines, strings.TrimPrefix(l, "# "))
		}
	}
	m, err = loadModuleConfig(t, strings.Join(lines, "\n"))
	if _, forms := serverinfo.New(m.Server).DiscoServerInfo(); err != nil || len(lines) != 8 || forms != nil {
		t.Errorf("skald.example.toml's [server.contact_info] %q: %+v, %v", lines, m.Server, err)
	}
}
