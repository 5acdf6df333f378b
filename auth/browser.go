package auth

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"time"
)

// OpenBrowser opens url in the system's browser: xdg-open (Linux, BSD), open (macOS) or the URL
// handler of rundll32 (Windows). It fails when no opener exists or the opener gives up soon,
// so the caller can print the URL instead.
func OpenBrowser(url string) error {
	var name string
	var args []string
	switch runtime.GOOS {
	case "windows":
		name, args = "rundll32", []string{"url.dll,FileProtocolHandler", url}
	case "darwin":
		name, args = "open", []string{url}
	default:
		name, args = "xdg-open", []string{url}
	}
	return startOpener(context.Background(), name, args, 3*time.Second)
}

// startOpener runs an opener without its output. Openers normally return at once; one still
// running after grace has most likely started the browser in the foreground, which counts as
// opened.
func startOpener(ctx context.Context, name string, args []string, grace time.Duration) error {
	path, err := exec.LookPath(name)
	if err != nil {
		return fmt.Errorf("no browser opener (%s): %w", name, err)
	}
	cmd := exec.Command(path, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("%s could not open a browser (exit status %d)", name, exit.ExitCode())
		}
		return err
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
