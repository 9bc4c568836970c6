package sasl

import (
	"crypto/tls"
	"fmt"
)

// Channel binding types (RFC 5056 registry) supported by the -PLUS mechanisms.
const (
	// CBTLSExporter is "tls-exporter" (RFC 9266), offered on TLS 1.3.
	CBTLSExporter = "tls-exporter"
	// CBTLSUnique is "tls-unique" (RFC 5929), offered on TLS 1.2 and older.
	CBTLSUnique = "tls-unique"

	exporterLabel  = "EXPORTER-Channel-Binding"
	exporterLength = 32
)

// ChannelBinding is one channel binding of a connection: its type name and
// the binding data. The zero value means "no TLS / not available".
type ChannelBinding struct {
	Type string
	Data []byte
}

// Available reports whether b carries usable binding data.
func (b ChannelBinding) Available() bool { return b.Type != "" && len(b.Data) > 0 }

// ChannelBindingFor reports which channel binding types are available for a
// TLS connection and returns a function that computes the binding data for one
// of them.
//
// For TLS 1.3 the only type is "tls-exporter" (RFC 9266: exporter label
// "EXPORTER-Channel-Binding", zero-length context, 32 bytes). For TLS 1.2 and
// older it is "tls-unique" (RFC 5929), when crypto/tls provides it (it does not
// for resumed sessions without Extended Master Secret). tls-exporter is
// deliberately not offered on TLS 1.2: RFC 5705 distinguishes an absent
// context from an empty one there, and clients disagree on which RFC 9266
// means, whereas on TLS 1.3 both are the same.
//
// cs == nil, or a handshake that is not complete, yields no types. The types
// are in server preference order.
func ChannelBindingFor(cs *tls.ConnectionState) (types []string, get func(typ string) ([]byte, error)) {
	if cs == nil || !cs.HandshakeComplete {
		return nil, func(typ string) ([]byte, error) {
			return nil, fmt.Errorf("sasl: channel binding %q not available without TLS", typ)
		}
	}
	st := *cs
	get = func(typ string) ([]byte, error) {
		switch {
		case typ == CBTLSExporter && st.Version >= tls.VersionTLS13:
			return st.ExportKeyingMaterial(exporterLabel, []byte{}, exporterLength)
		case typ == CBTLSUnique && st.Version < tls.VersionTLS13 && len(st.TLSUnique) > 0:
			return append([]byte(nil), st.TLSUnique...), nil
		}
		return nil, fmt.Errorf("sasl: channel binding %q not available on this connection", typ)
	}
	for _, typ := range []string{CBTLSExporter, CBTLSUnique} {
		if d, err := get(typ); err == nil && len(d) > 0 {
			types = append(types, typ)
		}
	}
	return types, get
}

// ChannelBindingInfo describes what a connection offers to the SASL layer:
// whether the stream is TLS-protected and which channel bindings are
// available. Bindings must be exactly the bindings whose -PLUS mechanisms are
// advertised (RFC 5802 §6 downgrade detection relies on it): to advertise no
// -PLUS mechanism on a TLS stream, leave Bindings empty.
type ChannelBindingInfo struct {
	TLS      bool
	Bindings []ChannelBinding
	// ResumedWithoutEMS marks a TLS 1.2 session resumed without the
	// extended master secret (RFC 7627), where crypto/tls gives no
	// tls-unique: the HT mechanisms are not offered on it
	// (HTMechanisms).
	ResumedWithoutEMS bool
}

// ChannelBindingInfoFor builds the ChannelBindingInfo of a TLS connection
// using ChannelBindingFor. cs == nil means the stream is not encrypted.
func ChannelBindingInfoFor(cs *tls.ConnectionState) ChannelBindingInfo {
	info := ChannelBindingInfo{TLS: cs != nil && cs.HandshakeComplete}
	info.ResumedWithoutEMS = info.TLS && cs.Version < tls.VersionTLS13 && cs.DidResume && len(cs.TLSUnique) == 0
	types, get := ChannelBindingFor(cs)
	for _, typ := range types {
		if d, err := get(typ); err == nil && len(d) > 0 {
			info.Bindings = append(info.Bindings, ChannelBinding{Type: typ, Data: d})
		}
	}
	return info
}

// Available reports whether at least one channel binding is available, that
// is whether -PLUS mechanisms are offered.
func (i ChannelBindingInfo) Available() bool {
	for _, b := range i.Bindings {
		if b.Available() {
			return true
		}
	}
	return false
}

// Types lists the available channel binding types, e.g. for the XEP-0440
// <sasl-channel-binding/> stream feature.
func (i ChannelBindingInfo) Types() []string {
	var t []string
	for _, b := range i.Bindings {
		if b.Available() {
			t = append(t, b.Type)
		}
	}
	return t
}

// Mechanisms is shorthand for Mechanisms(i.TLS, i.Available()).
func (i ChannelBindingInfo) Mechanisms() []string { return Mechanisms(i.TLS, i.Available()) }

func (i ChannelBindingInfo) lookup(typ string) (ChannelBinding, bool) {
	for _, b := range i.Bindings {
		if b.Type == typ && b.Available() {
			return b, true
		}
	}
	return ChannelBinding{}, false
}
