//go:build race

package store

// raceEnabled skips the 100,000-mailbox seed under the race detector, where it takes minutes.
const raceEnabled = true
