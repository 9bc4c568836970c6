package s2s

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"testing"
)

// The expected key was computed with openssl, independently of this code:
// k=$(printf s3cr3tf0rd14lb4ck | openssl dgst -sha256 -hex)
// printf 'example.net example.com D60000229F' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$k
func TestDialbackKey(t *testing.T) {
	secret := []byte("s3cr3tf0rd14lb4ck")
	want := "def16e8c8c17c286b594ce50756aa418adabafc6db68cac50e7de1a6a022dbbc"
	if got := DialbackKey(secret, "example.net", "example.com", "D60000229F"); got != want {
		t.Fatalf("key %s, want %s", got, want)
	}
	// Every input is bound: changing any one changes the key.
	for _, other := range []string{
		DialbackKey([]byte("other"), "example.net", "example.com", "D60000229F"),
		DialbackKey(secret, "example.com", "example.net", "D60000229F"),
		DialbackKey(secret, "example.net", "example.com", "D60000229G"),
	} {
		if other == want {
			t.Fatal("a changed input kept the key")
		}
	}
	if a, b := DeriveSecret([]byte("x")), DeriveSecret([]byte("y")); string(a) == string(b) || string(a) == "x" {
		t.Fatal("DeriveSecret does not depend on its input or returns it")
	}
}

// tableResolver answers SRV lookups from a table keyed by
// "_service._tcp.name".
type tableResolver map[string][]*net.SRV

func (r tableResolver) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	if srvs, ok := r["_"+service+"._"+proto+"."+name]; ok {
		return "", srvs, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (r tableResolver) LookupHost(context.Context, string) ([]string, error) {
	return nil, errors.New("unused")
}

func TestResolve(t *testing.T) {
	res := tableResolver{
		"_xmpp-server._tcp.srv.test": {
			{Target: "xmpp1.srv.test.", Port: 5269, Priority: 10},
			{Target: "xmpp2.srv.test.", Port: 5270, Priority: 20},
		},
		"_xmpps-server._tcp.srv.test":   {{Target: "tls.srv.test.", Port: 5223, Priority: 10}},
		"_xmpp-server._tcp.none.test":   {{Target: ".", Port: 0}},
		"_xmpp-server._tcp.routed.test": {{Target: "ignored.test.", Port: 1}},
		"_xmpp-server._tcp.many.test":   manyTargets(20),
	}
	routes := map[string]string{"routed.test": "127.0.0.1:5270"}
	for _, tc := range []struct {
		domain string
		want   []target
		err    error
	}{
		// Merged by priority, direct TLS first on a tie (XEP-0368).
		{"srv.test", []target{
			{"tls.srv.test:5223", true, 10},
			{"xmpp1.srv.test:5269", false, 10},
			{"xmpp2.srv.test:5270", false, 20},
		}, nil},
		// No records: the domain itself on 5269 (RFC 6120 §3.2.2).
		{"plain.test", []target{{"plain.test:5269", false, 0}}, nil},
		// "." says there is no service (RFC 6120 §3.2.1).
		{"none.test", nil, errNoService},
		// At most maxTargets, the first by priority.
		{"many.test", wantTargets(maxTargets), nil},
		// A static route wins over DNS.
		{"routed.test", []target{{"127.0.0.1:5270", false, 0}}, nil},
	} {
		got, err := resolve(context.Background(), res, routes, tc.domain)
		if !errors.Is(err, tc.err) || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, %v; want %v, %v", tc.domain, got, err, tc.want, tc.err)
		}
	}
}

func manyTargets(n int) []*net.SRV {
	var out []*net.SRV
	for i := range n {
		out = append(out, &net.SRV{Target: fmt.Sprintf("x%d.many.test.", i), Port: 5269, Priority: uint16(i)})
	}
	return out
}

func wantTargets(n int) []target {
	var out []target
	for i := range n {
		out = append(out, target{fmt.Sprintf("x%d.many.test:5269", i), false, uint16(i)})
	}
	return out
}
