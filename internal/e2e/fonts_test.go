package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/pdftest"
)

// japaneseInvoice is the sample invoice to a Japanese company.
func japaneseInvoice(id string) map[string]any {
	inv := sampleInvoice(id)
	inv["customer"].(map[string]any)["name"] = "株式会社テスト"
	inv["lines"] = []any{map[string]any{"description": "東京オフィス賃料", "quantity": "1", "unitPrice": "1200.00", "taxRate": "19"}}
	return inv
}

// TestPDFFallbackFonts: with INVOICED_FONT_DIR, the PDF, downloaded and
// on the hosted page, prints Japanese in the operator's font.
func TestPDFFallbackFonts(t *testing.T) {
	t.Parallel()
	dir := pdftest.RequireCJKFonts(t)
	h := setup(t, func(o *options) { o.noWorker = true; o.fontDir = dir })
	token := h.tenant("ACME SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, japaneseInvoice("inv_jp")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_jp/finalize", token, nil))
	pdf := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_jp/pdf", token, nil))
	text := pdftest.Text(t, pdf.Raw)
	for _, want := range []string{"株式会社テスト", "東京オフィス賃料"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF does not print %s:\n%s", want, text)
		}
	}
	page := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_jp", token, nil)).data()["publicPdfUrl"].(string)
	public := h.must(http.StatusOK, h.do("GET", strings.TrimPrefix(page, h.URL), "", nil))
	if !strings.Contains(pdftest.Text(t, public.Raw), "株式会社テスト") {
		t.Error("the hosted PDF does not print the customer's name")
	}
}

// TestPDFMissingGlyphs: without a font for its characters, an invoice's
// PDF is a 422 naming the field and the character, on the API and the
// hosted page; a send that would attach it is refused the same way at
// once, and an email the worker starts on its own (the auto-email when
// the grace period finalizes a draft) fails at once with the same reason
// instead of carrying blank boxes.
func TestPDFMissingGlyphs(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.maxRetries = 3 })
	token := h.tenant("ACME SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, japaneseInvoice("inv_jp")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_jp/finalize", token, nil))

	page := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_jp", token, nil)).data()["publicPdfUrl"].(string)
	for _, path := range []string{"/api/v1/invoices/inv_jp/pdf", strings.TrimPrefix(page, h.URL)} {
		r := h.must(http.StatusUnprocessableEntity, h.do("GET", path, token, nil))
		checkGlyphError(t, "GET "+path, r)
	}

	r := h.must(http.StatusUnprocessableEntity, h.do("POST", "/api/v1/invoices/inv_jp/send", token, map[string]any{}))
	checkGlyphError(t, "POST …/send", r)
	if ds := h.deliveries(token, "inv_jp"); len(ds) != 0 {
		t.Fatalf("a refused send left deliveries: %v", ds)
	}
	// Without the PDF, the email can go.
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_jp/send", token, map[string]any{"attachPdf": false}))
	eventually(t, 10*time.Second, "the email without the PDF", func() bool { return len(h.emails()) == 1 })

	auto := h.limitedTenant(100, map[string]any{"gracePeriod": "1s", "autoEmailOnFinalize": true})
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", auto, japaneseInvoice("inv_auto")))
	eventually(t, 15*time.Second, "the auto email to fail", func() bool {
		ds := h.deliveries(auto, "inv_auto")
		return len(ds) == 1 && ds[0]["status"] == "failed"
	})
	// Had it been retried, a second attempt would follow within the
	// harness's 200 ms retry delay.
	time.Sleep(time.Second)
	d := h.deliveries(auto, "inv_auto")[0]
	attempts := d["attempts"].([]any)
	if len(attempts) != 1 || attempts[0].(map[string]any)["code"] != "render_failed" {
		t.Fatalf("attempts = %v, want one render_failed attempt", attempts)
	}
	if e, _ := d["error"].(string); !strings.Contains(e, "U+682A '株' in customer.name") {
		t.Fatalf("error = %q, want the character and its field", e)
	}
	if n := len(h.emails()); n != 1 {
		t.Fatalf("%d emails went out, want only the one without the PDF: one carried blank boxes", n)
	}
}

// checkGlyphError fails t unless r is invoice_not_renderable naming 株 in
// customer.name and 東 in lines[0].description.
func checkGlyphError(t *testing.T, what string, r response) {
	t.Helper()
	fields := r.errorFields()
	if r.errorCode() != "invoice_not_renderable" || !strings.Contains(r.errorMessage(), "U+682A '株' in customer.name") {
		t.Errorf("%s = %s, want invoice_not_renderable naming 株 in customer.name", what, r.Raw)
	}
	if f, _ := fields["customer.name"].(string); !strings.Contains(f, "U+682A '株'") {
		t.Errorf("%s: fields %v, want customer.name naming U+682A", what, fields)
	}
	if f, _ := fields["lines[0].description"].(string); !strings.Contains(f, "U+6771 '東'") {
		t.Errorf("%s: fields %v, want lines[0].description naming U+6771", what, fields)
	}
}
