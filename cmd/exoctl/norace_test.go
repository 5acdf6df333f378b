//go:build !race

package main

// measureRows is the number of bulk rows the interrupt tests measure over.
const measureRows = 600
