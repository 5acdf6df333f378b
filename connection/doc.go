// Package connection is exoctl's saved connections: the profiles `exoctl connect` writes
// (no secrets), their encrypted secrets and per-connection token caches, selection by Id,
// ConnectionId or prefix, reopening one as an *exo.Session without the user, and fan-out of
// one sign-in over many tenants. The CLI and Go programs share it, as gh's commands and
// extensions share its config: a program can reopen what `exoctl connect` saved.
package connection
