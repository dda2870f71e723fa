package e2e

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/internal/pdftest"
	"github.com/invoiced/invoiced/internal/redistest"
)

func smallPNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 120, 40))
	for x := range 120 {
		for y := range 40 {
			img.Set(x, y, color.RGBA{R: 200, G: uint8(x), B: uint8(y * 5), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBrandingReachesThePDF sets a logo, an accent colour and Letter paper
// and reads them back from the PDF the API serves.
func TestBrandingReachesThePDF(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	settings := acmeSettings()
	b := settings["branding"].(map[string]any)
	b["logo"] = smallPNG(t) // encoding/json sends []byte as base64
	b["accentColor"] = "#8A1538"
	b["paperSize"] = "Letter"
	token := h.tenant("ACME SRL", settings)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_b")))
	pdf := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_b/pdf?language=de", token, nil))

	redistest.RequireTool(t, "pdfinfo")
	redistest.RequireTool(t, "pdfimages")
	f := filepath.Join(t.TempDir(), "b.pdf")
	if err := os.WriteFile(f, pdf.Raw, 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := exec.Command("pdfinfo", f).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(info), "612 x 792") {
		t.Errorf("page size is not Letter:\n%s", info)
	}
	images, err := exec.Command("pdfimages", "-list", f).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(images), " 120 ") {
		t.Errorf("the 120×40 logo is not in the PDF:\n%s", images)
	}
	if text := pdftest.Text(t, pdf.Raw); !strings.Contains(text, "Rechnung") {
		t.Errorf("?language=de did not print German labels:\n%s", text)
	}

	bad := acmeSettings()
	bad["branding"].(map[string]any)["logo"] = []byte("GIF89a not a png")
	bad["branding"].(map[string]any)["accentColor"] = "red"
	bad["branding"].(map[string]any)["paperSize"] = "A3"
	r := h.must(http.StatusBadRequest, h.do("PUT", "/api/v1/settings", token, bad))
	for _, field := range []string{"branding.logo", "branding.accentColor", "branding.paperSize"} {
		if _, ok := r.errorFields()[field]; !ok {
			t.Errorf("no message for %s: %s", field, r.Raw)
		}
	}
}

// TestBrandingReachesTheEmail sends an invoice of a tenant with a logo, an
// accent colour and an address, and reads the email from the outbox: its
// HTML loads the logo from the invoice's public link, which serves the
// tenant's image, wears the accent on its rule and Pay button, and names
// the seller in its footer; amounts and dates are written as the PDF
// writes them.
func TestBrandingReachesTheEmail(t *testing.T) {
	t.Parallel()
	h := setup(t)
	logo := smallPNG(t)
	settings := paymentSettings(map[string]any{"gateway": "static",
		"static": map[string]any{"urlTemplate": "https://pay.acme.test/{invoiceId}"}})
	b := settings["branding"].(map[string]any)
	b["logo"] = logo
	b["accentColor"] = "#8A1538"
	b["phone"] = "+40 21 555 0100"
	token := h.tenant("ACME SRL", settings)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_brand")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_brand/send", token, map[string]any{"sendVia": []string{"email"}}))
	e := h.emailFor(t, "INV-brand")

	src := regexp.MustCompile(`<img src="([^"]+)" width="120" height="40" alt="ACME SRL"`).FindStringSubmatch(e.HTML)
	if src == nil || !strings.HasPrefix(src[1], h.URL+"/i/") || !strings.HasSuffix(src[1], "/logo") {
		t.Fatalf("the email has no 120×40 logo from the invoice's public link:\n%s", e.HTML)
	}
	r := h.do("GET", strings.TrimPrefix(src[1], h.URL), "", nil)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "image/png" || !bytes.Equal(r.Raw, logo) {
		t.Errorf("GET %s: %d %s, %d bytes; want the tenant's PNG", src[1], r.Status, r.Header.Get("Content-Type"), len(r.Raw))
	}
	for _, want := range []string{
		`bgcolor="#8A1538" style="height:4px;`,
		`<a class="em-pay" href="https://pay.acme.test/inv_brand"`,
		">Pay €1,130.50</a>", ">Invoice from ACME SRL</h1>", ">Due 21 Dec 2026</div>", ">21 Nov 2026</td>",
		"<strong>ACME SRL</strong><br>Str. Memorandumului 28, 400114 Cluj-Napoca, RO<br>billing@acme.test · &#43;40 21 555 0100</td>",
	} {
		if !strings.Contains(e.HTML, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, raw := range []string{"1130.50", "2026-12-21", "2026-11-21"} {
		if strings.Contains(e.HTML, raw) || strings.Contains(e.Text, raw) {
			t.Errorf("the email prints %q unformatted", raw)
		}
	}
	if t.Failed() {
		t.Logf("HTML:\n%s", e.HTML)
	}

	// A tenant without a logo has none to serve, and its email shows none.
	plain := h.tenant("Plain SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", plain, sampleInvoice("inv_plain")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_plain/finalize", plain, nil))
	page := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_plain", plain, nil)).data()["publicUrl"].(string)
	if r := h.do("GET", strings.TrimPrefix(page, h.URL)+"/logo", "", nil); r.Status != http.StatusNotFound {
		t.Errorf("a tenant without a logo: GET …/logo is %d, want 404", r.Status)
	}
	if r := h.do("GET", strings.Replace(strings.TrimPrefix(src[1], h.URL), "/logo", "x/logo", 1), "", nil); r.Status != http.StatusNotFound {
		t.Errorf("a forged token's logo: %d, want 404", r.Status)
	}
}
