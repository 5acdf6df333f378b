package keyring

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoctl/exoctl/auth/tokencache"
)

// TestSecretService round-trips secrets through a real Secret Service: a
// private D-Bus session bus and gnome-keyring-daemon started for the test in a
// temporary folder (never the user's own keyring), both stopped at the end.
func TestSecretService(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service test runs on Linux")
	}
	for _, cmd := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(cmd); err != nil {
			skipOutsideCI(t, "%s not on PATH (apt-get install dbus gnome-keyring): %v", cmd, err)
		}
	}
	addr := startSecretService(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	t.Setenv(EnvVar, "required")

	var s *Store
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The daemon claims org.freedesktop.secrets a moment after it starts.
		if s, err = Lookup(context.Background(), Options{}); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("the Secret Service did not answer: %v", err)
	}
	if kr, ok := System(context.Background()); !ok || kr == nil {
		t.Error("System says the Secret Service is not reachable")
	}

	account := "test-" + filepath.Base(t.TempDir())
	secret := []byte{0, 0xff, 'k', 'e', 'y', '\n', 0}
	if _, err := s.Get(tokencache.KeyringService, account); !errors.Is(err, tokencache.ErrKeyNotFound) {
		t.Fatalf("Get before Set: %v, want ErrKeyNotFound", err)
	}
	if err := s.Set(tokencache.KeyringService, account, secret); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(tokencache.KeyringService, account); err != nil || string(got) != string(secret) {
		t.Fatalf("Get = %v, %v; want %v", got, err, secret)
	}
	secret[0] = 1
	if err := s.Set(tokencache.KeyringService, account, secret); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(tokencache.KeyringService, account); err != nil || string(got) != string(secret) {
		t.Fatalf("Get after replacing = %v, %v; want %v", got, err, secret)
	}
	if err := s.Delete(tokencache.KeyringService, account); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(tokencache.KeyringService, account); !errors.Is(err, tokencache.ErrKeyNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrKeyNotFound", err)
	}
	if err := s.Delete(tokencache.KeyringService, account); err != nil {
		t.Errorf("second Delete: %v", err)
	}

	// tokencache keeps its key there: a sealed file written in one "run" reads in the next.
	path := filepath.Join(t.TempDir(), "secrets.enc")
	if err := tokencache.WriteSealed(path, []byte("hello"), tokencache.Options{Keyring: s}); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := tokencache.ReadSealed(path, tokencache.Options{Keyring: s2}); err != nil || string(b) != "hello" {
		t.Errorf("ReadSealed = %q, %v", b, err)
	}
	acct, err := tokencache.KeyringAccount(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Delete(tokencache.KeyringService, acct); err != nil {
		t.Fatal(err)
	}
	if _, err := tokencache.ReadSealed(path, tokencache.Options{Keyring: s2}); !errors.Is(err, tokencache.ErrCorrupt) {
		t.Errorf("ReadSealed after deleting its key: %v, want ErrCorrupt", err)
	}
}

// startSecretService starts dbus-daemon on a socket in a temporary folder and
// gnome-keyring-daemon (secrets component, login keyring unlocked with a test
// password, data in that folder) on it, stops both when the test ends, and
// returns the bus address.
func startSecretService(t *testing.T) string {
	t.Helper()
	// A short path: unix socket paths are limited to ~100 bytes.
	dir, err := os.MkdirTemp("", "exoctl-kr-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })

	// Our own bus configuration: no service directories, so the bus never
	// activates a keyring daemon of its own (which would use the real $HOME).
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(busConfig(filepath.Join(dir, "bus"))), 0o600); err != nil {
		t.Fatal(err)
	}
	bus := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--nopidfile", "--print-address=1")
	var logs strings.Builder // the daemons' complaints, shown if the test fails
	t.Cleanup(func() {
		if t.Failed() && logs.Len() > 0 {
			t.Logf("daemon output:\n%s", logs.String())
		}
	})
	bus.Stderr = &syncWriter{w: &logs}
	out, err := bus.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Start(); err != nil {
		skipOutsideCI(t, "cannot start dbus-daemon: %v", err)
	}
	t.Cleanup(func() { stop(bus) })
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- strings.TrimSpace(line)
	}()
	var addr string
	select {
	case addr = <-lines:
	case <-time.After(10 * time.Second):
		t.Fatal("dbus-daemon printed no address")
	}
	if addr == "" {
		t.Fatal("dbus-daemon printed no address")
	}

	kr := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	kr.Env = append(os.Environ(),
		"DBUS_SESSION_BUS_ADDRESS="+addr,
		"HOME="+dir,
		"XDG_DATA_HOME="+filepath.Join(dir, "data"),
		"XDG_RUNTIME_DIR="+dir,
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
	)
	kr.Stdin = strings.NewReader("exoctl-test-password")
	kr.Stdout, kr.Stderr = bus.Stderr, bus.Stderr
	if err := kr.Start(); err != nil {
		skipOutsideCI(t, "cannot start gnome-keyring-daemon: %v", err)
	}
	t.Cleanup(func() { stop(kr) })
	return addr
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func busConfig(socket string) string {
	return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=` + socket + `</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`
}

// stop ends a daemon the test started and reaps it.
func stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// skipOutsideCI skips the test, except under .ci/run (EXOCTL_CI=1), which installs what it needs:
// there a missing Secret Service is a failure, not a skip.
func skipOutsideCI(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("EXOCTL_CI") == "1" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}
