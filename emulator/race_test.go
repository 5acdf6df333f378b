//go:build race

package emulator_test

// raceDetector: the race detector slows TLS handshakes about tenfold, so load tests use fewer
// clients under it.
const raceDetector = true
