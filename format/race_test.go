//go:build race

package format

// raceDetector is true under -race, where the large golden test runs fewer combinations.
const raceDetector = true
