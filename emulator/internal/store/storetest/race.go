//go:build race

package storetest

// hugeList is how many values the suite's "any length" cases pass: under the race detector
// SQLite (compiled from C to Go) is some hundred times slower, and the lists only need to
// be long there, not longer than SQLite's limit of variables (the normal run checks that).
const hugeList = 2_000
