package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/exoctl/exoctl/emulator/emuinfo"
)

// EmulatorBinary is the program that carries the emulator: exoctl itself links none of it, so
// that a client run starts without it, and runs EmulatorBinary for `demo` and `emulator start`.
const EmulatorBinary = "exoctl-emulator"

// EmulatorConfig is what `exoctl demo` and `exoctl emulator start` ask of the emulator.
type EmulatorConfig struct {
	Addr    string
	DataDir string
	Seed    string
	Logger  *slog.Logger
	// ArcKeyDir is where the Azure Arc endpoint writes its challenge key files.
	ArcKeyDir string
	// RateLimit requests per RateWindow per tenant (the service's budget when 0), or none
	// with RateLimitOff.
	RateLimit    int
	RateWindow   time.Duration
	RateLimitOff bool
}

// Emulator is a running emulator.
type Emulator interface {
	Info() *emuinfo.Info
	Close() error
	Wait() error
}

// EmulatorStarter starts an emulator; Factory.StartEmulator holds one in exoctl-emulator.
type EmulatorStarter func(ctx context.Context, c EmulatorConfig) (Emulator, error)

// runEmulatorBinary runs exoctl-emulator with this process's arguments, for a command exoctl
// carries no emulator for. It looks next to exoctl, then on PATH; from a source checkout (go run)
// it builds it with go run, saying so.
func (f *Factory) runEmulatorBinary(ctx context.Context) error {
	path, argv, err := f.emulatorCommand()
	if err != nil {
		return err
	}
	if f.replaceProcess {
		// The emulator takes over this process: its pid, signals and exit code are exoctl's.
		// execProcess returns only when it could not.
		if err := execProcess(path, argv, os.Environ()); !errors.Is(err, errors.ErrUnsupported) {
			return fmt.Errorf("run %s: %w", path, err)
		}
	}
	cmd := exec.CommandContext(ctx, path, argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f.IO.In, f.IO.Out, f.IO.ErrOut
	cmd.Env = os.Environ()
	if home := f.Getenv("EXOCTL_HOME"); home != "" {
		cmd.Env = append(cmd.Env, "EXOCTL_HOME="+home)
	}
	// Ctrl-C stops the emulator as it stops by itself: it closes its store and says so.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && ctx.Err() == nil {
		return &exitError{code: exit.ExitCode()}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// emulatorCommand finds exoctl-emulator and the argument vector to run it with.
func (f *Factory) emulatorCommand() (path string, argv []string, err error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), EmulatorBinary+exeSuffix())
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, append([]string{p}, f.args...), nil
		}
	}
	if p, err := exec.LookPath(EmulatorBinary); err == nil {
		return p, append([]string{p}, f.args...), nil
	}
	if root := sourceRoot(); root != "" {
		if goTool, err := exec.LookPath("go"); err == nil {
			fmt.Fprintf(f.IO.ErrOut, "exoctl: %s is not installed; building it from the source in %s (go run ./cmd/%s)\n", EmulatorBinary, root, EmulatorBinary)
			pkg := filepath.Join(root, "cmd", EmulatorBinary)
			return goTool, append([]string{goTool, "run", pkg}, f.args...), nil
		}
	}
	return "", nil, fmt.Errorf("exoctl carries no emulator and %s is neither next to it nor on PATH: install it with `go install github.com/exoctl/exoctl/cmd/%s@latest` (or run this command as %s %s)",
		EmulatorBinary, EmulatorBinary, EmulatorBinary, strings.Join(f.args, " "))
}

// sourceRoot is the folder of exoctl's own go.mod, at or above the working directory, when
// exoctl runs from a source checkout; "" otherwise.
func sourceRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			first, _, _ := strings.Cut(string(b), "\n")
			if strings.TrimSpace(first) == "module github.com/exoctl/exoctl" {
				if _, err := os.Stat(filepath.Join(dir, "cmd", EmulatorBinary)); err == nil {
					return dir
				}
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// exitError carries the exit code of a program exoctl ran for a command.
type exitError struct{ code int }

func (e *exitError) Error() string {
	return fmt.Sprintf("%s exited with code %d", EmulatorBinary, e.code)
}
