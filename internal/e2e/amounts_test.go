package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/pdftest"
	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/ubl"
)

// TestAmountsBeyondTheLargest: amounts that would overflow, or that a
// renderer could not read back, are refused by name when the invoice is
// created.
func TestAmountsBeyondTheLargest(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())
	withLines := func(lines ...map[string]any) map[string]any {
		inv := sampleInvoice("inv_big")
		inv["lines"] = []any{}
		for _, l := range lines {
			l["description"] = "Consulting"
			inv["lines"] = append(inv["lines"].([]any), l)
		}
		return inv
	}
	paid := sampleInvoice("inv_big")
	paid["amountPaid"] = "10000000000000"
	negativePaid := sampleInvoice("inv_big")
	negativePaid["amountPaid"] = "-5"

	tests := []struct {
		name    string
		body    map[string]any
		field   string
		mention string
	}{
		// Computed in int64, this wrapped to a negative subtotal.
		{"9999 × 9999999999999.99", withLines(map[string]any{"quantity": "9999", "unitPrice": "9999999999999.99", "taxRate": "19"}),
			"lines[0]", "99989999999999900.01"},
		// A total of 16 digits was stored, and its XML was a 500.
		{"a unit price over the largest amount", withLines(map[string]any{"quantity": "1", "unitPrice": "99999999999999", "taxRate": "19"}),
			"lines[0].unitPrice", "9999999999999.99"},
		{"lines that add up to more", withLines(
			map[string]any{"quantity": "1", "unitPrice": "9999999999999.99", "taxRate": "0"},
			map[string]any{"quantity": "1", "unitPrice": "0.01", "taxRate": "0"}),
			"lines", "add up to 10000000000000.00"},
		{"VAT that takes the total over", withLines(map[string]any{"quantity": "1", "unitPrice": "9000000000000", "taxRate": "19"}),
			"total", "10710000000000.00"},
		{"amountPaid over the largest amount", paid, "amountPaid", "9999999999999.99"},
		{"negative amountPaid", negativePaid, "amountPaid", "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.must(http.StatusBadRequest, h.do("POST", "/api/v1/invoices", token, tt.body))
			msg, _ := r.errorFields()[tt.field].(string)
			if r.errorCode() != "validation_error" || !strings.Contains(msg, tt.mention) {
				t.Fatalf("error.fields[%q] = %q, want a validation_error mentioning %q: %s", tt.field, msg, tt.mention, r.Raw)
			}
		})
	}
	h.must(http.StatusNotFound, h.do("GET", "/api/v1/invoices/inv_big", token, nil))
}

// TestLargestAmountsRender: an invoice of the largest amount is accepted,
// and its XML and PDF render; the bank QR codes, whose schemes stop at
// 999999999.99, are left out of the PDF.
func TestLargestAmountsRender(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	eur := h.tenant("ACME SRL", acmeSettings())
	swiss := acmeSettings()
	swiss["branding"].(map[string]any)["address"] = map[string]any{"line1": "Bahnhofstrasse 1", "city": "Zürich", "postalCode": "8001", "country": "CH"}
	swiss["bank"] = map[string]any{"iban": "CH9300762011623852957", "bankName": "Bank Demo", "holder": "ACME AG"}
	chf := h.tenant("ACME AG", swiss)

	tests := []struct {
		currency, token string
		lines           []any
		total           string
		printed         string // in the PDF, as its text shows the amount due
	}{
		{"EUR", eur, []any{map[string]any{"description": "Plant", "quantity": "1", "unitPrice": "9999999999999.99", "taxRate": "0"}},
			"9999999999999.99", "€9,999,999,999,999."},
		{"EUR", eur, []any{map[string]any{"description": "Plant", "quantity": "1", "unitPrice": "8403361344537.81", "taxRate": "19"}},
			"9999999999999.99", "€9,999,999,999,999."},
		{"CHF", chf, []any{map[string]any{"description": "Anlage", "quantity": "3", "unitPrice": "3333333333333.33", "taxRate": "0"}},
			"9999999999999.99", "9,999,999,999,999."},
		{"JPY", eur, []any{map[string]any{"description": "Plant", "quantity": "1", "unitPrice": "999999999999999", "taxRate": "0"}},
			"999999999999999", "¥999,999,999,999,"},
		{"BHD", eur, []any{
			map[string]any{"description": "Plant", "quantity": "1", "unitPrice": "999999999000", "taxRate": "0"},
			map[string]any{"description": "Service", "quantity": "0.5", "unitPrice": "1999.98", "taxRate": "0"}},
			"999999999999.990", "999,999,999,999."},
	}
	for i, tt := range tests {
		t.Run(tt.currency, func(t *testing.T) {
			id := "inv_max" + string(rune('a'+i))
			inv := sampleInvoice(id)
			inv["currency"], inv["lines"] = tt.currency, tt.lines
			inv["customer"].(map[string]any)["vatId"] = "RO123456"
			r := h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", tt.token, inv))
			if got := r.data()["total"]; got != tt.total {
				t.Fatalf("total = %v, want %s: %s", got, tt.total, r.Raw)
			}
			h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/"+id+"/finalize", tt.token, nil))

			x := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/"+id+"/xml", tt.token, nil))
			if v := ubl.Check(x.Raw); len(v) > 0 {
				t.Errorf("the XML breaks EN 16931 rules: %v", v)
			}
			// The XML writes at most two decimals (EN 16931 BR-DEC): a
			// BHD amount, computed to hundredths, loses its last zero.
			xmlTotal := tt.total
			if tt.currency == "BHD" {
				xmlTotal = strings.TrimSuffix(tt.total, "0")
			}
			want := `<cbc:PayableAmount currencyID="` + tt.currency + `">` + xmlTotal + `</cbc:PayableAmount>`
			if !strings.Contains(string(x.Raw), want) {
				t.Errorf("XML lacks %s", want)
			}

			p := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/"+id+"/pdf", tt.token, nil))
			text := pdftest.Text(t, p.Raw)
			if !strings.Contains(text, tt.printed) {
				t.Errorf("the PDF does not show %s:\n%s", tt.printed, text)
			}
			// The Swiss QR-bill's receipt would be at the foot of the page.
			if strings.Contains(text, "Receipt") {
				t.Errorf("the PDF carries a QR-bill for an amount its scheme refuses:\n%s", text)
			}
		})
	}
	if h.Logs.FilterMessage("pdf: EPC QR code left out").Len() == 0 {
		t.Error("no warning that the EPC QR code was left out")
	}
	// The same Swiss tenant's small invoice does carry the QR-bill.
	small := sampleInvoice("inv_small")
	small["currency"] = "CHF"
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", chf, small))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_small/finalize", chf, nil))
	p := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_small/pdf", chf, nil))
	if text := pdftest.Text(t, p.Raw); !strings.Contains(text, "Receipt") {
		t.Errorf("a CHF invoice of 1130.50 has no QR-bill:\n%s", text)
	}
}

// unrenderable stores, as a release that computed totals in int64 did,
// an open invoice whose amounts wrapped past what any renderer reads.
func (h *harness) unrenderable(token, id string) {
	h.t.Helper()
	inv := &invoice.Invoice{
		ID: id, TenantID: h.tenantID(token), Number: "INV-OLD", Currency: "EUR", IssueDate: "2026-11-21",
		Customer: invoice.Customer{Name: "Ana Popescu", Email: "ana@example.com", Address: invoice.Address{Country: "RO"}},
		Lines: []invoice.Line{{Description: "Consulting", Quantity: "9999", UnitPrice: "9999999999999.99", TaxRate: "19",
			DiscountRate: "10", Discount: "9998999999999990.00", Amount: "89990999999999910.01"}},
		Subtotal: "89990999999999910.01", DiscountTotal: "9998999999999990.00", TaxTotal: "17098289999999982.90",
		Total: "-77378150737095623.25", AmountPaid: "0.00", AmountDue: "-77378150737095623.25",
		Taxes: []invoice.TaxSummary{{Rate: "19", Base: "89990999999999910.01", Amount: "17098289999999982.90"}},
	}
	if _, err := h.Store.SaveDraft(h.t.Context(), inv, time.Hour); err != nil {
		h.t.Fatal(err)
	}
	if _, _, err := h.Store.Finalize(h.t.Context(), inv.TenantID, id, "api"); err != nil {
		h.t.Fatal(err)
	}
}

// TestUnrenderableInvoice: a stored invoice that cannot be rendered is a
// 422 that says which document failed, never a 500 asking for a retry,
// and its email fails at once instead of being retried.
func TestUnrenderableInvoice(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.maxRetries = 3 })
	token := h.tenant("ACME SRL", acmeSettings())
	h.unrenderable(token, "inv_old")

	for _, tt := range []struct{ path, what string }{
		{"/api/v1/invoices/inv_old/xml", "XML"},
		{"/api/v1/invoices/inv_old/pdf", "PDF"},
	} {
		r := h.must(http.StatusUnprocessableEntity, h.do("GET", tt.path, token, nil))
		msg, _ := r.Body["error"].(map[string]any)["message"].(string)
		if r.errorCode() != "invoice_not_renderable" || !strings.Contains(msg, tt.what) || strings.Contains(msg, "retr") {
			t.Errorf("GET %s = %s, want invoice_not_renderable naming the %s and no retry", tt.path, r.Raw, tt.what)
		}
	}

	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_old/send", token, map[string]any{"attachXml": true}))
	eventually(t, 10*time.Second, "the delivery to fail", func() bool {
		ds := h.deliveries(token, "inv_old")
		return len(ds) == 1 && ds[0]["status"] == "failed"
	})
	// Had it been retried, a second attempt would follow within the
	// harness's 200 ms retry delay.
	time.Sleep(time.Second)
	d := h.deliveries(token, "inv_old")[0]
	attempts := d["attempts"].([]any)
	if len(attempts) != 1 || attempts[0].(map[string]any)["code"] != "render_failed" {
		t.Fatalf("attempts = %v, want one render_failed attempt", attempts)
	}
	if e, _ := d["error"].(string); !strings.Contains(e, "render") {
		t.Fatalf("error = %q, want the render failure", e)
	}
	if len(h.emails()) != 0 {
		t.Fatal("an email went out without its invoice")
	}
}
