package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/invoiced/invoiced/internal/chromiumtest"
	"github.com/redis/go-redis/v9"
)

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

	ctx := chromiumtest.Browser(t, 60*time.Second)
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

// TestTokenPagesNeitherCachedNorLogged: the pages a signed token opens
// tell browsers and proxies not to store them, and a failure on one never
// writes its token to the logs, where anyone reading them could open the
// invoice.
func TestTokenPagesNeitherCachedNorLogged(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_tok")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_tok/finalize", token, nil))
	if _, err := h.Store.SetPaymentLink(t.Context(), h.tenantID(token), "inv_tok", "https://pay.example.com/c/1", "pay_1", nil, ""); err != nil {
		t.Fatal(err)
	}
	page := strings.TrimPrefix(h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_tok", token, nil)).data()["publicUrl"].(string), h.URL)
	secret := strings.TrimPrefix(page, "/i/")

	for _, path := range []string{page, page + "/pdf", page + "/qr-code", page + "x", "/t/o/forged", "/t/c/forged"} {
		r := h.do("GET", path, "", nil)
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("GET %s: %d with Cache-Control %q, want no-store", path, r.Status, cc)
		}
		if v := r.Header.Get("X-Content-Type-Options"); v != "nosniff" {
			t.Errorf("GET %s: %d with X-Content-Type-Options %q, want nosniff", path, r.Status, v)
		}
	}

	// Unreadable settings make the hosted page fail with a 500, logged.
	rdb := redis.NewClient(&redis.Options{Addr: h.RedisAddr})
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.Set(t.Context(), "ivd:{"+h.tenantID(token)+"}:settings", "{not json", 0).Err(); err != nil {
		t.Fatal(err)
	}
	h.must(http.StatusInternalServerError, h.do("GET", page, "", nil))
	failed := h.Logs.FilterMessage("request failed").All()
	if len(failed) == 0 {
		t.Fatal("the failed hosted page was not logged")
	}
	for _, e := range h.Logs.All() {
		line, _ := json.Marshal(e.ContextMap())
		if strings.Contains(e.Message+string(line), secret) {
			t.Errorf("log %q %s holds the page's token", e.Message, line)
		}
	}
	if path := failed[0].ContextMap()["path"]; path != "/i/[token]" {
		t.Errorf("logged path %v, want /i/[token]", path)
	}
}
