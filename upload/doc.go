// Package upload implements HTTP File Upload (XEP-0363, version 1.1):
// clients ask the server for a slot over XMPP, PUT the file to the slot's
// URL over HTTP(S), and share the GET URL (Conversations, Monal, Dino,
// Gajim and Converse.js send every image and file this way).
//
// Where the service lives: on the server's own domain, not on an
// upload.<domain> component. Every client of the brief checks the
// server's disco#info for urn:xmpp:http:upload:0 before (or besides) its
// disco#items, so the feature, the store/file identity and the §3
// max-file-size form are in the domain's disco#info
// (router.ServerInfoProvider) and requests go to the domain. A subdomain would need the router to serve a domain it does not
// host, for nothing a client needs.
//
// Slots (§4, §5):
//   - A get <request filename size [content-type]/> to the domain from an
//     account of that domain gets a <slot> with a PUT and a GET URL:
//     PUBLIC/<id>/<filename>, with <id> 128 random bits (the file's only
//     protection, §8). The PUT URL adds the slot's size, content-type,
//     owner and expiry (SlotValidity after the grant), signed with an
//     HMAC under a key derived from the server secret (secret.key in the
//     data directory): nothing is kept for a slot until it is used, it
//     survives a restart, and it cannot be forged or altered. No <header>
//     elements are needed.
//   - An account of another domain: not-allowed (a permanent error).
//   - A missing or unsafe filename (path separators, control characters,
//     "." or "..", over 255 bytes), a size that is not a whole number, or a
//     malformed content-type: bad-request.
//   - size over max_file_size: not-acceptable with <file-too-large> and
//     <max-file-size> (§5).
//   - More than slots_per_minute requests in a minute, or a file that
//     would take the account over quota_per_user: resource-constraint
//     (type wait) with <retry stamp/> at the time the window frees, or at
//     which enough of the account's files will have expired (no stamp
//     when files never expire).
//
// HTTP (§6; Handler):
//   - PUT must come before the slot expires (else 403), carry a
//     Content-Length equal to the slot's size (400; 411 without one) and,
//     if the request named one, the same Content-Type (415). A bad
//     signature is 403. The body goes to a .part file; only once all of it
//     arrived is it renamed into place, after its meta (owner, name, size,
//     type, created) was written beside it as <id>.json: a cut upload
//     leaves nothing and may be retried while the slot is valid. A slot
//     that stored its file, or is being uploaded, is used: 409. The quota
//     is checked again (uploads in progress count): 413. Success is 201,
//     sent only once the upload is durable: the data file was fsynced
//     before its rename, the meta before its own, and the directory after
//     both renames, so a crash right after the 201 keeps the file (and a
//     crash before it leaves nothing that is served).
//   - GET and HEAD serve the file with its content type, Range and
//     conditional requests, X-Content-Type-Options: nosniff, a CSP that
//     runs nothing, and Content-Disposition (inline for media and plain
//     text, attachment otherwise) with the file name. Unknown ids, a wrong
//     name and expired files are 404.
//   - Slow clients: a PUT must arrive within a minute plus 8 KiB/s of its
//     size (read deadline); each write of a GET response must finish
//     within a minute (the write deadline moves as data flows), so a
//     reader that stops reading loses the connection and the open file.
//     At most max_connections connections are open at once
//     (LimitListener, below TLS); more clients wait to be accepted.
//   - Every answer carries Access-Control-Allow-Origin: *, and OPTIONS
//     answers CORS preflights, for browser clients.
//
// Files older than expires_after are removed by RunCleanup, every
// cleanup_interval, started by the server as a tracked background job.
//
// Config ([upload] in the configuration file; the service is off unless
// address is set):
//
//	address = ""               # host:port of the HTTP(S) listener
//	public_url = ""            # base URL for clients; "" = https://<first domain>:<port>
//	tls = true                 # https with the server's certificate
//	max_file_size = 104857600  # bytes per file (100 MiB)
//	quota_per_user = 1073741824  # bytes stored per account (1 GiB)
//	expires_after = "1w"       # like mam's archive_expires_after; "never" keeps files
//	cleanup_interval = "1h"
//	slots_per_minute = 30      # per account; 0 = no limit
//	max_connections = 1024     # HTTP connections open at once
//
// Feature: urn:xmpp:http:upload:0 on the server's domain, with the
// max-file-size form.
package upload
