//go:build !race

package opath

const raceEnabled = false
