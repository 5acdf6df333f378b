// Package keyring keeps exoctl's token-cache keys in the operating system's
// keyring: the Secret Service over D-Bus on Linux and the BSDs (GNOME
// Keyring, KeePassXC, KWallet's bridge), the Keychain on macOS, the
// Credential Manager on Windows, through github.com/zalando/go-keyring. A
// *Store is a tokencache.Keyring, so it plugs in as tokencache.Options.Keyring.
//
// # Reachable or not
//
// A keyring is used only when it answers now. Open probes it by looking up an
// entry that does not exist: on the Secret Service that connects to the
// session bus, unlocks the default collection and searches it, so a "not
// found" proves a secret could be stored and read back without a prompt. The
// probe runs in a goroutine and is abandoned after Options.Timeout (2 s by
// default), because D-Bus calls can hang when a secret service is
// activatable but never answers, or waits for a password prompt nobody sees.
// On Linux and the BSDs an empty DBUS_SESSION_BUS_ADDRESS means no keyring at
// once, without touching D-Bus (which would otherwise try dbus-launch). Every
// Get, Set and Delete is bounded by the same timeout.
//
// # EXOCTL_KEYRING
//
//	(unset), auto   use the OS keyring when reachable, else the caller's fallback
//	off             never use it (tests, CI, users who prefer the key file)
//	required        an unreachable keyring is an error, not a fallback
//
// Lookup applies it; Open ignores it and just probes. System is Lookup with the
// process environment, for callers that only want a yes or no.
//
// # Secrets
//
// go-keyring stores strings, so secrets are stored base64 (standard
// encoding). An entry that is not base64 is reported as
// tokencache.ErrBadKey. A missing entry is reported as
// tokencache.ErrKeyNotFound, which tokencache takes as "create a key". Secrets
// never appear in errors or logs; entries are named by service and account
// only.
package keyring
