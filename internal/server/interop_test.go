package server_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/certs"
)

// The interop tests drive a real server with an independent client
// implementation, Debian's python3-slixmpp, so that our reading of the
// specs is checked against somebody else's. Each scenario is a script in
// testdata/interop that exits non-zero with a message on the first failed
// expectation. Without slixmpp they skip, unless SKALD_REQUIRE_INTEROP=1
// (CI), where a missing client is a failure. SKALD_INTEROP_DEBUG=1 makes
// the scripts log the XML they exchange (shown with -v or on failure);
// SKALD_TEST_LOG=1 shows the server's log.
//
// What the scripts learnt about slixmpp 1.8.3 (details where they work
// around it): it binds SCRAM-*-PLUS only to tls-unique, so on TLS 1.3 it
// falls back to PLAIN against a server that offers -PLUS (most clients
// here pin TLS 1.2 and get SCRAM-SHA-256-PLUS); its RSM iterator stops
// after the first page when paging backwards from a server that sends
// first@index; and it drops its unacked queue when it sends <resume/>.

// interopPython is the system interpreter: slixmpp is a Debian package, and
// the python3 first on PATH may be another installation without it.
const interopPython = "/usr/bin/python3"

var (
	slixmppOnce sync.Once
	slixmppErr  string
)

// interopEnv is the environment for the system interpreter, without the
// variables that point a Python at another installation's library.
func interopEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYTHONPATH=") && !strings.HasPrefix(kv, "PYTHONHOME=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func requireSlixmpp(t *testing.T) {
	t.Helper()
	slixmppOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, interopPython, "-c", "import slixmpp")
		cmd.Env = interopEnv()
		out, err := cmd.CombinedOutput()
		if err != nil {
			slixmppErr = err.Error() + ": " + string(out)
		}
	})
	if slixmppErr == "" {
		return
	}
	if os.Getenv("SKALD_REQUIRE_INTEROP") == "1" {
		t.Fatalf("SKALD_REQUIRE_INTEROP=1 but %s cannot import slixmpp: %s", interopPython, slixmppErr)
	}
	t.Skipf("%s cannot import slixmpp (apt install python3-slixmpp): %s", interopPython, slixmppErr)
}

// runInterop starts a server and runs testdata/interop/<script> against it,
// failing the test with the script's output if it does not exit 0.
func runInterop(t *testing.T, script string) {
	t.Helper()
	runInteropWith(t, script, func() (*testServer, []string) { return startServer(t, nil, nil), nil })
}

// runInteropWith is runInterop on the server startWith returns, with its extra
// environment for the script.
func runInteropWith(t *testing.T, script string, startWith func() (*testServer, []string)) {
	t.Helper()
	requireSlixmpp(t)
	t.Parallel()
	s, extraEnv := startWith()

	dir, err := filepath.Abs(filepath.Join("testdata", "interop"))
	if err != nil {
		t.Fatal(err)
	}
	// The script's own deadline is 40 s; this one only catches a hung
	// interpreter.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, interopPython, "-u", filepath.Join(dir, script))
	cmd.Dir = dir
	cmd.Env = interopEnv(
		"SKALD_ADDR="+s.addr,
		"SKALD_TLS_ADDR="+s.tlsAddr,
		"SKALD_DOMAIN=localhost",
		"PYTHONDONTWRITEBYTECODE=1",
		// slixmpp's debug log (every stanza sent and received) is shown
		// only when the script fails, where it is what tells a
		// server-side fault from a client-side one.
		"SKALD_INTEROP_DEBUG=1",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err = cmd.Run()
	if err != nil || ctx.Err() != nil {
		t.Fatalf("%s failed after %v (%v); output:\n%s", script, time.Since(start).Round(time.Millisecond), err, out.String())
	}
	if testing.Verbose() {
		t.Logf("%s passed in %v; output:\n%s", script, time.Since(start).Round(time.Millisecond), out.String())
	}
}

// TestInteropLoginAndChat: alice and bob log in over STARTTLS with SCRAM,
// become mutual contacts through slixmpp's automatic subscription
// handling, see each other online and chat both ways with bodies that
// need escaping.
func TestInteropLoginAndChat(t *testing.T) { runInterop(t, "login_chat.py") }

// TestInteropCarbons: two resources of alice's enable carbons with
// slixmpp's XEP-0280 plugin and see received and sent copies.
func TestInteropCarbons(t *testing.T) { runInterop(t, "carbons.py") }

// TestInteropMAMPaging: 300 messages paged through with slixmpp's
// XEP-0313/XEP-0059 iterator forwards and backwards; archive ids match the
// live stanza-ids.
func TestInteropMAMPaging(t *testing.T) { runInterop(t, "mam_paging.py") }

// TestInteropFulltext: XEP-0431 with slixmpp's MAM plugin: the feature
// and the form field are advertised, and searches with the field added
// to slixmpp's query form page through the matches with its RSM
// iterator in both directions, case- and accent-insensitive.
func TestInteropFulltext(t *testing.T) { runInterop(t, "fulltext.py") }

// TestInteropStreamManagement: slixmpp's XEP-0198 plugin enables stream
// management, gets every stanza acked, and resumes after the connection
// is cut.
func TestInteropStreamManagement(t *testing.T) { runInterop(t, "stream_management.py") }

// TestInteropCSI: slixmpp's XEP-0352 plugin goes inactive and active; the
// inactive client gets only the latest presence, with the next message,
// and no chat state.
func TestInteropCSI(t *testing.T) { runInterop(t, "csi.py") }

// TestInteropBlocking: slixmpp's XEP-0191 plugin blocks and unblocks a
// contact; pushes reach the other resource, messages are refused both
// ways while blocked and flow again after.
func TestInteropBlocking(t *testing.T) { runInterop(t, "blocking.py") }

// TestInteropDirectTLS: login over the XEP-0368 direct TLS port.
func TestInteropDirectTLS(t *testing.T) { runInterop(t, "direct_tls.py") }

// TestInteropVCardPrivate: slixmpp's XEP-0054 plugin publishes a vCard
// with a photo that another resource and another user read back; its
// XEP-0049 plugin stores XEP-0048 bookmarks that the other resource
// reads, and that another user may not.
func TestInteropVCardPrivate(t *testing.T) { runInterop(t, "vcard_private.py") }

// TestInteropBookmarksCompat: slixmpp's XEP-0048 plugin stores bookmarks
// in private XML that its pubsub plugin reads as XEP-0402 items, and the
// items it publishes and retracts there show in the private list
// (XEP-0402 §5, #compat).
func TestInteropBookmarksCompat(t *testing.T) { runInterop(t, "bookmarks_compat.py") }

// TestInteropAvatarConversion: slixmpp's XEP-0084 plugin publishes an
// avatar that its vCard plugin reads as the photo, its XEP-0153 plugin
// sets a vCard photo that the XEP-0084 plugin reads as the avatar, and
// presence carries the hash the server adds (XEP-0398).
func TestInteropAvatarConversion(t *testing.T) { runInterop(t, "avatar_conversion.py") }

// TestInteropUpload: slixmpp's XEP-0363 plugin finds the service on the
// domain (identity, feature, max-file-size form), uploads with upload_file
// over https (the server's self-signed certificate, trusted through
// SSL_CERT_FILE), and the file downloads back; a file over the limit is
// refused by the plugin from the form, and by the server (§5) when asked
// anyway.
func TestInteropUpload(t *testing.T) {
	runInteropWith(t, "upload.py", func() (*testServer, []string) {
		s := startUploadServer(t, "max_file_size = 1000\n")
		return s, []string{"SSL_CERT_FILE=" + filepath.Join(s.Config.DataDir, certs.SelfSignedCertFile)}
	})
}

// TestInteropPEP: slixmpp's XEP-0163/XEP-0118 plugins: the server learns
// the clients' +notify interests from their caps, a published user tune
// reaches the subscribed contact as a headline event, can be read back,
// and a resource coming online later gets the last published item.
func TestInteropPEP(t *testing.T) { runInterop(t, "pep.py") }

// TestInteropLastActivity: slixmpp's XEP-0012 plugin asks an account's
// last activity: 0 while online, the seconds since its unavailable
// presence and its status afterwards, forbidden without a subscription.
func TestInteropLastActivity(t *testing.T) { runInterop(t, "last_activity.py") }

// TestInteropContactAddresses: slixmpp's XEP-0030/XEP-0128 plugins read
// the XEP-0157 serverinfo form from the domain's disco#info.
func TestInteropContactAddresses(t *testing.T) {
	runInteropWith(t, "contact_info.py", func() (*testServer, []string) {
		return startServerConfig(t, loadConfigFile(t, contactSection), nil, nil), nil
	})
}

// TestInteropMUC: slixmpp's XEP-0045 plugin creates a room, accepts the
// instant room, enters from a second account and exchanges a groupchat
// message carrying the room's stanza-id; its XEP-0313 plugin finds the
// message in the room's archive under that id; the owner sets the room's
// avatar (XEP-0486) with its XEP-0054 plugin, the other account reads it
// and its hash in the room's disco#info.
func TestInteropMUC(t *testing.T) { runInterop(t, "muc.py") }

// TestInteropRegister: slixmpp's XEP-0077 plugin registers an account
// before authenticating (on a server with allow_registration) and logs in
// with it on the same stream, changes the password (new one logs in, old
// one refused), and cancels the account (both streams end with
// not-authorized; the account is gone).
func TestInteropRegister(t *testing.T) {
	runInteropWith(t, "register.py", func() (*testServer, []string) {
		return startRegisterServer(t, "allow_registration = true"), nil
	})
}

// TestInteropAdhoc: slixmpp's XEP-0050 plugin as an administrator's
// client finds the admin commands, adds an account through the
// command workflow (the new user logs in), counts online users and
// cancels a command; a non-admin sees no commands and is forbidden.
func TestInteropAdhoc(t *testing.T) {
	runInteropWith(t, "adhoc.py", func() (*testServer, []string) { return startAdminServer(t), nil })
}

// TestInteropDisable: slixmpp as an administrator's client disables an
// account (XEP-0133 disable-user); the account's slixmpp stream ends
// with policy-violation saying it is disabled, its next login is refused
// with account-disabled (RFC 6120 §6.5.1) for each mechanism slixmpp
// tries, and after reenable-user it logs in again.
func TestInteropDisable(t *testing.T) {
	runInteropWith(t, "disable.py", func() (*testServer, []string) { return startAdminServer(t), nil })
}
