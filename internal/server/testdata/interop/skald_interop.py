"""Shared helpers for the slixmpp interop scripts (see interop_test.go).

The Go test passes the server's addresses in the environment:
SKALD_ADDR (STARTTLS listener, host:port), SKALD_TLS_ADDR (direct TLS),
SKALD_DOMAIN (the XMPP domain). Every script exits 0 on success and 1 with
a message on stderr on the first failed expectation, so the Go test can
print the script's output. SKALD_INTEROP_DEBUG=1 logs the XML stream.
"""

import asyncio
import logging
import os
import ssl
import sys
import time
import traceback

import slixmpp

DOMAIN = os.environ.get("SKALD_DOMAIN", "localhost")


def _port(var):
    addr = os.environ[var]
    return int(addr.rsplit(":", 1)[1])


class Failure(Exception):
    """A failed expectation: reported without a traceback."""


def fail(msg):
    raise Failure(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def log(msg):
    print(msg, flush=True)


class ErrorLogHandler(logging.Handler):
    """Records ERROR (and worse) log records from slixmpp: a protocol
    problem slixmpp notices (bad SM counters, unparseable XML) is logged
    rather than raised, and must still fail the test."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(self.format(record))


ERRORS = ErrorLogHandler()


def setup_logging():
    debug = os.environ.get("SKALD_INTEROP_DEBUG") == "1"
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("slixmpp").addHandler(ERRORS)


async def until(cond, what, timeout=10.0):
    """Polls cond() until it is true, or fails naming what we waited for;
    what may be a function, called at the failure to describe the state."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            fail("timed out waiting for " + (what() if callable(what) else what))
        await asyncio.sleep(0.02)


class Client(slixmpp.ClientXMPP):
    """A slixmpp client that trusts the test server's self-signed
    certificate, records what goes wrong, and fails login at once on a
    connection or authentication failure instead of waiting for retries."""

    def __init__(self, user, resource, plugins=(), password=None, tls13=False, sasl_mech=None):
        jid = "%s@%s/%s" % (user, DOMAIN, resource)
        super().__init__(jid, password or "pw-" + user, sasl_mech=sasl_mech)
        self.name = "%s/%s" % (user, resource)
        self.want_jid = jid
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        if not tls13:
            # slixmpp 1.8.3 knows only the tls-unique channel binding, which
            # exists up to TLS 1.2 (RFC 9266); on TLS 1.3 the server offers
            # tls-exporter, slixmpp's -PLUS attempts fail, its plain SCRAM
            # attempts carry the "y" flag that RFC 5802 section 6 obliges the
            # server to refuse, and it ends up on PLAIN. TLS 1.2 lets
            # slixmpp's best choice, SCRAM-SHA-256-PLUS, succeed.
            self.ssl_context.maximum_version = ssl.TLSVersion.TLSv1_2
        self.use_ipv6 = False
        self.use_aiodns = False
        # Ping serves sync(); stanza-ids (XEP-0359) are checked everywhere.
        for p in ("xep_0199", "xep_0359", *plugins):
            self.register_plugin(p)
        self.started = asyncio.get_running_loop().create_future()
        self.problems = []
        self.messages = []  # plain (non-carbon) messages with a body
        self.add_event_handler("session_start", self._started)
        self.failed_auth = []  # (mechanism, failure) for each refused attempt
        self.add_event_handler("failed_auth", lambda e: self.failed_auth.append((self.mechanism, str(e))))
        self.add_event_handler("failed_all_auth", lambda e: self._problem("all SASL mechanisms failed"))
        self.add_event_handler("connection_failed", lambda e: self._problem("connection failed: %s" % e))
        self.add_event_handler("stream_error", lambda e: self._problem("stream error: %s" % e))
        self.add_event_handler("message", self._message)

    def _started(self, _):
        if not self.started.done():
            self.started.set_result(True)

    def _problem(self, what):
        self.problems.append(what)
        if not self.started.done():
            self.started.set_exception(Failure("%s: %s" % (self.name, what)))

    def _message(self, msg):
        if msg["type"] in ("chat", "normal") and msg["body"]:
            self.messages.append(msg)

    @property
    def mechanism(self):
        mech = self["feature_mechanisms"].mech
        return mech.name if mech else None

    async def login(self, direct_tls=False, timeout=10.0):
        """Connects, authenticates and binds; returns once the session
        started (presence is left to the caller)."""
        # Connecting to "localhost" (not 127.0.0.1) makes it the TLS server
        # name; slixmpp resolves it with default_port as the port.
        self.default_port = _port("SKALD_TLS_ADDR" if direct_tls else "SKALD_ADDR")
        self.connect(("localhost", self.default_port), use_ssl=direct_tls, force_starttls=not direct_tls)
        try:
            await asyncio.wait_for(asyncio.shield(self.started), timeout)
        except asyncio.TimeoutError:
            fail("%s: no session after %.0fs (problems: %s)" % (self.name, timeout, self.problems))
        log("%s: session started, SASL %s, bound %s" % (self.name, self.mechanism, self.boundjid))
        check(self.boundjid.full == self.want_jid,
              "%s: bound JID %s, requested resource not honoured" % (self.name, self.boundjid))

    def check_refusals(self):
        """Checks that every refused SASL attempt was refused for a reason
        the RFCs give: on TLS 1.3 slixmpp's -PLUS attempts bind to
        tls-unique, which does not exist there (RFC 9266), and its plain
        SCRAM attempts carry the "y" flag, which RFC 5802 section 6 makes
        the server refuse when it offered -PLUS. Anything else is a server
        fault."""
        for mech, failure in self.failed_auth:
            want = "unsupported channel binding type" if mech.endswith("-PLUS") else "server supports channel binding"
            check(want in failure, "%s: %s refused with %s, want %r" % (self.name, mech, failure, want))

    async def sync(self):
        """A ping round trip to our server: whatever the server queued for
        this stream before answering has arrived when it returns."""
        pong = await self["xep_0199"].send_ping(DOMAIN, timeout=5)
        check(pong["type"] == "result", "%s: ping: %s" % (self.name, pong))

    async def logout(self):
        if self.transport:
            self.disconnect(wait=1.0)
            try:
                await asyncio.wait_for(self.disconnected, 3)
            except asyncio.TimeoutError:
                self.abort()

    def assert_healthy(self):
        check(not self.problems, "%s: %s" % (self.name, self.problems))


def run(main, timeout=40.0):
    """Runs the scenario coroutine main() and exits with its verdict."""
    setup_logging()

    async def guarded():
        await asyncio.wait_for(main(), timeout)

    try:
        asyncio.run(guarded())
    except Failure as e:
        print("FAIL: %s" % e, file=sys.stderr, flush=True)
        sys.exit(1)
    except asyncio.TimeoutError:
        print("FAIL: scenario did not finish within %.0fs" % timeout, file=sys.stderr, flush=True)
        sys.exit(1)
    except Exception:
        traceback.print_exc()
        print("FAIL: unexpected exception", file=sys.stderr, flush=True)
        sys.exit(1)
    if ERRORS.records:
        print("FAIL: slixmpp logged errors:\n  " + "\n  ".join(ERRORS.records), file=sys.stderr, flush=True)
        sys.exit(1)
    log("OK")
