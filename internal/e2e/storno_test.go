package e2e

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// uuidPattern matches a UUID in its lower-case hyphenated form.
var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// stornoCompany is the company UUID of Storno's examples.
const stornoCompany = "550e8400-e29b-41d4-a716-446655440000"

// stornoTenant creates a tenant with a company UUID and settings, and
// returns its token.
func (h *harness) stornoTenant(companyID string, settings map[string]any) string {
	h.t.Helper()
	r := h.must(http.StatusCreated, h.do("POST", "/admin/v1/tenants", adminToken, map[string]any{"name": "Storno SRL", "companyId": companyID}))
	if r.data()["companyId"] != strings.ToLower(companyID) {
		h.t.Fatalf("created tenant = %s", r.Raw)
	}
	token := r.data()["token"].(string)
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, settings))
	return token
}

// emailHistory returns GET …/emails.
func (h *harness) emailHistory(token, invoiceID string) []map[string]any {
	h.t.Helper()
	r := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/"+invoiceID+"/emails", token, nil))
	var out []map[string]any
	for _, e := range r.Body["emails"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

// TestXCompany: X-Company and X-Tenant-ID accept the tenant's id or its
// company UUID, which the tenant can change, and nothing else.
func TestXCompany(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.stornoTenant(strings.ToUpper(stornoCompany), acmeSettings())
	id := h.tenantID(token)
	// Another tenant with the same company UUID is allowed: the header
	// only confirms the tenant the token names.
	twin := h.stornoTenant(stornoCompany, acmeSettings())

	check := func(tok, header, value string, want int) {
		t.Helper()
		if r := h.do("GET", "/api/v1/settings", tok, nil, header, value); r.Status != want {
			t.Errorf("%s: %s = %d, want %d: %s", header, value, r.Status, want, r.Raw)
		}
	}
	check(token, "X-Company", stornoCompany, http.StatusOK)
	check(token, "X-Company", strings.ToUpper(stornoCompany), http.StatusOK)
	check(token, "X-Company", id, http.StatusOK)
	check(token, "X-Tenant-ID", stornoCompany, http.StatusOK)
	check(twin, "X-Company", stornoCompany, http.StatusOK)
	check(token, "X-Company", "Storno SRL", http.StatusForbidden) // the name no longer does
	check(token, "X-Company", "7c9e6679-7425-40de-944b-e07fc1f90ae7", http.StatusForbidden)
	check(token, "X-Tenant-ID", h.tenantID(twin), http.StatusForbidden)

	got := h.must(http.StatusOK, h.do("GET", "/api/v1/settings", token, nil)).data()
	if got["companyId"] != stornoCompany {
		t.Fatalf("GET settings companyId = %v", got["companyId"])
	}
	// PUT without companyId keeps it; with one, changes it; "" removes it.
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, acmeSettings()))
	check(token, "X-Company", stornoCompany, http.StatusOK)
	const next = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	settings := acmeSettings()
	settings["companyId"] = next
	if r := h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, settings)); r.data()["companyId"] != next {
		t.Fatalf("PUT settings answer = %s", r.Raw)
	}
	check(token, "X-Company", next, http.StatusOK)
	check(token, "X-Company", stornoCompany, http.StatusForbidden)
	check(twin, "X-Company", stornoCompany, http.StatusOK)
	settings["companyId"] = ""
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, settings))
	check(token, "X-Company", next, http.StatusForbidden)
	check(token, "X-Company", id, http.StatusOK)

	for _, bad := range []any{"ACME", 12} {
		settings["companyId"] = bad
		if r := h.must(http.StatusBadRequest, h.do("PUT", "/api/v1/settings", token, settings)); r.errorFields()["companyId"] == nil {
			t.Errorf("PUT companyId %v = %s", bad, r.Raw)
		}
	}
	r := h.must(http.StatusBadRequest, h.do("POST", "/admin/v1/tenants", adminToken, map[string]any{"name": "X", "companyId": "not-a-uuid"}))
	if r.errorFields()["companyId"] == nil {
		t.Fatalf("admin create with a bad companyId = %s", r.Raw)
	}
}

// TestStornoEmailRoute follows Storno's email route: what it refuses, and
// an accepted email's answer, message and history.
func TestStornoEmailRoute(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.stornoTenant(stornoCompany, acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_draft")))
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_open")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_open/finalize", token, nil))
	email := func(id string, body any) response {
		t.Helper()
		return h.do("POST", "/api/v1/invoices/"+id+"/email", token, body, "X-Company", stornoCompany)
	}

	// A draft is not issued: 422, and it is neither sent nor finalized.
	r := h.must(http.StatusUnprocessableEntity, email("inv_draft", map[string]any{"to": "ana@example.com"}))
	if r.errorCode() != "invoice_not_issued" || !strings.Contains(r.Body["error"].(map[string]any)["message"].(string), "draft") {
		t.Fatalf("draft = %s", r.Raw)
	}
	inv := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_draft", token, nil)).data()
	if inv["status"] != "draft" || len(h.deliveries(token, "inv_draft")) != 0 {
		t.Fatalf("after the refused email the draft is %v with %d deliveries", inv["status"], len(h.deliveries(token, "inv_draft")))
	}

	// to is required, and must be an address.
	for _, body := range []any{nil, map[string]any{}, map[string]any{"to": ""}, map[string]any{"to": "not-an-address"},
		map[string]any{"to": "a@b.co, c@d.co"}} {
		r := h.must(http.StatusBadRequest, email("inv_open", body))
		if r.errorFields()["to"] == nil {
			t.Errorf("body %v: error = %s, want one naming to", body, r.Raw)
		}
	}
	r = h.must(http.StatusBadRequest, email("inv_open", map[string]any{"to": "ana@example.com", "cc": "boss@example.com, nope"}))
	if r.errorFields()["cc[1]"] == nil {
		t.Fatalf("invalid cc = %s", r.Raw)
	}
	h.must(http.StatusNotFound, email("inv_missing", map[string]any{"to": "ana@example.com"}))

	// cc as Storno documents it, a comma-separated string, comes back as
	// sent; bcc is accepted too; attachXml adds the XML.
	const cc = "boss@example.com,accounts@example.com"
	r = h.must(http.StatusOK, email("inv_open", map[string]any{"to": "client@example.com", "cc": cc, "bcc": "audit@example.com",
		"subject": "Factura {invoice_number}", "body": "Buna ziua,\n\nGasiti atasat factura.", "attachPdf": true, "attachXml": true}))
	b := r.Body
	if b["success"] != true || b["to"] != "client@example.com" || b["cc"] != cc || b["subject"] != "Factura INV-open" ||
		b["deliveryStatus"] != "queued" || !uuidPattern.MatchString(b["emailId"].(string)) {
		t.Fatalf("answer = %s", r.Raw)
	}
	if att := b["attachments"].([]any); len(att) != 2 || att[0] != "INV-open.pdf" || att[1] != "INV-open.xml" {
		t.Fatalf("attachments = %v", att)
	}
	sentAt, err := time.Parse(time.RFC3339, b["sentAt"].(string))
	if err != nil || time.Since(sentAt) > time.Minute || time.Until(sentAt) > time.Second {
		t.Fatalf("sentAt = %v (%v), want about now", b["sentAt"], err)
	}
	ds := h.deliveries(token, "inv_open")
	if len(ds) != 1 || ds[0]["id"] != b["deliveryId"] {
		t.Fatalf("deliveryId %v, deliveries %v", b["deliveryId"], ds)
	}

	eventually(t, 10*time.Second, "the email", func() bool { return len(h.emails()) == 1 })
	e := parseEmail(t, mustRead(t, h.emails()[0]))
	ccs, err := e.Header.AddressList("Cc")
	if e.Header.Get("Subject") != "Factura INV-open" || err != nil || len(ccs) != 2 ||
		ccs[0].Address != "boss@example.com" || ccs[1].Address != "accounts@example.com" {
		t.Errorf("email subject %q, cc %q", e.Header.Get("Subject"), e.Header.Get("Cc"))
	}
	if e.Header.Get("Bcc") != "" {
		t.Errorf("the Bcc header shows: %q", e.Header.Get("Bcc"))
	}
	if _, ok := e.Attachments["INV-open.xml"]; !ok {
		t.Errorf("no XML attachment: %v", keys(e.Attachments))
	}

	eventually(t, 10*time.Second, "the email sent", func() bool {
		hist := h.emailHistory(token, "inv_open")
		return len(hist) == 1 && hist[0]["deliveryStatus"] == "sent"
	})
	entry := h.emailHistory(token, "inv_open")[0]
	if entry["emailId"] != b["emailId"] || entry["deliveryId"] != b["deliveryId"] || entry["subject"] != "Factura INV-open" ||
		entry["cc"] != "boss@example.com, accounts@example.com" || entry["to"] != "client@example.com" {
		t.Fatalf("history entry = %v", entry)
	}
	if att := entry["attachments"].([]any); len(att) != 2 || att[0] != "INV-open.pdf" || att[1] != "INV-open.xml" {
		t.Fatalf("history attachments = %v", att)
	}

	// A paid invoice can be emailed; a void one cannot.
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_open/mark-paid", token, nil))
	h.must(http.StatusOK, email("inv_open", map[string]any{"to": "client@example.com", "cc": []string{"a@example.com", "b@example.com"}}))
	if hist := h.emailHistory(token, "inv_open"); len(hist) != 2 || hist[1]["cc"] != "a@example.com, b@example.com" {
		t.Fatalf("history after the paid invoice's email = %v", hist)
	}
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_void")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_void/void", token, nil))
	if r := h.must(http.StatusUnprocessableEntity, email("inv_void", map[string]any{"to": "ana@example.com"})); r.errorCode() != "invoice_not_sendable" {
		t.Fatalf("void = %s", r.Raw)
	}
}

// TestStornoEmailErrors reproduces the route's documented 403 and 429.
func TestStornoEmailErrors(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	settings := acmeSettings()
	settings["email"] = map[string]any{"provider": "smtp", "fromEmail": "billing@acme.test",
		"smtp": map[string]any{"host": h.SMTP.Host(), "port": h.SMTP.Port(), "username": "mailer", "password": "s3cret", "tls": "starttls"}}
	unverified := h.stornoTenant(stornoCompany, settings)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", unverified, sampleInvoice("inv_1")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_1/finalize", unverified, nil))
	r := h.must(http.StatusForbidden, h.do("POST", "/api/v1/invoices/inv_1/email", unverified, map[string]any{"to": "ana@example.com"}))
	if r.errorCode() != "sender_not_verified" {
		t.Fatalf("unverified sender = %s", r.Raw)
	}

	settings = acmeSettings()
	settings["defaults"] = map[string]any{"emailsPerHour": 1}
	limited := h.stornoTenant(stornoCompany, settings)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", limited, sampleInvoice("inv_1")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_1/finalize", limited, nil))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_1/email", limited, map[string]any{"to": "ana@example.com"}))
	r = h.must(http.StatusTooManyRequests, h.do("POST", "/api/v1/invoices/inv_1/email", limited, map[string]any{"to": "ana@example.com"}))
	if r.errorCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("over the limit = %s (Retry-After %q)", r.Raw, r.Header.Get("Retry-After"))
	}
	if n := len(h.emailHistory(limited, "inv_1")); n != 1 {
		t.Fatalf("%d emails in the history, want the one accepted", n)
	}
}

// TestEmailHistoryRecordsWhatWasSent: once sent, an email's history keeps
// the subject and attachments it went out with, whatever the tenant's
// templates say later; one not sent yet shows what it would carry now.
func TestEmailHistoryRecordsWhatWasSent(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["templates"] = map[string]any{"en": map[string]any{"subject": "Invoice {invoice_number}, first wording", "body": "See attached."}}
	token := h.tenant("ACME SRL", settings)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_h")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_h/finalize", token, nil))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_h/email", token, map[string]any{"to": "ana@example.com", "attachXml": true}))
	eventually(t, 10*time.Second, "the email sent", func() bool {
		hist := h.emailHistory(token, "inv_h")
		return len(hist) == 1 && hist[0]["deliveryStatus"] == "sent"
	})
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_h/send", token, map[string]any{"scheduledAt": at.Format(time.RFC3339)}))

	settings["templates"] = map[string]any{"en": map[string]any{"subject": "Invoice {invoice_number}, second wording", "body": "See attached."}}
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, settings))

	hist := h.emailHistory(token, "inv_h")
	if len(hist) != 2 {
		t.Fatalf("history = %v", hist)
	}
	if hist[0]["subject"] != "Invoice INV-h, first wording" {
		t.Errorf("the sent email's subject = %v, want the one it was sent with", hist[0]["subject"])
	}
	if att := hist[0]["attachments"].([]any); !slices.Equal(att, []any{"INV-h.pdf", "INV-h.xml"}) {
		t.Errorf("the sent email's attachments = %v", att)
	}
	if hist[1]["subject"] != "Invoice INV-h, second wording" || hist[1]["deliveryStatus"] != "scheduled" {
		t.Errorf("the scheduled email = %v, want today's wording", hist[1])
	}
	if got, err := time.Parse(time.RFC3339, hist[1]["sentAt"].(string)); err != nil || !got.Equal(at) {
		t.Errorf("the scheduled email's sentAt = %v, want its time %s", hist[1]["sentAt"], at)
	}
	if hist[0]["emailId"] == hist[1]["emailId"] {
		t.Error("two emails share an emailId")
	}
}
