// Package tokencache keeps MSAL Go's token cache on disk between runs of
// exoctl: one file, encrypted with AES-256-GCM, mode 0600, safe when several
// exoctl processes use it at once. A *Cache is MSAL's cache.ExportReplace, so
// it plugs in with public.WithCache or confidential.WithCache.
//
// # Why encrypt
//
// MSAL's blob holds access and refresh tokens in plain text. The file is
// "EXOCTLTC", a version byte, a random 12-byte nonce and the AES-256-GCM
// ciphertext of the blob; the header is authenticated too. Files are written
// to a temp file in the same directory (0600 whatever the umask), fsynced and
// renamed over the old one, so no reader ever sees half a file, and the
// directory is created 0700.
//
// # The key
//
// With Options.Keyring the 32-byte key lives in a keyring under service
// "exoctl" and an account derived from the cache path. Keyring is an
// interface so that this package stays free of OS specifics: package
// auth/keyring plugs in the OS keyring (Secret Service, Keychain, Credential
// Manager) when one is reachable. Without a keyring the key is a 0600 file,
// Options.KeyFile (default "cache.key" beside the cache), created once by
// hard-linking a complete temp file into place. A key of the wrong size is an
// error wrapping ErrBadKey that says to delete it, which forgets cached
// tokens. Neither the key nor tokens ever appear in logs or error messages.
//
// WriteSealed and ReadSealed put other small secrets of a connection (a
// certificate key, a brought token) in the same format with the same key.
//
// # A bad file never fails a sign-in
//
// A file that is truncated, has a foreign header, fails to decrypt (wrong
// key, damage) or is not a blob MSAL can load is corrupt: it is renamed to
// "<path>.corrupt-<UTC timestamp>", a warning carrying a *CorruptError
// (wrapping ErrCorrupt, naming the reason, never the contents) goes to
// Options.Logger, and MSAL carries on with an empty cache, i.e. signs in
// again.
//
// # Two processes at once
//
// MSAL Go calls Replace and Export separately (apps/internal/base/base.go):
// every read (AcquireTokenSilent, Accounts, ...) calls Replace only; a write
// (AuthResultFromToken after a token answer, RemoveAccount) calls Replace,
// changes its in-memory cache, then Export. MSAL pairs them only under its own
// in-process mutex. Microsoft's persistent-cache extension locks a file around
// each call; in .NET, where the calls always come in pairs, it holds the lock
// from before-access to after-access. Here that pairing does not exist: a
// lock taken in Replace and released in Export would leak on every read,
// which has no Export, and the cache cannot tell a read's Replace from a
// write's. Locking each call alone leaves a window between the two: A and B
// both load S, A writes S+a, B writes S+b, and A's token is lost.
//
// So each call takes a lock on "<path>.lock" (gofrs/flock: flock(2) or
// LockFileEx, released by the OS if the process dies, so never stale) for
// itself only, and Export does a three-way merge under the exclusive lock:
//
//   - Replace takes the shared lock, reads, decrypts, unmarshals, releases,
//     and remembers the blob it loaded as the base of that MSAL cache object.
//   - Export marshals; if the bytes equal that base it writes nothing.
//     Otherwise it takes the exclusive lock and reads the file again. If the
//     file is still the base, it writes ours. If someone else wrote (or
//     deleted) it meanwhile, it applies only our changes (base -> ours, entry
//     by entry in each section of MSAL's JSON) onto what is there, and writes
//     that. Concurrent writers therefore keep each other's tokens, a removed
//     account stays removed, and a Disconnect in another process is not undone
//     by a stale copy. Where both changed one entry the later writer wins:
//     either is a valid token.
//
// Lost updates are thus impossible at entry granularity, torn files are
// impossible by rename, and no lock is held while MSAL talks to the network.
// Waits for the lock are bounded by the context, or 30 seconds when it has no
// deadline. The PartitionKey hints are ignored: one file holds the whole cache
// of one connection.
package tokencache
