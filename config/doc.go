// Package config loads Skald's TOML configuration file.
//
// Zero configuration: without a file (Default) the server serves the domain
// "localhost" from the data directory "./skald-data", with its SQLite
// database at skald-data/skald.db and a self-signed certificate generated
// into the data directory (package internal/certs).
//
// The file has core settings (top-level keys and the [c2s], [tls] and
// [storage] sections, decoded by Load) and module sections ([mam],
// [offline], ...). Module sections belong to the feature packages, which
// this package must not import: Load keeps each of them undecoded and the
// server decodes them with (*Config).DecodeSection into the module's own
// Config struct, pre-filled with that module's defaults. After all modules
// took their sections, (*Config).CheckAllSectionsClaimed reports sections no
// module uses (typically a typo in a section name).
//
// Strictness: a key this server does not know is an error, wherever it is
// (top level, core section or module section), and the error names the key
// and its line, because a silently ignored misspelled option ("requre_tls")
// is worse than a refusal to start.
//
// Durations (time.Duration fields, here and in module Config structs decoded
// through DecodeSection) accept Go duration strings ("5m", "90s") or integer
// seconds (300).
//
// [c2s] sasl_mechanisms is checked against the mechanisms package sasl
// implements (sasl.Mechanisms), the one Skald package below it that
// config imports besides jid.
//
// Relative paths in a file (data_dir, tls.cert_file, tls.key_file,
// storage.path) are relative to the directory holding the file; without a
// file, to the working directory.
//
// See skald.example.toml at the repository root for every core option and
// its default.
package config
