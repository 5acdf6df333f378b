//go:build race

package opath

// raceEnabled makes the SQL property test try fewer filters under the race detector, where the
// pure-Go SQLite is some forty times slower.
const raceEnabled = true
