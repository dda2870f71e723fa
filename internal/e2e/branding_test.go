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
