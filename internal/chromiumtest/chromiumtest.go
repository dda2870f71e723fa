// Package chromiumtest starts Debian's headless Chromium for tests that
// look at a page as a browser lays it out.
package chromiumtest

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/invoiced/invoiced/internal/redistest"
)

// Browser starts a headless Chromium of its own for t, with a fresh
// profile, and returns a chromedp context that ends after timeout or with
// t. Outside CI the test skips when chromium is not installed; with
// CI=true it fails.
func Browser(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	bin := redistest.RequireTool(t, "chromium")
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}
