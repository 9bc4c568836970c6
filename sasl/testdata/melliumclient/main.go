// Command melliumclient is a SASL client built on mellium.im/sasl, used by
// interop_test.go as an independent implementation to authenticate against
// this package's server. It is compiled by the test in a temporary module
// (it is not part of the skald module, which does not depend on mellium).
//
// Wire protocol with the test (one line each, over TCP or TLS):
//
//	client: AUTH <base64 initial response>
//	server: CHAL <base64> | OK <base64 or -> | FAIL <condition> <server-error or ->
//	client: RESP <base64>
//
// Exit status: 0 when the server accepted and its signature verified, 1 on a
// server failure (prints "FAIL <condition>"), 2 on any other error.
package main

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"

	"mellium.im/sasl"
)

func main() {
	addr := flag.String("addr", "", "server address")
	tlsVer := flag.String("tls", "none", "none, 1.2 or 1.3")
	mechName := flag.String("mech", "", "mechanism")
	user := flag.String("user", "", "username")
	pass := flag.String("pass", "", "password")
	authz := flag.String("authz", "", "authorization identity")
	remote := flag.String("remote", "", "comma separated mechanisms the server advertised")
	flag.Parse()

	mechs := map[string]sasl.Mechanism{
		"SCRAM-SHA-1": sasl.ScramSha1, "SCRAM-SHA-1-PLUS": sasl.ScramSha1Plus,
		"SCRAM-SHA-256": sasl.ScramSha256, "SCRAM-SHA-256-PLUS": sasl.ScramSha256Plus,
		"PLAIN": sasl.Plain,
	}
	mech, ok := mechs[*mechName]
	if !ok {
		die("unknown mechanism %q", *mechName)
	}

	var conn net.Conn
	conn, err := net.Dial("tcp", *addr)
	if err != nil {
		die("dial: %v", err)
	}
	defer conn.Close()
	opts := []sasl.Option{
		sasl.Credentials(func() ([]byte, []byte, []byte) {
			return []byte(*user), []byte(*pass), []byte(*authz)
		}),
	}
	if *remote != "" {
		opts = append(opts, sasl.RemoteMechanisms(strings.Split(*remote, ",")...))
	}
	if *tlsVer != "none" {
		v := uint16(tls.VersionTLS13)
		if *tlsVer == "1.2" {
			v = tls.VersionTLS12
		}
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
		if err := tc.Handshake(); err != nil {
			die("handshake: %v", err)
		}
		opts = append(opts, sasl.TLSState(tc.ConnectionState()))
		conn = tc
	}

	c := sasl.NewClient(mech, opts...)
	_, resp, err := c.Step(nil)
	if err != nil {
		die("client start: %v", err)
	}
	fmt.Fprintf(conn, "AUTH %s\n", base64.StdEncoding.EncodeToString(resp))
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			die("read: %v", err)
		}
		verb, arg, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		switch verb {
		case "CHAL":
			data, err := base64.StdEncoding.DecodeString(arg)
			if err != nil {
				die("bad challenge: %v", err)
			}
			_, resp, err := c.Step(data)
			if err != nil {
				die("client step: %v", err)
			}
			fmt.Fprintf(conn, "RESP %s\n", base64.StdEncoding.EncodeToString(resp))
		case "OK":
			if arg != "-" {
				data, err := base64.StdEncoding.DecodeString(arg)
				if err != nil {
					die("bad success data: %v", err)
				}
				if _, _, err := c.Step(data); err != nil {
					die("server final rejected: %v", err)
				}
			}
			fmt.Println("OK")
			return
		case "FAIL":
			fmt.Println("FAIL " + arg)
			os.Exit(1)
		default:
			die("unexpected line %q", line)
		}
	}
}

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(2)
}
