package e2e

import (
	"net/http"
	"strings"
	"testing"
)

func TestBadInput(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true; o.maxBody = 64 << 10 })
	token := h.tenant("ACME SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_1")))
	noEmail := sampleInvoice("inv_noemail")
	delete(noEmail["customer"].(map[string]any), "email")
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, noEmail))

	withLine := func(mutate func(line map[string]any)) map[string]any {
		inv := sampleInvoice("inv_x")
		mutate(inv["lines"].([]any)[0].(map[string]any))
		return inv
	}
	unknownCurrency := sampleInvoice("inv_x")
	unknownCurrency["currency"] = "ABC"

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		// field must be named in error.fields, or (for shapes without
		// fields) mention must appear in the body.
		field   string
		mention string
	}{
		{"malformed JSON", "POST", "/api/v1/invoices", `{"number": "INV-1",`, 400, "", "malformed JSON"},
		{"not an object", "POST", "/api/v1/invoices", `[1,2]`, 400, "", "JSON object"},
		{"empty body", "POST", "/api/v1/invoices", ``, 400, "", "JSON object"},
		{"unknown field", "POST", "/api/v1/invoices", `{"number":"X","colour":"red"}`, 400, "colour", ""},
		{"unknown nested field", "POST", "/api/v1/invoices", `{"customer":{"name":"A","nickname":"B"}}`, 400, "nickname", ""},
		{"computed field sent", "POST", "/api/v1/invoices", `{"total":"10.00"}`, 400, "total", ""},
		{"wrong type", "POST", "/api/v1/invoices", `{"number":12}`, 400, "number", ""},
		{"negative quantity", "POST", "/api/v1/invoices", withLine(func(l map[string]any) { l["quantity"] = "-2" }), 400, "lines[0].quantity", ""},
		{"number as quantity", "POST", "/api/v1/invoices", withLine(func(l map[string]any) { l["quantity"] = 2 }), 400, "lines.quantity", ""},
		{"unknown currency", "POST", "/api/v1/invoices", unknownCurrency, 400, "currency", ""},
		{"too many decimals", "POST", "/api/v1/invoices", withLine(func(l map[string]any) { l["unitPrice"] = "1.123456789" }), 400, "lines[0].unitPrice", ""},
		{"bad id", "POST", "/api/v1/invoices", map[string]any{"id": "../etc"}, 400, "id", ""},
		{"sendVia email with no address", "POST", "/api/v1/invoices/inv_noemail/send", `{"sendVia":["email"]}`, 400, "email", ""},
		{"sms to an invalid phone", "POST", "/api/v1/invoices/inv_1/send", `{"sendVia":["sms"],"phone":"12"}`, 400, "phone", ""},
		{"unknown channel", "POST", "/api/v1/invoices/inv_1/send", `{"sendVia":["fax"]}`, 400, "sendVia[0]", ""},
		{"invalid address", "POST", "/api/v1/invoices/inv_1/send", `{"email":"not-an-address"}`, 400, "email", ""},
		{"invalid cc", "POST", "/api/v1/invoices/inv_1/send", `{"cc":"a@b.co, nope"}`, 400, "cc[1]", ""},
		{"address list injection", "POST", "/api/v1/invoices/inv_1/send", `{"email":"a@b.co, c@d.co"}`, 400, "email", ""},
		{"CRLF in subject", "POST", "/api/v1/invoices/inv_1/send", `{"subject":"Invoice\r\nBcc: evil@example.com"}`, 400, "subject", ""},
		{"bad scheduledAt", "POST", "/api/v1/invoices/inv_1/send", `{"scheduledAt":"tomorrow"}`, 400, "scheduledAt", ""},
		{"scheduledAt in the past", "POST", "/api/v1/invoices/inv_1/send", `{"scheduledAt":"2020-01-01T00:00:00Z"}`, 400, "scheduledAt", ""},
		{"unknown send field", "POST", "/api/v1/invoices/inv_1/send", `{"emial":"a@b.co"}`, 400, "emial", ""},
		{"storno CRLF subject", "POST", "/api/v1/invoices/inv_1/email", `{"subject":"a\nb"}`, 400, "subject", ""},
		{"infinity long description", "POST", "/v1/invoices/inv_1/send", map[string]any{"description": strings.Repeat("x", 2001)}, 400, "description", ""},
		{"fluxrate invalid address", "POST", "/api/v1/invoices/inv_1/send-email", `{"email":"nope"}`, 400, "", "email"},
		{"body over the limit", "POST", "/api/v1/invoices", `{"notes":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "", "larger than the limit"},
		{"bad grace period", "PUT", "/api/v1/settings", `{"defaults":{"gracePeriod":"soon"}}`, 400, "defaults.gracePeriod", ""},
		{"unknown provider", "PUT", "/api/v1/settings", `{"email":{"provider":"pigeon"}}`, 400, "email.provider", ""},
		{"smtp without host", "PUT", "/api/v1/settings", `{"email":{"provider":"smtp","fromEmail":"a@b.co"}}`, 400, "email.smtp.host", ""},
		{"unknown route", "GET", "/api/v1/nothing", nil, 404, "", "no route"},
		{"unknown invoice", "GET", "/api/v1/invoices/inv_none", nil, 404, "", "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(tt.method, tt.path, token, tt.body)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Raw)
			}
			if r.Body["success"] != false {
				t.Errorf("success = %v, want false", r.Body["success"])
			}
			if tt.field != "" {
				if _, ok := r.errorFields()[tt.field]; !ok {
					t.Errorf("error.fields lacks %q: %s", tt.field, r.Raw)
				}
			}
			if tt.mention != "" && !strings.Contains(string(r.Raw), tt.mention) {
				t.Errorf("body does not mention %q: %s", tt.mention, r.Raw)
			}
			if strings.Contains(string(r.Raw), "goroutine") || strings.Contains(string(r.Raw), ".go:") {
				t.Errorf("body leaks internals: %s", r.Raw)
			}
		})
	}
}

func TestVoidAndOpenInvoicesAreNotReplaced(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_1")))
	// The same id again upserts the draft.
	changed := sampleInvoice("inv_1")
	changed["notes"] = "updated"
	r := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices", token, changed))
	if r.data()["notes"] != "updated" {
		t.Fatalf("upsert = %s", r.Raw)
	}
	r = h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_1/finalize", token, nil))
	if r.data()["status"] != "open" || r.data()["finalizedBy"] != "api" {
		t.Fatalf("finalize = %s", r.Raw)
	}
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_1/finalize", token, nil))
	r = h.must(http.StatusConflict, h.do("POST", "/api/v1/invoices", token, changed))
	if r.errorCode() != "conflict" {
		t.Fatalf("replace open invoice = %s", r.Raw)
	}
}
