"""An account imported with SCRAM-SHA-1 credentials only (Prosody's
default export), as slixmpp meets it.

1. slixmpp's first choice, SCRAM-SHA-256-PLUS, is refused with
   not-authorized (RFC 6120 section 6.5.10), and slixmpp tries the next
   mechanism on the same stream (section 6.4.5): SCRAM-SHA-1-PLUS gets in.
2. A PLAIN login (over TLS) makes the server derive the SHA-256
   credentials from the password.
3. From then on SCRAM-SHA-256-PLUS works at once.
"""

from skald_interop import Client, check, log, run


async def main():
    first = Client("migrated", "scram")
    await first.login()
    check(first.mechanism == "SCRAM-SHA-1-PLUS", "first login: got %s, want SCRAM-SHA-1-PLUS" % first.mechanism)
    check(len(first.failed_auth) == 1 and first.failed_auth[0][0] == "SCRAM-SHA-256-PLUS"
          and "not-authorized" in first.failed_auth[0][1],
          "first login: refusals %s, want SCRAM-SHA-256-PLUS refused with not-authorized" % first.failed_auth)
    first.assert_healthy()
    await first.logout()

    plain = Client("migrated", "plain", sasl_mech="PLAIN")
    await plain.login()
    check(plain.mechanism == "PLAIN" and not plain.failed_auth,
          "PLAIN login: %s, refusals %s" % (plain.mechanism, plain.failed_auth))
    await plain.logout()

    again = Client("migrated", "again")
    await again.login()
    check(again.mechanism == "SCRAM-SHA-256-PLUS" and not again.failed_auth,
          "after the PLAIN login: %s, refusals %s, want SCRAM-SHA-256-PLUS at once" % (again.mechanism, again.failed_auth))
    await again.sync()
    again.assert_healthy()
    await again.logout()
    log("SHA-1-only account: SCRAM-SHA-1 fallback on the same stream, completed by PLAIN, then SCRAM-SHA-256")


run(main)
