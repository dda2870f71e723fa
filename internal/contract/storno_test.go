package contract

// Storno's "Email invoice" document (storno-email-invoice.txt): its
// example request, sent as it is, and every error code it lists.

import (
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/mailtest"
)

// stornoCompany and stornoInvoiceID are the company and invoice UUIDs of
// Storno's example.
const (
	stornoCompany   = "550e8400-e29b-41d4-a716-446655440000"
	stornoInvoiceID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
)

// stornoExampleBody is the example's request body, with the obfuscated
// addresses replaced by real ones.
const stornoExampleBody = `{
"to": "client@example.com",
"cc": "accounting@example.com",
"subject": "Factura FAC-2024-001",
"body": "Buna ziua,\n\nGasiti atasat factura FAC-2024-001 in valoare de 1,190.00 RON.\n\nMultumim!",
"attachPdf": true,
"attachXml": false
}`

// stornoDocumentedAnswer is the example's response, verbatim.
const stornoDocumentedAnswer = `{
"success": true,
"emailId": "8f9a0b1c-2d3e-4f5a-6b7c-8d9e0f1a2b3c",
"to": "[email protected]",
"cc": "[email protected]",
"subject": "Factura FAC-2024-001",
"attachments": ["FAC-2024-001.pdf"],
"sentAt": "2024-02-15T09:05:00Z",
"deliveryStatus": "sent"
}`

// stornoUUID matches a UUID in its lower-case hyphenated form.
var stornoUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// stornoTenant creates a tenant carrying a company UUID, as
// POST /admin/v1/tenants takes it, PUTs its settings and returns its
// token.
func (s *system) stornoTenant(t *testing.T, name, companyID string, settings map[string]any) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "companyId": companyID})
	r := must(t, http.StatusCreated, s.do(t, "POST", "/admin/v1/tenants", bearer(adminToken), string(body)))
	data, _ := r.object(t)["data"].(map[string]any)
	token, _ := data["token"].(string)
	if token == "" || data["companyId"] != companyID {
		t.Fatalf("created tenant = %s", r.Raw)
	}
	must(t, http.StatusOK, s.do(t, "PUT", "/api/v1/settings", bearer(token), stornoJSON(t, settings)))
	return token
}

// stornoJSON is v as a JSON text.
func stornoJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// stornoHeaders are the example's request headers.
func stornoHeaders(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token, "X-Company": stornoCompany, "Content-Type": "application/json"}
}

// stornoInvoice is an invoice of 1,190.00 RON: 1,000.00 and 19% VAT.
func stornoInvoice(id, number string) map[string]any {
	return map[string]any{
		"id": id, "number": number, "currency": "RON", "issueDate": "2024-02-15", "dueDate": "2024-03-15", "language": "ro",
		"customer": map[string]any{"name": "Acme Corporation SRL", "email": "client@example.com",
			"address": map[string]any{"line1": "Str. Lalelelor 5", "city": "Cluj-Napoca", "postalCode": "400000", "country": "RO"}},
		"lines": []any{map[string]any{"description": "Servicii consultanta", "quantity": "1", "unit": "buc", "unitPrice": "1000.00", "taxRate": "19"}},
	}
}

// stornoHistory returns the invoice's email history.
func (s *system) stornoHistory(t *testing.T, token, invoiceID string) []map[string]any {
	t.Helper()
	r := must(t, http.StatusOK, s.do(t, "GET", "/api/v1/invoices/"+invoiceID+"/emails", stornoHeaders(token), ""))
	var out []map[string]any
	list, _ := r.object(t)["emails"].([]any)
	for _, e := range list {
		out = append(out, e.(map[string]any))
	}
	return out
}

// TestStornoEmailInvoice sends Storno's example request for an issued
// invoice FAC-2024-001 of 1,190.00 RON, holds the answer to the
// documented one, and follows the email to the outbox and the history.
// Then the history keeps the subject an email was sent with after the
// tenant rewrites its template.
func TestStornoEmailInvoice(t *testing.T) {
	t.Parallel()
	s := start(t)
	token := s.stornoTenant(t, "Your Company SRL", stornoCompany, acmeSettings())
	s.invoice(t, token, stornoInvoice(stornoInvoiceID, "FAC-2024-001"))
	must(t, http.StatusOK, s.do(t, "POST", "/api/v1/invoices/"+stornoInvoiceID+"/finalize", bearer(token), ""))

	before := time.Now().Add(-time.Second)
	r := must(t, http.StatusOK, s.do(t, "POST", "/api/v1/invoices/"+stornoInvoiceID+"/email", stornoHeaders(token), stornoExampleBody))
	matchShape(t, "the email answer", stornoDocumentedAnswer, r.JSON)
	got := r.object(t)
	if got["success"] != true || got["to"] != "client@example.com" || got["cc"] != "accounting@example.com" ||
		got["subject"] != "Factura FAC-2024-001" {
		t.Errorf("answer = %s", r.Raw)
	}
	emailID, _ := got["emailId"].(string)
	if !stornoUUID.MatchString(emailID) {
		t.Errorf("emailId %q is not a UUID", emailID)
	}
	if att, _ := got["attachments"].([]any); !slices.Equal(att, []any{"FAC-2024-001.pdf"}) {
		t.Errorf("attachments = %v", got["attachments"])
	}
	sentAt, err := time.Parse(time.RFC3339, got["sentAt"].(string))
	if err != nil || sentAt.Before(before) || sentAt.After(time.Now().Add(time.Second)) {
		t.Errorf("sentAt = %v (%v), want an RFC 3339 time of the request", got["sentAt"], err)
	}
	if st := got["deliveryStatus"]; st != "queued" && st != "sent" {
		t.Errorf("deliveryStatus = %v, want queued or sent", st)
	}

	e := s.emails(t, 1)[0]
	if e.Subject() != "Factura FAC-2024-001" {
		t.Errorf("the email's subject is %q", e.Subject())
	}
	if cc, err := e.Header.AddressList("Cc"); err != nil || len(cc) != 1 || cc[0].Address != "accounting@example.com" {
		t.Errorf("the email's Cc is %q", e.Header.Get("Cc"))
	}
	if to, err := e.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "client@example.com" {
		t.Errorf("the email's To is %q", e.Header.Get("To"))
	}
	text := strings.ReplaceAll(e.Text, "\r\n", "\n")
	if !strings.Contains(text, "Buna ziua,\n\nGasiti atasat factura FAC-2024-001 in valoare de 1,190.00 RON.\n\nMultumim!") {
		t.Errorf("the email's text lacks the request's body:\n%s", text)
	}
	pdf, ok := e.Attachments["FAC-2024-001.pdf"]
	if !ok || !strings.HasPrefix(string(pdf), "%PDF-") || len(e.Attachments) != 1 {
		t.Errorf("attachments %v, want FAC-2024-001.pdf alone", slices.Collect(maps.Keys(e.Attachments)))
	}

	var entry map[string]any
	eventually(t, 20*time.Second, "the email sent, in the history", func() bool {
		hist := s.stornoHistory(t, token, stornoInvoiceID)
		if len(hist) == 1 && hist[0]["deliveryStatus"] == "sent" {
			entry = hist[0]
		}
		return entry != nil
	})
	if entry["emailId"] != emailID || entry["deliveryId"] != got["deliveryId"] || entry["subject"] != "Factura FAC-2024-001" ||
		entry["to"] != "client@example.com" || entry["cc"] != "accounting@example.com" {
		t.Errorf("history entry = %v", entry)
	}
	if att, _ := entry["attachments"].([]any); !slices.Equal(att, []any{"FAC-2024-001.pdf"}) {
		t.Errorf("history attachments = %v", entry["attachments"])
	}
	status := must(t, http.StatusOK, s.do(t, "GET", "/api/v1/invoices/"+stornoInvoiceID+"/delivery-status", bearer(token), "")).object(t)
	ds, _ := status["data"].(map[string]any)["deliveries"].([]any)
	if len(ds) != 1 || ds[0].(map[string]any)["id"] != got["deliveryId"] {
		t.Errorf("delivery-status lists %v, want the answer's deliveryId %v", ds, got["deliveryId"])
	}

	// The tenant's Romanian template gives the subject of an email sent
	// without one; rewriting the template later leaves the history of
	// that email alone.
	settings := acmeSettings()
	settings["templates"] = map[string]any{"ro": map[string]any{"subject": "Factura {invoice_number} de la {company_name}",
		"body": "Buna ziua,\n\nGasiti atasat factura {invoice_number} in valoare de {invoice_total}.\n\nMultumim!"}}
	must(t, http.StatusOK, s.do(t, "PUT", "/api/v1/settings", bearer(token), stornoJSON(t, settings)))
	second := must(t, http.StatusOK, s.do(t, "POST", "/api/v1/invoices/"+stornoInvoiceID+"/email", stornoHeaders(token),
		`{"to": "client@example.com", "attachXml": true}`)).object(t)
	const firstWording = "Factura FAC-2024-001 de la ACME Corp" // {company_name}: the branding name, not the from-name
	if second["subject"] != firstWording {
		t.Errorf("subject from the template = %v, want %q", second["subject"], firstWording)
	}
	if att, _ := second["attachments"].([]any); !slices.Equal(att, []any{"FAC-2024-001.pdf", "FAC-2024-001.xml"}) {
		t.Errorf("attachments with attachXml = %v", second["attachments"])
	}
	eventually(t, 20*time.Second, "the second email sent", func() bool {
		hist := s.stornoHistory(t, token, stornoInvoiceID)
		return len(hist) == 2 && hist[1]["deliveryStatus"] == "sent"
	})
	if e := s.emails(t, 2); !slices.ContainsFunc(e, func(e mailtest.Email) bool { return e.Subject() == firstWording }) {
		t.Errorf("no email went out with the subject %q", firstWording)
	}
	settings["templates"] = map[string]any{"ro": map[string]any{"subject": "Noua factura {invoice_number}", "body": "Buna ziua."}}
	must(t, http.StatusOK, s.do(t, "PUT", "/api/v1/settings", bearer(token), stornoJSON(t, settings)))
	hist := s.stornoHistory(t, token, stornoInvoiceID)
	if len(hist) != 2 || hist[1]["subject"] != firstWording || hist[1]["emailId"] != second["emailId"] {
		t.Fatalf("after the template changed, the history shows %v, want the subject %q it was sent with", hist, firstWording)
	}
	if att, _ := hist[1]["attachments"].([]any); !slices.Equal(att, []any{"FAC-2024-001.pdf", "FAC-2024-001.xml"}) {
		t.Errorf("history attachments with attachXml = %v", hist[1]["attachments"])
	}
}

// TestStornoEmailErrors reproduces, through the binary, each error code
// the document lists: 400, 401, 403, 404, 422 and 429.
func TestStornoEmailErrors(t *testing.T) {
	t.Parallel()
	s := start(t)
	settings := acmeSettings()
	// The example's email has a to and a cc: two of the hour's emails.
	settings["defaults"] = map[string]any{"language": "ro", "emailsPerHour": 2, "autoEmailOnFinalize": false}
	token := s.stornoTenant(t, "Your Company SRL", stornoCompany, settings)
	s.invoice(t, token, stornoInvoice(stornoInvoiceID, "FAC-2024-001"))
	must(t, http.StatusOK, s.do(t, "POST", "/api/v1/invoices/"+stornoInvoiceID+"/finalize", bearer(token), ""))
	const draftID = "0b8f6a52-3f4e-4c1a-9d2b-6f1e2a3b4c5d"
	s.invoice(t, token, stornoInvoice(draftID, "FAC-2024-002"))
	path := "/api/v1/invoices/" + stornoInvoiceID + "/email"

	errorOf := func(r response) (code string, fields map[string]any) {
		t.Helper()
		body := r.object(t)
		if body["success"] != false {
			t.Errorf("error answer without success false: %s", r.Raw)
		}
		e, _ := body["error"].(map[string]any)
		code, _ = e["code"].(string)
		fields, _ = e["fields"].(map[string]any)
		return code, fields
	}

	t.Run("400 missing or invalid to", func(t *testing.T) {
		for _, body := range []string{
			`{"cc": "accounting@example.com", "subject": "Factura FAC-2024-001"}`,
			`{"to": "client@", "subject": "Factura FAC-2024-001"}`,
		} {
			code, fields := errorOf(must(t, http.StatusBadRequest, s.do(t, "POST", path, stornoHeaders(token), body)))
			if code != "validation_error" || fields["to"] == nil {
				t.Errorf("%s: code %q fields %v, want validation_error naming to", body, code, fields)
			}
		}
	})
	t.Run("401 missing or invalid token", func(t *testing.T) {
		for _, h := range []map[string]string{
			{"X-Company": stornoCompany, "Content-Type": "application/json"},
			stornoHeaders("ivd_not-a-token"),
		} {
			if code, _ := errorOf(must(t, http.StatusUnauthorized, s.do(t, "POST", path, h, stornoExampleBody))); code != "unauthorized" {
				t.Errorf("code %q", code)
			}
		}
	})
	t.Run("403 another company", func(t *testing.T) {
		h := stornoHeaders(token)
		h["X-Company"] = "8f9a0b1c-2d3e-4f5a-6b7c-8d9e0f1a2b3c"
		if code, _ := errorOf(must(t, http.StatusForbidden, s.do(t, "POST", path, h, stornoExampleBody))); code != "forbidden" {
			t.Errorf("code %q", code)
		}
	})
	t.Run("403 sender not verified", func(t *testing.T) {
		smtp := acmeSettings()
		smtp["email"] = map[string]any{"provider": "smtp", "fromEmail": "billing@acme.test", "fromName": "ACME Billing",
			"smtp": map[string]any{"host": "smtp.acme.test", "port": 587, "username": "u", "password": "p", "tls": "starttls"}}
		other := s.stornoTenant(t, "Unverified SRL", stornoCompany, smtp)
		s.invoice(t, other, stornoInvoice(stornoInvoiceID, "FAC-2024-001"))
		must(t, http.StatusOK, s.do(t, "POST", path[:len(path)-len("/email")]+"/finalize", bearer(other), ""))
		code, _ := errorOf(must(t, http.StatusForbidden, s.do(t, "POST", path, stornoHeaders(other), stornoExampleBody)))
		if code != "sender_not_verified" {
			t.Errorf("code %q, want sender_not_verified", code)
		}
	})
	t.Run("404 invoice not found", func(t *testing.T) {
		r := must(t, http.StatusNotFound, s.do(t, "POST", "/api/v1/invoices/8f9a0b1c-2d3e-4f5a-6b7c-8d9e0f1a2b3c/email", stornoHeaders(token), stornoExampleBody))
		if code, _ := errorOf(r); code != "not_found" {
			t.Errorf("code %q", code)
		}
	})
	t.Run("422 invoice not issued", func(t *testing.T) {
		r := must(t, http.StatusUnprocessableEntity, s.do(t, "POST", "/api/v1/invoices/"+draftID+"/email", stornoHeaders(token), stornoExampleBody))
		if code, _ := errorOf(r); code != "invoice_not_issued" {
			t.Errorf("code %q, want invoice_not_issued", code)
		}
		inv := must(t, http.StatusOK, s.do(t, "GET", "/api/v1/invoices/"+draftID, bearer(token), "")).object(t)["data"].(map[string]any)
		if inv["status"] != "draft" || len(s.stornoHistory(t, token, draftID)) != 0 {
			t.Errorf("after the refusal the invoice is %v with %d emails, want a draft with none", inv["status"], len(s.stornoHistory(t, token, draftID)))
		}
	})
	t.Run("429 emails per hour", func(t *testing.T) {
		must(t, http.StatusOK, s.do(t, "POST", path, stornoHeaders(token), stornoExampleBody))
		r := must(t, http.StatusTooManyRequests, s.do(t, "POST", path, stornoHeaders(token), stornoExampleBody))
		if code, _ := errorOf(r); code != "rate_limited" || r.Header.Get("Retry-After") == "" {
			t.Errorf("code %q, Retry-After %q", code, r.Header.Get("Retry-After"))
		}
		if n := len(s.stornoHistory(t, token, stornoInvoiceID)); n != 1 {
			t.Errorf("%d emails in the history, want the one accepted", n)
		}
	})
}
