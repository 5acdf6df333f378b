//go:build !race

package storetest

// hugeList is how many values the suite's "any length" cases pass: more than SQLite's
// 32,766 variables, so that a store binding one variable per value fails.
const hugeList = 40_000
