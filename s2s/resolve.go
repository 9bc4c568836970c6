package s2s

import (
	"context"
	"errors"
	"net"
	"sort"
	"strconv"
)

// Resolver is the part of net.Resolver that finding a server needs; tests
// give a fake.
type Resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// target is one place to try a remote domain's server.
type target struct {
	addr      string
	directTLS bool // XEP-0368: TLS from the first byte
	priority  uint16
}

// maxTargets caps the SRV targets tried for one domain, and
// maxAddresses the addresses tried for one target: a remote domain's DNS
// must not make one stanza cost hundreds of connection attempts (RFC 6120
// §3.2.1 asks to try targets in order until one works, not all of them
// whatever their number). With connect_timeout bounding the whole
// attempt, the caps also keep a hopeless domain from holding a stream.
const (
	maxTargets   = 8
	maxAddresses = 4
)

// errNoService is a domain whose SRV records say it offers no server
// (a single target "."; RFC 6120 §3.2.1 step 3, RFC 2782).
var errNoService = errors.New("s2s: domain offers no xmpp-server service")

// resolve returns where to connect for domain, in order: a static route
// alone if there is one; else the targets of _xmpps-server._tcp (direct
// TLS, XEP-0368) and _xmpp-server._tcp (STARTTLS) merged by priority,
// direct TLS first on a tie (RFC 6120 §3.2.1; the resolver already
// ordered each set by priority and weight); else, when neither has
// records, the domain itself on port 5269 (§3.2.2).
func resolve(ctx context.Context, r Resolver, routes map[string]string, domain string) ([]target, error) {
	if a, ok := routes[domain]; ok {
		return []target{{addr: a}}, nil
	}
	var out []target
	noService := false
	for _, svc := range []struct {
		name   string
		direct bool
	}{{"xmpps-server", true}, {"xmpp-server", false}} {
		_, srvs, err := r.LookupSRV(ctx, svc.name, "tcp", domain)
		if err != nil {
			continue // no records (or a DNS failure): try the next way
		}
		if len(srvs) == 1 && (srvs[0].Target == "." || srvs[0].Target == "") {
			noService = !svc.direct || noService
			continue
		}
		for _, s := range srvs {
			out = append(out, target{
				addr:      net.JoinHostPort(trimDot(s.Target), strconv.Itoa(int(s.Port))),
				directTLS: svc.direct,
				priority:  s.Priority,
			})
		}
	}
	if len(out) == 0 {
		if noService {
			return nil, errNoService
		}
		return []target{{addr: net.JoinHostPort(domain, "5269")}}, nil
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].priority < out[j].priority })
	if len(out) > maxTargets {
		out = out[:maxTargets]
	}
	return out, nil
}

func trimDot(host string) string {
	if len(host) > 1 && host[len(host)-1] == '.' {
		return host[:len(host)-1]
	}
	return host
}
