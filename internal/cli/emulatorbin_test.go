package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/exoctl/exoctl/emulator"
	"github.com/exoctl/exoctl/emulator/emuinfo"
)

// builtinEmulator is exoctl-emulator's EmulatorStarter for the tests, which run as
// exoctl-emulator does.
func builtinEmulator(ctx context.Context, c EmulatorConfig) (Emulator, error) {
	e, err := emulator.Start(ctx, emulator.Config{
		Addr: c.Addr, DataDir: c.DataDir, Seed: c.Seed, Logger: c.Logger, ArcKeyDir: c.ArcKeyDir,
		RateLimit: c.RateLimit, RateWindow: c.RateWindow, RateLimitOff: c.RateLimitOff,
	})
	if err != nil {
		return nil, err
	}
	return testEmulator{e}, nil
}

type testEmulator struct{ *emulator.Emulator }

func (e testEmulator) Info() *emuinfo.Info { return &e.Emulator.Info }

// exoctl itself links no emulator: neither the emulator's packages nor SQLite nor the sign-in
// pages' templates are in its build.
func TestClientLinksNoEmulator(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to list the build")
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/exoctl/exoctl/cmd/exoctl").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if (strings.HasPrefix(pkg, "github.com/exoctl/exoctl/emulator") && pkg != "github.com/exoctl/exoctl/emulator/emuinfo") ||
			strings.HasPrefix(pkg, "modernc.org/") || pkg == "html/template" {
			t.Errorf("cmd/exoctl links %s", pkg)
		}
	}
}

// Without a built-in emulator, demo and emulator start run exoctl-emulator with the same
// arguments, and its exit code is exoctl's.
func TestDemoRunsEmulatorBinary(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in exoctl-emulator is a shell script")
	}
	bin := t.TempDir()
	script := "#!/bin/sh\necho \"args: $*\"\necho \"home: $EXOCTL_HOME\"\nexit 3\n"
	if err := os.WriteFile(filepath.Join(bin, EmulatorBinary), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, args := range [][]string{{"demo"}, {"emulator", "start", "--addr", "127.0.0.1:0", "--seed", "msp"}} {
		var out, errOut bytes.Buffer
		home := t.TempDir()
		f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
			Getenv: func(k string) string {
				if k == "EXOCTL_HOME" {
					return home
				}
				return ""
			}}
		f.Logger = newWarnLogger(&errOut, false)
		code := Main(context.Background(), f, args)
		if code != 3 {
			t.Errorf("exoctl %v: exit %d, want the child's 3; stderr %q", args, code, errOut.String())
		}
		if want := "args: " + strings.Join(args, " ") + "\nhome: " + home + "\n"; out.String() != want {
			t.Errorf("exoctl %v ran exoctl-emulator with\n%q, want\n%q", args, out.String(), want)
		}
		if errOut.Len() != 0 {
			t.Errorf("exoctl %v printed %q; the child's exit needs no words of exoctl's", args, errOut.String())
		}
	}
}

// With no exoctl-emulator anywhere and no source checkout, the error says how to install it.
func TestEmulatorBinaryMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Chdir(t.TempDir())
	var out, errOut bytes.Buffer
	f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, Getenv: func(string) string { return "" }}
	f.Logger = newWarnLogger(&errOut, false)
	if code := Main(context.Background(), f, []string{"demo"}); code != ExitError {
		t.Fatalf("exit %d, want %d", code, ExitError)
	}
	if !strings.Contains(errOut.String(), "go install github.com/exoctl/exoctl/cmd/exoctl-emulator@latest") {
		t.Errorf("error %q does not say how to install exoctl-emulator", errOut.String())
	}
}
