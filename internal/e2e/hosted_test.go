package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/invoiced/invoiced/internal/redistest"
)

// browser starts Debian's headless Chromium for one test.
func browser(t *testing.T) context.Context {
	t.Helper()
	bin := redistest.RequireTool(t, "chromium")
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// TestHostedInvoicePage opens the public page in headless Chromium at a
// phone's and a desktop's width: it renders, its Pay button goes to the
// payment link, the PDF link serves the PDF. With INVOICED_SCREENSHOTS set
// to a folder, the screenshots are kept there to be looked at.
func TestHostedInvoicePage(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())
	inv := sampleInvoice("inv_page")
	inv["lines"] = append(inv["lines"].([]any), map[string]any{"description": "Găzduire web — abonament anual", "quantity": "1", "unitPrice": "240.00", "taxRate": "19"})
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, inv))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_page/finalize", token, nil))
	const link = "https://pay.example.com/c/pay_123"
	if _, err := h.Store.SetPaymentLink(t.Context(), h.tenantID(token), "inv_page", link, "pay_123", nil, ""); err != nil {
		t.Fatal(err)
	}
	got := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_page", token, nil)).data()
	page := got["publicUrl"].(string)
	if !strings.HasPrefix(page, h.URL+"/i/") || got["publicPdfUrl"] != page+"/pdf" {
		t.Fatalf("publicUrl %v, publicPdfUrl %v", page, got["publicPdfUrl"])
	}
	// A forged token is not found.
	if r := h.do("GET", strings.TrimPrefix(page, h.URL)+"x", "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("forged page token: %d", r.Status)
	}

	ctx := browser(t)
	shots := os.Getenv("INVOICED_SCREENSHOTS")
	for _, width := range []int64{390, 1280} {
		var href, pdf, total string
		var shot []byte
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(width, 900),
			chromedp.Navigate(page),
			chromedp.WaitVisible("#pay"),
			chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				res, err := chromedp.Run(ctx, chromedp.AttributeValue("#pay", "href"))
				href = res.Value
				if err != nil {
					return err
				}
				res, err = chromedp.Run(ctx, chromedp.AttributeValue("#pdf", "href"))
				pdf = res.Value
				if err != nil {
					return err
				}
				if total, err = chromedp.Run(ctx, chromedp.Text("#total")); err != nil {
					return err
				}
				shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
				return err
			}),
		)
		if err != nil {
			t.Fatalf("at %d px: %v", width, err)
		}
		if href != link {
			t.Errorf("at %d px the Pay button goes to %q, want %q", width, href, link)
		}
		if pdf != page+"/pdf" {
			t.Errorf("PDF link %q", pdf)
		}
		if total != "€1,416.10" {
			t.Errorf("total shows %q, want €1,416.10", total)
		}
		if len(shot) < 1000 {
			t.Errorf("screenshot at %d px is empty", width)
		}
		if shots != "" {
			_ = os.WriteFile(filepath.Join(shots, "hosted-"+map[int64]string{390: "phone", 1280: "desktop"}[width]+".png"), shot, 0o644)
		}
	}
	if r := h.do("GET", strings.TrimPrefix(page, h.URL)+"/pdf", "", nil); r.Status != http.StatusOK {
		t.Fatalf("public PDF: %d", r.Status)
	}

	// Once paid, the page says so and offers no Pay button.
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_page/mark-paid", token, nil))
	r := h.do("GET", strings.TrimPrefix(page, h.URL), "", nil)
	if !strings.Contains(string(r.Raw), `id="status">Paid<`) || strings.Contains(string(r.Raw), `id="pay"`) {
		t.Fatalf("paid page:\n%s", r.Raw)
	}
}
