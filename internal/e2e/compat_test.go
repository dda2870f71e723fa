package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCompatRoutes(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", acmeSettings())
	for _, id := range []string{"inv_f", "inv_s", "inv_n"} {
		h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice(id)))
	}

	t.Run("fluxrate send-email", func(t *testing.T) {
		r := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_f/send-email", token, nil))
		if r.Body["success"] != true || !strings.Contains(r.Body["message"].(string), "INV-f") {
			t.Fatalf("response = %s", r.Raw)
		}
		if _, ok := r.Body["payment_link"]; !ok {
			t.Fatalf("no payment_link key: %s", r.Raw)
		}
	})

	t.Run("storno email", func(t *testing.T) {
		// Storno emails only issued invoices.
		h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_s/finalize", token, nil))
		r := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_s/email", token, map[string]any{
			"to": "ana@example.com", "cc": []string{"boss@example.com"}, "subject": "Factura {invoice_number}",
			"body": "Vă trimitem factura.", "attachPdf": true, "language": "ro",
		}))
		b := r.Body
		if b["success"] != true || !uuidPattern.MatchString(b["emailId"].(string)) || !strings.HasPrefix(b["deliveryId"].(string), "dlv_") ||
			b["to"] != "ana@example.com" || b["subject"] != "Factura INV-s" || b["deliveryStatus"] != "queued" {
			t.Fatalf("response = %s", r.Raw)
		}
		if _, err := time.Parse(time.RFC3339, b["sentAt"].(string)); err != nil {
			t.Fatalf("sentAt: %v", err)
		}
		if att := b["attachments"].([]any); len(att) != 1 || att[0] != "INV-s.pdf" {
			t.Fatalf("attachments = %v", att)
		}
		// An array of cc addresses comes back as Storno's string.
		if b["cc"] != "boss@example.com" {
			t.Fatalf("cc = %#v", b["cc"])
		}
	})

	t.Run("infinity send", func(t *testing.T) {
		r := h.must(http.StatusOK, h.do("POST", "/v1/invoices/inv_n/send", token, map[string]any{"description": "See attached."}))
		inv, ok := r.Body["invoice"].(map[string]any)
		if !ok || inv["id"] != "inv_n" || inv["totalAmount"] != 113050.0 || inv["isDraft"] != false {
			t.Fatalf("response = %s", r.Raw)
		}
		ed := inv["emailDeliveries"].([]any)
		if len(ed) != 1 || ed[0].(map[string]any)["recipientEmail"] != "ana@example.com" {
			t.Fatalf("emailDeliveries = %v", ed)
		}
		if u, _ := inv["publicPdfUrl"].(string); !strings.Contains(u, "/i/") {
			t.Fatalf("publicPdfUrl = %q", u)
		}
	})

	eventually(t, 10*time.Second, "three emails", func() bool { return len(h.emails()) == 3 })
	for _, f := range h.emails() {
		raw := mustRead(t, f)
		e := parseEmail(t, raw)
		if strings.Contains(e.Header.Get("Subject"), "INV-s") {
			// Storno's body replaces the template's; the invoice's summary
			// follows it.
			text := strings.ReplaceAll(e.Text, "\r\n", "\n")
			if e.Header.Get("Subject") != "Factura INV-s" || !strings.HasPrefix(text, "Vă trimitem factura.\n\nFactura: INV-s\nSuma de plata: 1,130.50 EUR\nScadenta: 21.12.2026\n") {
				t.Errorf("storno email: subject %q text %q", e.Header.Get("Subject"), e.Text)
			}
		}
		if strings.Contains(e.Header.Get("Subject"), "INV-n") {
			// Infinity's description goes into the template's body.
			text := strings.ReplaceAll(e.Text, "\r\n", "\n")
			if !strings.HasPrefix(text, "Hello Ana Popescu,\n\nSee attached.\n\nYour invoice INV-n for €1,130.50 is attached as a PDF.") {
				t.Errorf("infinity email: text %q", e.Text)
			}
		}
	}
}
