// Package capture reads the answers of the real service that public sources captured (kept,
// scrubbed, under exo/testdata/captures, each cited in the README beside them) and compares the
// shape of two JSON answers: keys, their order and JSON types, not values. With it the client is
// tested against what Exchange Online and Entra ID really sent, and the emulator is held to the
// same answers, so neither is tested only against the other.
package capture
