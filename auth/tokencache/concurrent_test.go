package tokencache

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// writerCycles runs n sign-ins the way MSAL does them: Replace, add a token,
// Export, each writer through its own Cache. It also rewrites a shared entry
// every time so that writers really collide.
func writerCycles(ctx context.Context, path, who string, n int) error {
	c, err := New(path, Options{})
	if err != nil {
		return err
	}
	m := newFakeMSAL()
	for i := range n {
		if err := c.Replace(ctx, m, cacheReplaceHints); err != nil {
			return err
		}
		m.put("AccessToken", fmt.Sprintf("%s-%d", who, i), "token")
		m.put("RefreshToken", who, strconv.Itoa(i))
		m.put("AppMetadata", "shared", who+strconv.Itoa(i))
		if err := c.Export(ctx, m, cacheExportHints); err != nil {
			return err
		}
	}
	return nil
}

func checkAllWriters(t *testing.T, path string, writers []string, n int) {
	t.Helper()
	got := readBlob(t, path, Options{})
	missing := 0
	for _, w := range writers {
		for i := range n {
			if _, ok := got.get("AccessToken", fmt.Sprintf("%s-%d", w, i)); !ok {
				missing++
			}
		}
		if v, _ := got.get("RefreshToken", w); v != strconv.Itoa(n-1) {
			t.Errorf("writer %s: refresh token %q, want its last (%d)", w, v, n-1)
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d tokens lost between concurrent writers", missing, len(writers)*n)
	}
	if _, ok := got.get("AppMetadata", "shared"); !ok {
		t.Error("shared entry lost")
	}
}

func TestConcurrentCachesInOneProcess(t *testing.T) {
	path := cachePath(t)
	mustNew(t, path, Options{}) // create the key before the race
	const n = 40
	writers := []string{"g0", "g1", "g2", "g3"}
	var wg sync.WaitGroup
	errs := make(chan error, len(writers))
	for _, w := range writers {
		wg.Go(func() {
			errs <- writerCycles(context.Background(), path, w, n)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkAllWriters(t, path, writers, n)
}

const helperEnv = "TOKENCACHE_TEST_WRITER"

// TestHelperWriterProcess is not a test: TestConcurrentProcesses re-executes
// the test binary with it to get real separate processes.
func TestHelperWriterProcess(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("helper process only")
	}
	var path, who string
	var n int
	if _, err := fmt.Sscanf(spec, "%s %s %d", &path, &who, &n); err != nil {
		t.Fatal(err)
	}
	if err := writerCycles(context.Background(), path, who, n); err != nil {
		fmt.Fprintln(os.Stderr, "writer:", err)
		os.Exit(3)
	}
}

func TestConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := cachePath(t)
	mustNew(t, path, Options{})
	const n = 60
	procs := []string{"p0", "p1", "p2", "p3"}
	var cmds []*exec.Cmd
	for _, p := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriterProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d", helperEnv, path, p, n))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	// And goroutines in this process at the same time.
	var wg sync.WaitGroup
	local := []string{"g0", "g1"}
	errs := make(chan error, len(local))
	for _, w := range local {
		wg.Go(func() { errs <- writerCycles(context.Background(), path, w, n) })
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("writer process: %v", err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkAllWriters(t, path, append(procs, local...), n)
	for _, name := range dirNames(t, filepath.Dir(path)) {
		switch name {
		case "cache.key", "tokens.bin", "tokens.bin.lock":
		default:
			t.Errorf("left behind: %s", name)
		}
	}
}
