package identity_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium package (apt-get install -y chromium).
const chromiumPath = "/usr/bin/chromium"

// chromiumFlags are the flags the test starts Chromium with; trustSPKI is the base64 SHA-256
// of the emulator's certificate's public key, which Chromium then trusts (the flag only works
// with a --user-data-dir).
func chromiumFlags(userDataDir, trustSPKI string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("user-data-dir", userDataDir),
		chromedp.Flag("ignore-certificate-errors-spki-list", trustSPKI),
	}
}

// MSAL Go's AcquireTokenInteractive with a real headless Chromium as the browser: the user
// fills the emulator's sign-in page, the page's script posts the code to MSAL's listener.
func TestInteractiveInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("EXOCTL_CI") == "1" {
			t.Fatalf("no Chromium at %s: .ci/run installs it (EXOCTL_CI=1 means it must): %v", chromiumPath, err)
		}
		t.Skipf("no Chromium at %s (apt-get install -y chromium): %v", chromiumPath, err)
	}
	e := newEnv(t)
	e.addUsers(t)
	spki := sha256.Sum256(e.ts.Certificate().RawSubjectPublicKeyInfo)
	accessToken, err := chromiumSignIn(t, e, base64.StdEncoding.EncodeToString(spki[:]))
	if err != nil {
		t.Fatal(err)
	}
	e.checkSignedIn(t, accessToken, exoRes, adminUPN, "pwd")
}

// chromiumSignIn runs one interactive sign-in in a fresh headless Chromium. Each step waits
// for what it needs rather than for a time: the DevTools address however long a loaded
// machine takes to start the browser, the page's loaded form before typing, the form
// submitted as a form (not a click racing the page's script), MSAL's page by its title.
func chromiumSignIn(t *testing.T, e *env, trustSPKI string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := append(chromiumFlags(t.TempDir(), trustSPKI), chromedp.WSURLReadTimeout(90*time.Second))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc() // kills the browser and waits for it
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(browserCtx); err != nil {
		return "", fmt.Errorf("start Chromium: %w", err)
	}
	// MSAL's page is known by events, not by polling the title: a script run while the
	// form_post navigates to MSAL's listener can land in a context the navigation destroys.
	var atMSAL atomic.Bool
	loaded := make(chan struct{}, 1)
	if err := chromedp.Listen(browserCtx, func(ev any) {
		switch ev := ev.(type) {
		case *page.EventFrameNavigated:
			if ev.Frame.ParentID == "" {
				atMSAL.Store(strings.HasPrefix(ev.Frame.URL, "http://localhost"))
			}
		case *page.EventLoadEventFired:
			if atMSAL.Load() {
				select {
				case loaded <- struct{}{}:
				default:
				}
			}
		}
	}); err != nil {
		return "", fmt.Errorf("listen to Chromium: %w", err)
	}
	app := e.publicClient(t)
	res, err := app.AcquireTokenInteractive(ctx, []string{exoRes + "/.default"},
		public.WithOpenURL(func(u string) error {
			return chromedp.Do(browserCtx,
				chromedp.Navigate(u),
				chromedp.WaitReady(chromedp.ID("password")),
				chromedp.SetValue(chromedp.ID("username"), adminUPN),
				chromedp.SetValue(chromedp.ID("password"), adminPass),
				chromedp.Submit(chromedp.ID("password")),
			)
		}))
	if err != nil {
		return "", fmt.Errorf("AcquireTokenInteractive: %w", err)
	}
	// The browser ends on MSAL's page, loaded.
	select {
	case <-loaded:
	case <-ctx.Done():
		return "", fmt.Errorf("browser did not load MSAL's page: %w", ctx.Err())
	}
	title, err := chromedp.Run(browserCtx, chromedp.Title())
	if err != nil || title != "Authentication Complete" {
		return "", fmt.Errorf("MSAL's page has the title %q (%v), want Authentication Complete", title, err)
	}
	return res.AccessToken, nil
}
