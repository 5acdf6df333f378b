//go:build race

package main

// measureRows is smaller under the race detector, which makes every row ten times slower.
const measureRows = 30
