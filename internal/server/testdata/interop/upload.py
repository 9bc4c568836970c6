"""Scenario 9: HTTP File Upload (XEP-0363) with slixmpp's xep_0363 plugin.

alice's client discovers the upload service on the server's domain (the
plugin wants the store/file identity and reads max-file-size from the
XEP-0128 form), uploads a file with upload_file over https, and the GET
URL serves the same bytes with the type. A file over the announced limit
is refused by the plugin itself (FileTooBig); asked for anyway, the server
answers not-acceptable with <file-too-large/> (§5).
"""

import io
import ssl

import aiohttp
from slixmpp import JID
from slixmpp.exceptions import IqError
from slixmpp.plugins.xep_0363.http_upload import FileTooBig

from skald_interop import DOMAIN, Client, check, fail, log, run

DATA = "Grüße from slixmpp\n".encode() * 10  # 210 bytes


async def main():
    alice = Client("alice", "phone", plugins=["xep_0030", "xep_0128", "xep_0363"])
    await alice.login()

    # slixmpp 1.8.3's get_info_from_domain hands coroutines to
    # asyncio.wait, which Python 3.11 refuses. Do its work (disco#info of
    # the domain and of each disco#items entry) and put the answers in the
    # cache it reads, so that the plugin's own discovery (identity,
    # feature, form) runs on them.
    disco = alice["xep_0030"]
    infos = [await disco.get_info(JID(DOMAIN), local=False, cached=False, timeout=5)]
    items = await disco.get_items(JID(DOMAIN), local=False, timeout=5)
    for item in items["disco_items"]["items"]:
        infos.append(await disco.get_info(JID(item[0]), local=False, cached=False, timeout=5))
    disco.domain_infos[JID(DOMAIN).domain] = infos

    url = await alice["xep_0363"].upload_file(
        "hello world.txt", size=len(DATA), content_type="text/plain",
        input_file=io.BytesIO(DATA), timeout=10)
    check(alice["xep_0363"].upload_service == JID(DOMAIN),
          "service found at %s, want the domain" % alice["xep_0363"].upload_service)
    check(alice["xep_0363"].max_file_size == 1000,
          "max-file-size read as %s" % alice["xep_0363"].max_file_size)
    check(url.startswith("https://localhost:") and url.endswith("/hello%20world.txt"), "GET URL %s" % url)
    log("uploaded to %s" % url)

    # SSL_CERT_FILE (set by the Go test) makes the default context trust
    # the server's self-signed certificate, verified for "localhost".
    async with aiohttp.ClientSession() as http:
        async with http.get(url, ssl=ssl.create_default_context()) as resp:
            body = await resp.read()
            check(resp.status == 200 and body == DATA, "GET: %d, %d bytes" % (resp.status, len(body)))
            check(resp.headers.get("Content-Type") == "text/plain", "Content-Type %s" % resp.headers.get("Content-Type"))
            check(resp.headers.get("X-Content-Type-Options") == "nosniff", "headers %s" % resp.headers)
    log("downloaded the same bytes")

    try:
        await alice["xep_0363"].upload_file("big.bin", size=1001, input_file=io.BytesIO(b"x" * 1001), timeout=10)
        fail("upload of 1001 bytes accepted")
    except FileTooBig:
        pass
    try:
        await alice["xep_0363"].request_slot(JID(DOMAIN), "big.bin", 1001, timeout=5)
        fail("slot of 1001 bytes granted")
    except IqError as e:
        err = e.iq["error"]
        check(err["condition"] == "not-acceptable", "too large: %s" % e.iq)
        too_large = err.xml.find("{urn:xmpp:http:upload:0}file-too-large")
        check(too_large is not None and too_large.findtext("{urn:xmpp:http:upload:0}max-file-size") == "1000",
              "too large: %s" % e.iq)
    log("a file over the limit is refused by the plugin and by the server")
    await alice.logout()


run(main)
