package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/invoiced/invoiced/internal/chromiumtest"
	"github.com/invoiced/invoiced/internal/redistest"
)

// stressInvoice is an invoice at the limits of what the API accepts: the
// largest unit price and amounts, long descriptions and words, Japanese
// text, two VAT rates, notes and terms.
func stressInvoice(id string) map[string]any {
	inv := sampleInvoice(id)
	inv["customer"] = map[string]any{"name": "株式会社テスト", "email": "keiri@example.jp", "vatId": "JP1234567890123",
		"address": map[string]any{"line1": "千代田区丸の内1-1-1", "city": "Tokyo", "postalCode": "100-0005", "country": "JP"}}
	inv["lines"] = []any{
		map[string]any{"description": "東京オフィス賃料 (Tokyo office rent)", "quantity": "12", "unit": "mo", "unitPrice": "1234567.89", "taxRate": "19"},
		map[string]any{"description": "Infrastructure, a very long description of the work done over the year, with a long word: Donaudampfschifffahrtsgesellschaftskapitän", "quantity": "1", "unit": "pcs", "unitPrice": "9999900000000.00", "taxRate": "0"},
		map[string]any{"description": "Licences", "quantity": "123456.789", "unit": "pcs", "unitPrice": "12.34", "taxRate": "19"},
	}
	inv["notes"] = "Thank you for your business!\nPlease quote the invoice number with your payment."
	inv["terms"] = "Payment within 30 days. Late payments bear interest of 0.5% per month."
	return inv
}

// pageLayout is what the test measures in the browser.
type pageLayout struct {
	ScrollWidth, InnerWidth, ScrollHeight float64
	// QtyHead and QtyCells are the bounding boxes of the Qty heading and
	// of the lines' quantities: left, right, width, height.
	QtyHead  []float64
	QtyCells [][]float64
	Text     string
}

// measure reads the page's layout: its scroll width against the window's
// and where the Qty column is.
const measure = `(() => {
  const box = e => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
    return s.display === 'none' || s.visibility === 'hidden' ? [0, 0, 0, 0] : [r.left, r.right, r.width, r.height]; };
  return {
    ScrollWidth: document.documentElement.scrollWidth, InnerWidth: window.innerWidth,
    ScrollHeight: document.documentElement.scrollHeight,
    QtyHead: box(document.querySelector('th.qty')),
    QtyCells: [...document.querySelectorAll('td.qty')].map(box),
    Text: document.body.innerText,
  };
})()`

// TestHostedPageLayout opens the hosted page of a stress invoice in
// headless Chromium at a phone's width (390 px) and a desktop's (1280 px):
// nothing overflows sideways, the Qty column is on screen, and the page
// shows the seller's address and VAT id, the customer's country, the unit
// prices, the VAT per rate, the bank details and the notes and terms.
// With INVOICED_SCREENSHOTS set to a folder, it keeps hosted-390.png and
// hosted-1280.png there.
func TestHostedPageLayout(t *testing.T) {
	t.Parallel()
	ctx := chromiumtest.Browser(t, 60*time.Second)
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, stressInvoice("inv_stress")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_stress/finalize", token, nil))
	if _, err := h.Store.SetPaymentLink(t.Context(), h.tenantID(token), "inv_stress", "https://pay.example.com/c/pay_123?invoice=INV-stress&amount=1", "pay_123", nil, ""); err != nil {
		t.Fatal(err)
	}
	page := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_stress", token, nil)).data()["publicUrl"].(string)

	shots := os.Getenv("INVOICED_SCREENSHOTS")
	for _, width := range []int64{390, 1280} {
		var l pageLayout
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(width, 900),
			chromedp.Navigate(page),
			chromedp.WaitVisible("#total"),
			chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				var err error
				l, err = chromedp.Run(ctx, chromedp.Evaluate[pageLayout](measure))
				return err
			}),
		)
		if err != nil {
			t.Fatalf("at %d px: %v", width, err)
		}
		if l.InnerWidth != float64(width) {
			t.Fatalf("the window is %v px wide, want %d", l.InnerWidth, width)
		}
		if l.ScrollWidth > l.InnerWidth {
			t.Errorf("at %d px the page is %v px wide: it overflows sideways", width, l.ScrollWidth)
		}
		for i, b := range append([][]float64{l.QtyHead}, l.QtyCells...) {
			if b[2] <= 0 || b[3] <= 0 || b[0] < 0 || b[1] > l.InnerWidth {
				t.Errorf("at %d px Qty box %d is not on screen: left, right, width, height = %v", width, i, b)
			}
		}
		if len(l.QtyCells) != 3 {
			t.Errorf("at %d px %d quantities, want 3", width, len(l.QtyCells))
		}
		text := strings.ReplaceAll(l.Text, "\u00a0", " ")
		for _, want := range []string{
			"Str. Memorandumului 28", "VAT ID RO18547290", // the seller
			"株式会社テスト", "Japan", "VAT ID JP1234567890123", // the customer, with the country's name
			"Unit price", "€1,234,567.89", "€9,999,900,000,000.00", "12 mo", "123,456.789 pcs", // the lines
			"VAT 19%", "VAT 0%", // VAT per rate
			"Pay by bank transfer", "RO49 AAAA 1B31 0075 9384 0000", "AAAARO22", "Banca Demo", "Account holder", "INV-stress", // the bank
			"Notes", "Please quote the invoice number", "Payment terms", "Late payments bear interest", // notes and terms
		} {
			// Headings are upper-cased by the style sheet.
			if !strings.Contains(strings.ToLower(text), strings.ToLower(want)) {
				t.Errorf("at %d px the page does not show %q:\n%s", width, want, text)
			}
		}
		if shots != "" {
			// The whole page, as a window of its height shows it.
			out := filepath.Join(shots, fmt.Sprintf("hosted-%d.png", width))
			cmd := exec.Command(redistest.RequireTool(t, "chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
				"--user-data-dir="+t.TempDir(), "--screenshot="+out, fmt.Sprintf("--window-size=%d,%d", width, int(l.ScrollHeight)), page)
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("chromium --screenshot: %v\n%s", err, msg)
			}
		}
	}

	// In Romanian: the country's name and the VAT rate's label too.
	ro := string(h.must(http.StatusOK, h.do("GET", strings.TrimPrefix(page, h.URL)+"?language=ro", "", nil)).Raw)
	for _, want := range []string{"Japonia", "TVA 19 %", "Preț unitar", "Plată prin transfer bancar", "Titular cont"} {
		if !strings.Contains(strings.ReplaceAll(ro, "\u00a0", " "), want) {
			t.Errorf("the Romanian page does not show %q", want)
		}
	}

	// Once paid, nothing asks for a transfer.
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_stress/mark-paid", token, nil))
	r := h.must(http.StatusOK, h.do("GET", strings.TrimPrefix(page, h.URL), "", nil))
	if strings.Contains(string(r.Raw), `id="bank"`) {
		t.Error("a paid invoice's page shows the bank details")
	}
}
