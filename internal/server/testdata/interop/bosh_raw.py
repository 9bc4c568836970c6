"""XMPP over BOSH (XEP-0124, XEP-0206) interop check with an independent
client: no BOSH client library exists in Debian or among the Go modules we
can use (slixmpp does not speak BOSH), so this script is one, written from
the XEPs' examples with nothing but Python's standard library
(http.client, xml.etree.ElementTree, hashlib/hmac for SCRAM-SHA-1). It
shares no code with the server or its Go tests.

Two sessions, alice and bob, each: session creation request, SCRAM-SHA-1,
the xmpp:restart request, resource binding; then, with one request always
held at the server as web clients do, a chat both ways (alice's stanza
with xmlns='jabber:client', bob's without, as many BOSH clients send
them), alice's MAM query, and type='terminate'; a request with the ended
session's sid gets item-not-found.

The Go test passes SKALD_BOSH_URL and SKALD_DOMAIN; exit 0 on success, 1
with a message on the first failed expectation.
"""

import base64
import hashlib
import hmac
import http.client
import os
import queue
import random
import sys
import threading
import urllib.parse
import xml.etree.ElementTree as ET

NS = "http://jabber.org/protocol/httpbind"
XBOSH = "urn:xmpp:xbosh"
STREAMS = "http://etherx.jabber.org/streams"
SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
BIND = "urn:ietf:params:xml:ns:xmpp-bind"
CLIENT = "jabber:client"
MAM = "urn:xmpp:mam:2"
DOMAIN = os.environ.get("SKALD_DOMAIN", "localhost")


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def q(ns, name):
    return "{%s}%s" % (ns, name)


class Bosh:
    def __init__(self, url, name):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = u.hostname, u.port, u.path
        self.name = name
        self.rid = random.randint(1 << 20, 1 << 40)
        self.lock = threading.Lock()
        self.results = {}
        self.next = self.rid + 1
        self.outstanding = 0
        self.polling = False
        self.terminated = None
        self.inbox = queue.Queue()
        self.errors = queue.Queue()
        self.sid = None

    def post(self, text):
        c = http.client.HTTPConnection(self.host, self.port, timeout=30)
        c.request("POST", self.path, body=text.encode("utf-8"),
                  headers={"Content-Type": "text/xml; charset=utf-8"})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r.getheader("Content-Type"), data

    def create(self):
        text = ("<body content='text/xml; charset=utf-8' hold='1' rid='%d' to='%s' "
                "ver='1.6' wait='20' xml:lang='en' xmpp:version='1.0' "
                "xmlns='%s' xmlns:xmpp='%s'/>") % (self.rid, DOMAIN, NS, XBOSH)
        status, ctype, data = self.post(text)
        check(status == 200, "creation: HTTP %d %r" % (status, data))
        check(ctype.startswith("text/xml"), "creation: Content-Type %r" % ctype)
        body = ET.fromstring(data)
        check(body.tag == q(NS, "body"), "creation response root %s" % body.tag)
        check(body.get("type") is None, "creation failed: %r" % data)
        self.sid = body.get("sid")
        check(self.sid and len(self.sid) >= 16, "sid %r" % self.sid)
        for attr in ("wait", "requests", "hold", "inactivity", "ver"):
            check(body.get(attr), "creation response lacks %s: %r" % (attr, data))
        check(body.get("hold") == "1" and body.get("requests") == "2", "hold/requests: %r" % data)
        check(body.get(q(XBOSH, "version")) == "1.0", "xmpp:version: %r" % data)
        check(body.get(q(XBOSH, "restartlogic")) == "true", "xmpp:restartlogic: %r" % data)
        features = body.find(q(STREAMS, "features"))
        check(features is not None, "no stream features in the creation response: %r" % data)
        return features

    def reserve(self):
        with self.lock:
            self.rid += 1
            self.outstanding += 1
            return self.rid

    def request(self, rid, attrs="", payload=""):
        text = "<body rid='%d' sid='%s' xmlns='%s' xmlns:xmpp='%s'%s>%s</body>" % (
            rid, self.sid, NS, XBOSH, attrs, payload)
        try:
            status, _, data = self.post(text)
            if status != 200:
                raise Failure("%s rid %d: HTTP %d %r" % (self.name, rid, status, data))
            body = ET.fromstring(data)
        except Exception as e:  # reported to the reader
            self.errors.put(e)
            return
        with self.lock:
            self.outstanding -= 1
            self.results[rid] = body
            # Responses are processed in rid order (XEP-0124 §14.2).
            while self.next in self.results:
                b = self.results.pop(self.next)
                self.next += 1
                for child in b:
                    self.inbox.put(child)
                if b.get("type") == "terminate":
                    self.terminated = b
        self.kick()

    def kick(self):
        """Keeps one request held at the server while polling."""
        with self.lock:
            idle = self.polling and self.outstanding == 0 and self.terminated is None
        if idle:
            rid = self.reserve()
            threading.Thread(target=self.request, args=(rid,), daemon=True).start()

    def send(self, payload, attrs=""):
        rid = self.reserve()
        threading.Thread(target=self.request, args=(rid, attrs, payload), daemon=True).start()

    def receive(self, timeout=10):
        try:
            return self.inbox.get(timeout=timeout)
        except queue.Empty:
            if not self.errors.empty():
                raise self.errors.get()
            raise Failure("%s: timed out waiting for a payload" % self.name)

    def expect(self, match, what):
        while True:
            el = self.receive()
            if match(el):
                return el

    def scram_sha1(self, user, password):
        nonce = base64.b64encode(os.urandom(12)).decode()
        bare = "n=%s,r=%s" % (user, nonce)
        self.send("<auth xmlns='%s' mechanism='SCRAM-SHA-1'>%s</auth>" % (
            SASL, base64.b64encode(("n,," + bare).encode()).decode()))
        ch = self.receive()
        check(ch.tag == q(SASL, "challenge"), "expected a challenge, got %s" % ET.tostring(ch))
        first = base64.b64decode(ch.text).decode()
        attrs = dict(kv.split("=", 1) for kv in first.split(","))
        check(attrs["r"].startswith(nonce), "server nonce does not extend ours")
        salted = hashlib.pbkdf2_hmac("sha1", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha1).digest()
        stored = hashlib.sha1(client_key).digest()
        final = "c=biws,r=" + attrs["r"]
        auth_msg = ",".join([bare, first, final]).encode()
        sig = hmac.new(stored, auth_msg, hashlib.sha1).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, sig))
        self.send("<response xmlns='%s'>%s</response>" % (
            SASL, base64.b64encode((final + ",p=" + base64.b64encode(proof).decode()).encode()).decode()))
        ok = self.receive()
        check(ok.tag == q(SASL, "success"), "SASL failed: %s" % ET.tostring(ok))
        server_key = hmac.new(salted, b"Server Key", hashlib.sha1).digest()
        want = "v=" + base64.b64encode(hmac.new(server_key, auth_msg, hashlib.sha1).digest()).decode()
        check(base64.b64decode(ok.text).decode() == want, "server signature does not verify")

    def login(self, user, password, resource):
        features = self.create()
        mechs = [m.text for m in features.iter(q(SASL, "mechanism"))]
        check("SCRAM-SHA-1" in mechs, "mechanisms %s" % mechs)
        self.scram_sha1(user, password)
        # XEP-0206 §5: restart, with to and xml:lang, and an empty body.
        self.send("", " to='%s' xml:lang='en' xmpp:restart='true'" % DOMAIN)
        features = self.receive()
        check(features.tag == q(STREAMS, "features"), "after the restart: %s" % ET.tostring(features))
        check(features.find(q(BIND, "bind")) is not None, "no bind feature")
        self.send("<iq xmlns='jabber:client' type='set' id='bind_1'><bind xmlns='%s'>"
                  "<resource>%s</resource></bind></iq>" % (BIND, resource))
        res = self.receive()
        check(res.tag == q(CLIENT, "iq") and res.get("type") == "result", "bind: %s" % ET.tostring(res))
        jid = res.find(q(BIND, "bind")).find(q(BIND, "jid")).text
        check(jid == "%s@%s/%s" % (user, DOMAIN, resource), "bound %s" % jid)
        self.polling = True
        self.kick()
        return jid


def main():
    url = os.environ["SKALD_BOSH_URL"]
    alice, bob = Bosh(url, "alice"), Bosh(url, "bob")
    alice_jid = alice.login("alice", "pw-alice", "py")
    bob_jid = bob.login("bob", "pw-bob", "py")

    alice.send("<message xmlns='jabber:client' to='%s' type='chat' id='a1'><body>hi bob, over BOSH</body></message>" % bob_jid)
    m = bob.expect(lambda e: e.tag == q(CLIENT, "message"), "alice's message")
    check(m.get("from") == alice_jid and m.findtext(q(CLIENT, "body")) == "hi bob, over BOSH", "bob got %s" % ET.tostring(m))

    # As many BOSH clients send them: no xmlns (XEP-0206 §2).
    bob.send("<message to='%s' type='chat' id='b1'><body>hi alice</body></message>" % alice_jid)
    m = alice.expect(lambda e: e.tag == q(CLIENT, "message"), "bob's message")
    check(m.get("from") == bob_jid and m.findtext(q(CLIENT, "body")) == "hi alice", "alice got %s" % ET.tostring(m))

    alice.send("<iq xmlns='jabber:client' type='set' id='mam1'><query xmlns='%s' queryid='q1'/></iq>" % MAM)
    bodies = []
    while True:
        el = alice.receive()
        result = el.find(q(MAM, "result"))
        if el.tag == q(CLIENT, "message") and result is not None:
            fwd = result.find(q("urn:xmpp:forward:0", "forwarded")).find(q(CLIENT, "message"))
            bodies.append(fwd.findtext(q(CLIENT, "body")))
            continue
        if el.tag == q(CLIENT, "iq") and el.get("id") == "mam1":
            check(el.get("type") == "result" and el.find(q(MAM, "fin")) is not None, "MAM: %s" % ET.tostring(el))
            break
    check(bodies == ["hi bob, over BOSH", "hi alice"], "archive %r" % bodies)

    for c in (alice, bob):
        c.polling = False
        c.send("<presence xmlns='jabber:client' type='unavailable'/>", " type='terminate'")
    for c in (alice, bob):
        for _ in range(100):
            if c.terminated is not None:
                break
            threading.Event().wait(0.1)
        check(c.terminated is not None, "%s: no type='terminate' answer" % c.name)
        check(c.terminated.get("condition") is None, "%s: terminated with %s" % (c.name, c.terminated.get("condition")))
    status, _, data = alice.post("<body rid='%d' sid='%s' xmlns='%s'/>" % (alice.rid + 1, alice.sid, NS))
    body = ET.fromstring(data)
    check(status == 200 and body.get("type") == "terminate" and body.get("condition") == "item-not-found",
          "ended session: HTTP %d %r" % (status, data))
    print("bosh_raw: ok")


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print("FAIL:", e, file=sys.stderr)
        sys.exit(1)
