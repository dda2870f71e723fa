package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// wantFields fails unless r is status with a validation error naming each
// of fields, with a message containing its text.
func wantFields(t *testing.T, r response, status int, fields map[string]string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	got := r.errorFields()
	for f, text := range fields {
		msg, _ := got[f].(string)
		if msg == "" || !strings.Contains(msg, text) {
			t.Errorf("error field %s = %q, want one containing %q: %s", f, msg, text, r.Raw)
		}
	}
}

// TestEInvoiceSettings checks the settings of e-invoices: the tenant's
// default profile and the seller's electronic address and contact, each
// refused by name when wrong, and shown by GET.
func TestEInvoiceSettings(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())

	st := acmeSettings()
	st["defaults"].(map[string]any)["einvoiceProfile"] = "zugferd"
	st["branding"].(map[string]any)["endpoint"] = map[string]any{"scheme": "1234", "id": ""}
	wantFields(t, h.do("PUT", "/api/v1/settings", token, st), http.StatusBadRequest, map[string]string{
		"defaults.einvoiceProfile": "en16931, peppol, xrechnung, cius-ro",
		"branding.endpoint.scheme": "Electronic Address Scheme",
		"branding.endpoint.id":     "is required",
	})

	st = acmeSettings()
	st["defaults"].(map[string]any)["einvoiceProfile"] = "peppol"
	st["branding"].(map[string]any)["endpoint"] = map[string]any{"scheme": "9947", "id": "RO18547290"}
	st["branding"].(map[string]any)["contactName"] = "Accounts department"
	r := h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, st))
	b := r.data()["branding"].(map[string]any)
	if ep, _ := b["endpoint"].(map[string]any); ep["scheme"] != "9947" || ep["id"] != "RO18547290" || b["contactName"] != "Accounts department" {
		t.Fatalf("branding = %v, want the endpoint and contact name sent", b)
	}
	if got := r.data()["defaults"].(map[string]any)["einvoiceProfile"]; got != "peppol" {
		t.Fatalf("defaults.einvoiceProfile = %v, want peppol", got)
	}
	r = h.must(http.StatusOK, h.do("GET", "/api/v1/settings", token, nil))
	if got := r.data()["defaults"].(map[string]any)["einvoiceProfile"]; got != "peppol" {
		t.Fatalf("GET defaults.einvoiceProfile = %v, want peppol", got)
	}
	other := h.tenant("Other SRL", nil)
	r = h.must(http.StatusOK, h.do("GET", "/api/v1/settings", other, nil))
	if got := r.data()["defaults"].(map[string]any)["einvoiceProfile"]; got != "en16931" {
		t.Fatalf("a tenant without a default profile shows %v, want en16931", got)
	}
}

// peppolInvoice is sampleInvoice(id) as the Peppol profile wants it: the
// buyer's electronic address and an order reference.
func peppolInvoice(id string) map[string]any {
	inv := sampleInvoice(id)
	inv["customer"].(map[string]any)["endpoint"] = map[string]any{"scheme": "0208", "id": "0123456789"}
	inv["customer"].(map[string]any)["vatId"] = "BE0123456789"
	inv["orderReference"] = "PO-77"
	return inv
}

// TestEInvoiceProfile checks where an invoice's profile comes from (the
// request, the tenant's default, en16931), that what the profile needs is
// asked for by name when the invoice is created and when its XML is asked
// for after the settings changed, and that a credit note keeps the
// corrected invoice's profile.
func TestEInvoiceProfile(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())

	r := h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_plain")))
	if got := r.data()["profile"]; got != "en16931" {
		t.Fatalf("profile = %v, want en16931 without a request's or a default", got)
	}
	bad := sampleInvoice("inv_bad")
	bad["profile"] = "zugferd"
	wantFields(t, h.do("POST", "/api/v1/invoices", token, bad), http.StatusBadRequest, map[string]string{"profile": "must be one of"})
	r = h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/batch", token, map[string]any{"invoices": []any{bad}}))
	if f := batchResults(t, r)[0]["error"].(map[string]any)["fields"].(map[string]any); f["invoices[0].profile"] == nil {
		t.Fatalf("the batch item's error names %v, want invoices[0].profile", f)
	}

	// Peppol asked for by the request: the seller has no electronic
	// address in the settings, the buyer none in the invoice.
	asked := sampleInvoice("inv_p0")
	asked["profile"] = "peppol"
	r = h.do("POST", "/api/v1/invoices", token, asked)
	wantFields(t, r, http.StatusBadRequest, map[string]string{
		"branding.endpoint": "required by the peppol profile, in the settings",
		"customer.endpoint": "required by the peppol profile",
	})
	if msg := r.Body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "branding.endpoint") || !strings.Contains(msg, "peppol") {
		t.Fatalf("message %q names neither the setting nor the profile", msg)
	}

	// The tenant's default profile, once its settings give what Peppol
	// needs of the seller.
	st := acmeSettings()
	st["defaults"].(map[string]any)["einvoiceProfile"] = "peppol"
	st["branding"].(map[string]any)["endpoint"] = map[string]any{"scheme": "9947", "id": "RO18547290"}
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, st))
	wantFields(t, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_p1")), http.StatusBadRequest,
		map[string]string{"customer.endpoint": "peppol"})
	r = h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, peppolInvoice("inv_p2")))
	if got := r.data()["profile"]; got != "peppol" {
		t.Fatalf("profile = %v, want the tenant's default, peppol", got)
	}
	if ep := r.data()["customer"].(map[string]any)["endpoint"].(map[string]any); ep["scheme"] != "0208" || ep["id"] != "0123456789" {
		t.Fatalf("customer.endpoint = %v", ep)
	}
	h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_p2/xml", token, nil))

	// A credit note keeps the profile of the invoice it corrects.
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_p2/finalize", token, nil))
	r = h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices/inv_p2/credit-notes", token, map[string]any{"number": "CN-P2"}))
	if got := r.data()["profile"]; got != "peppol" {
		t.Fatalf("the credit note's profile = %v, want peppol", got)
	}

	// The settings lose the seller's address: the XML names it.
	delete(st["branding"].(map[string]any), "endpoint")
	st["defaults"].(map[string]any)["einvoiceProfile"] = ""
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, st))
	r = h.do("GET", "/api/v1/invoices/inv_p2/xml", token, nil)
	wantFields(t, r, http.StatusUnprocessableEntity, map[string]string{"branding.endpoint": "required by the peppol profile"})
	if r.errorCode() != "invoice_not_renderable" {
		t.Fatalf("code %q, want invoice_not_renderable", r.errorCode())
	}
}
