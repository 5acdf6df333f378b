package cli

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// emulator start's rate flags reach the emulator's Config (0 turns the limit off) and bad
// values are usage errors (exit 2).
func TestEmulatorStartRateFlags(t *testing.T) {
	for _, tc := range []struct {
		o     EmulatorStartOptions
		limit int
		off   bool
	}{
		{EmulatorStartOptions{RateLimit: 120, RateWindow: time.Minute}, 120, false},
		{EmulatorStartOptions{RateLimit: 0, RateWindow: time.Hour}, 0, true},
	} {
		cfg, err := tc.o.config("dir", nil)
		if err != nil || cfg.RateLimit != tc.limit || cfg.RateLimitOff != tc.off || cfg.RateWindow != tc.o.RateWindow || cfg.DataDir != "dir" {
			t.Errorf("%+v: config %+v, %v", tc.o, cfg, err)
		}
	}
	c := newCLI(t)
	for _, args := range [][]string{{"--rate-limit", "-1"}, {"--rate-window", "0s"}, {"--rate-window", "soon"}} {
		_, errOut, code := c.run("", append([]string{"emulator", "start", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, args...)...)
		if code != ExitUsage || !strings.Contains(errOut, args[0]) {
			t.Errorf("emulator start %v: exit %d, %q", args, code, errOut)
		}
	}
}

// A second emulator start on a data folder an emulator serves fails, naming the process that
// holds it and what to do.
func TestEmulatorStartFolderInUse(t *testing.T) {
	_, dir := startEmulator(t)
	_, msg, code := newCLI(t).run("", "emulator", "start", "--addr", "127.0.0.1:0", "--data", dir)
	if code != ExitError || !strings.Contains(msg, fmt.Sprintf("in use by another emulator (process %d)", os.Getpid())) || !strings.Contains(msg, "--data") {
		t.Errorf("second start: exit %d, %q", code, msg)
	}
}
