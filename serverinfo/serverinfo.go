package serverinfo

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
)

// FormType is the XEP-0157 FORM_TYPE.
const FormType = "http://jabber.org/network/serverinfo"

const nsData = "jabber:x:data"

// Bounds of the configuration.
const (
	MaxAddresses    = 10
	MaxAddressBytes = 1024
)

// Config is the [server] section.
type Config struct {
	ContactInfo ContactInfo `toml:"contact_info"`
}

// ContactInfo lists the contact addresses (URIs) of each role.
type ContactInfo struct {
	Abuse    []string `toml:"abuse"`
	Admin    []string `toml:"admin"`
	Feedback []string `toml:"feedback"`
	Sales    []string `toml:"sales"`
	Security []string `toml:"security"`
	Status   []string `toml:"status"`
	Support  []string `toml:"support"`
}

// DefaultConfig publishes nothing.
func DefaultConfig() Config { return Config{} }

// roles pairs each field with its addresses, in the registry's order.
func (c ContactInfo) roles() []struct {
	key, field string
	addrs      []string
} {
	return []struct {
		key, field string
		addrs      []string
	}{
		{"abuse", "abuse-addresses", c.Abuse},
		{"admin", "admin-addresses", c.Admin},
		{"feedback", "feedback-addresses", c.Feedback},
		{"sales", "sales-addresses", c.Sales},
		{"security", "security-addresses", c.Security},
		{"status", "status-addresses", c.Status},
		{"support", "support-addresses", c.Support},
	}
}

// Validate checks that every address is an absolute URI.
func (c Config) Validate() error {
	for _, r := range c.ContactInfo.roles() {
		if len(r.addrs) > MaxAddresses {
			return fmt.Errorf("contact_info.%s: %d addresses, at most %d", r.key, len(r.addrs), MaxAddresses)
		}
		seen := map[string]bool{}
		for _, a := range r.addrs {
			if err := checkURI(a); err != nil {
				return fmt.Errorf("contact_info.%s: %q: %w", r.key, a, err)
			}
			if seen[a] {
				return fmt.Errorf("contact_info.%s: %q is listed twice", r.key, a)
			}
			seen[a] = true
		}
	}
	return nil
}

// checkURI accepts an absolute URI: a scheme and something after it
// (mailto:x@y, xmpp:x@y, https://host/…), without spaces or control
// characters, which no URI contains.
func checkURI(a string) error {
	if len(a) > MaxAddressBytes {
		return fmt.Errorf("longer than %d bytes", MaxAddressBytes)
	}
	if strings.ContainsFunc(a, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("not a URI: contains spaces or control characters")
	}
	u, err := url.Parse(a)
	if err != nil {
		return fmt.Errorf("not a URI: %w", err)
	}
	if u.Scheme == "" {
		return fmt.Errorf("not an absolute URI (want mailto:, xmpp:, https:, …)")
	}
	if u.Opaque == "" && u.Host == "" && u.Path == "" {
		return fmt.Errorf("nothing after %s:", u.Scheme)
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		return fmt.Errorf("%s URI without a host", u.Scheme)
	}
	return nil
}

// Module publishes the form.
type Module struct {
	form *xml.Element // nil: nothing configured
}

// New returns the module for cfg, which must be valid.
func New(cfg Config) *Module {
	x := xml.New(nsData, "x", "type", "result")
	x.Append(xml.New(nsData, "field", "var", "FORM_TYPE", "type", "hidden").Append(xml.New(nsData, "value").AppendText(FormType)))
	some := false
	for _, r := range cfg.ContactInfo.roles() {
		if len(r.addrs) == 0 {
			continue
		}
		some = true
		f := xml.New(nsData, "field", "var", r.field, "type", "list-multi")
		for _, a := range r.addrs {
			f.Append(xml.New(nsData, "value").AppendText(a))
		}
		x.Append(f)
	}
	if !some {
		return &Module{}
	}
	return &Module{form: x}
}

// Name implements router.Module.
func (*Module) Name() string { return "serverinfo" }

// DiscoServerInfo implements router.ServerInfoProvider.
func (m *Module) DiscoServerInfo() ([]router.Identity, []*xml.Element) {
	if m.form == nil {
		return nil, nil
	}
	return nil, []*xml.Element{m.form.Clone()}
}
