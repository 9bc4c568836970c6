// Package certs provides the server's TLS certificate: the configured files,
// or for zero-configuration setups a self-signed certificate generated into
// the data directory on first start and reused afterwards.
//
// A self-signed certificate is not trusted by clients; it makes a fresh
// server usable on localhost and in tests (clients must be told to accept
// it). Production servers configure tls.cert_file and tls.key_file with a
// certificate from a CA such as Let's Encrypt.
package certs
