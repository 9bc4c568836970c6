-- Test-only Prosody module for internal/server's federation interop test:
-- static s2s routes, like Skald's [s2s.routes], so that Prosody finds the
-- Skald under test on loopback without DNS records or /etc/hosts.
--
--   skald_test_routes = { ["s.test"] = 5270 }   -- domain -> port on 127.0.0.1
--
-- mod_s2s looks remote servers up through net.resolvers.service.new at
-- each new outgoing stream; for a routed domain this returns a resolver
-- for the loopback address instead (net.resolvers.basic takes IP literals
-- as they are).
local service = require "net.resolvers.service";
local basic = require "net.resolvers.basic";

local routes = module:get_option("skald_test_routes", {});
local lookup = service.new;

service.new = function (hostname, srv, proto, extra)
	local port = routes[hostname];
	if port and srv == "xmpp-server" then
		return basic.new("127.0.0.1", port, proto, extra);
	end
	if port then
		-- No direct TLS (XEP-0368) route: a resolver with no target.
		return { next = function (_, cb) cb(nil); end };
	end
	return lookup(hostname, srv, proto, extra);
end

function module.unload()
	service.new = lookup;
end
