package e2e

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/internal/redistest"
)

func TestQRCode(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_qr")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_qr/finalize", token, nil))
	h.must(http.StatusNotFound, h.do("GET", "/api/v1/invoices/inv_qr/qr-code", token, nil))
	// The public URL of an invoice without a link, or of a draft, finds
	// nothing either.
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_qr_draft")))
	for _, id := range []string{"inv_qr", "inv_qr_draft"} {
		inv, err := h.Store.Invoice(t.Context(), h.tenantID(token), id)
		if err != nil {
			t.Fatal(err)
		}
		h.must(http.StatusNotFound, h.do("GET", "/i/"+h.Store.PublicInvoiceToken(inv)+"/qr-code", "", nil))
	}
	const link = "https://pay.example.com/c/cs_test_a1b2c3"
	if _, err := h.Store.SetPaymentLink(t.Context(), h.tenantID(token), "inv_qr", link, "cs_test", nil, ""); err != nil {
		t.Fatal(err)
	}
	pl := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_qr/payment-link", token, nil)).data()
	public, _ := pl["qrCodeUrl"].(string)
	if pl["paymentLink"] != link || !strings.HasPrefix(public, h.URL+"/i/") || !strings.HasSuffix(public, "/qr-code") {
		t.Fatalf("payment-link = %v, want qrCodeUrl a public /i/{token}/qr-code", pl)
	}
	public = strings.TrimPrefix(public, h.URL)
	// Without a token, the public URL serves what the authenticated
	// route serves, with the same options.
	for _, q := range []string{"", "?format=svg&size=400", "?size=500&color=%231F4E79&backgroundColor=%23FFFDF0"} {
		open := h.must(http.StatusOK, h.do("GET", public+q, "", nil))
		authed := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_qr/qr-code"+q, token, nil))
		if !bytes.Equal(open.Raw, authed.Raw) || open.Header.Get("Content-Type") != authed.Header.Get("Content-Type") {
			t.Errorf("%s: the public QR code (%s, %d bytes) is not the authenticated one (%s, %d bytes)", q,
				open.Header.Get("Content-Type"), len(open.Raw), authed.Header.Get("Content-Type"), len(authed.Raw))
		}
		if open.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q, want nosniff", q, open.Header.Get("X-Content-Type-Options"))
		}
	}
	h.must(http.StatusNotFound, h.do("GET", strings.Replace(public, "/qr-code", "x/qr-code", 1), "", nil))
	if r := h.must(http.StatusBadRequest, h.do("GET", public+"?size=100", "", nil)); r.errorFields()["size"] == nil {
		t.Errorf("public ?size=100: %s", r.Raw)
	}

	zbar := redistest.RequireTool(t, "zbarimg")
	decode := func(png []byte) string {
		f := filepath.Join(t.TempDir(), "qr.png")
		if err := os.WriteFile(f, png, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(zbar, "--quiet", "--raw", f).Output()
		if err != nil {
			t.Fatalf("zbarimg: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	for _, q := range []string{"", "?size=200", "?size=1000&color=%231F4E79&backgroundColor=%23FFFDF0"} {
		r := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_qr/qr-code"+q, token, nil))
		if r.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s: content type %s", q, r.Header.Get("Content-Type"))
		}
		if got := decode(r.Raw); got != link {
			t.Errorf("%s decodes to %q, want %q", q, got, link)
		}
	}
	svg := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_qr/qr-code?format=svg&size=400", token, nil))
	if svg.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(string(svg.Raw), "<svg") || !strings.Contains(string(svg.Raw), `width="400"`) {
		t.Errorf("svg: %s %.80s", svg.Header.Get("Content-Type"), svg.Raw)
	}
	pdf := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_qr/qr-code?format=pdf", token, nil))
	if pdf.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("pdf content type %s", pdf.Header.Get("Content-Type"))
	}
	pdftoppm := redistest.RequireTool(t, "pdftoppm")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "qr.pdf"), pdf.Raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(pdftoppm, "-png", "-r", "144", filepath.Join(dir, "qr.pdf"), filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	if len(pages) != 1 || decode(mustRead(t, pages[0])) != link {
		t.Errorf("the PDF's code does not decode to the link")
	}

	for _, bad := range []struct{ query, field string }{
		{"?size=100", "size"}, {"?size=1001", "size"}, {"?size=big", "size"},
		{"?format=gif", "format"}, {"?color=red", "color"}, {"?backgroundColor=%23GGGGGG", "backgroundColor"},
	} {
		r := h.must(http.StatusBadRequest, h.do("GET", "/api/v1/invoices/inv_qr/qr-code"+bad.query, token, nil))
		if _, ok := r.errorFields()[bad.field]; !ok {
			t.Errorf("%s: %s", bad.query, r.Raw)
		}
	}
}
