//go:build race

package exchange

// raceEnabled shrinks the streamed-page comparisons under the race detector, where printing
// thousands of mailboxes twice takes a minute.
const raceEnabled = true
