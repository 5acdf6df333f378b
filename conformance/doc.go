// Package conformance runs clients nobody on this project wrote — MSAL Python, azure-identity,
// MSAL Node, MSAL Go — and the request sequences of well-known automation (CIPP's
// New-ExoRequest, go-exoscc's admin API client) against the emulator, each step asserting the
// answer the real service gives. The emulator is only as real as these clients find it.
//
// The Python and Node clients run as child processes (python/, node/) that print one JSON line
// per step; `.ci/run` installs them (Debian python3-msal and python3-azure, `npm ci` in node/)
// and sets EXOCTL_CI=1, under which a missing client fails instead of skipping.
package conformance
