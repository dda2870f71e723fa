package e2e

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/pdftest"
	"github.com/invoiced/invoiced/render/locale"
)

// checkEmailedInvoice asserts one email to the customer with the invoice PDF
// attached, and that the PDF reads right.
func checkEmailedInvoice(t *testing.T, raw []byte, number, total string) parsedEmail {
	t.Helper()
	e := parseEmail(t, raw)
	if to := e.Header.Get("To"); !strings.Contains(to, "ana@example.com") {
		t.Fatalf("To = %q, want the customer", to)
	}
	if subj := e.Header.Get("Subject"); !strings.Contains(subj, number) {
		t.Errorf("Subject = %q, want the invoice number", subj)
	}
	pdf, ok := e.Attachments[number+".pdf"]
	if !ok {
		t.Fatalf("no %s.pdf attachment; attachments: %v", number, keys(e.Attachments))
	}
	text := pdftest.Text(t, pdf)
	for _, want := range []string{number, "Ana Popescu", locale.Money(total, "EUR", "en"), "ACME SRL"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q:\n%s", want, text)
		}
	}
	return e
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// deliveries returns the invoice's deliveries from delivery-status.
func (h *harness) deliveries(token, invoiceID string) []map[string]any {
	h.t.Helper()
	r := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/"+invoiceID+"/delivery-status", token, nil))
	var out []map[string]any
	list, _ := r.data()["deliveries"].([]any)
	for _, d := range list {
		out = append(out, d.(map[string]any))
	}
	return out
}

func historyOf(d map[string]any) []string {
	var out []string
	for _, h := range d["history"].([]any) {
		out = append(out, h.(map[string]any)["status"].(string))
	}
	return out
}

func TestWalkthroughOutbox(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", acmeSettings())

	r := h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_1001")))
	d := r.data()
	if d["status"] != "draft" || d["total"] != "1130.50" || d["taxTotal"] != "180.50" {
		t.Fatalf("created invoice = %s", r.Raw)
	}

	r = h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_1001/send", token, nil))
	if r.data()["status"] != "queued" || r.data()["sendId"] == "" {
		t.Fatalf("send response = %s", r.Raw)
	}

	eventually(t, 10*time.Second, "one email in the outbox", func() bool { return len(h.emails()) == 1 })
	raw, err := os.ReadFile(h.emails()[0])
	if err != nil {
		t.Fatal(err)
	}
	checkEmailedInvoice(t, raw, "INV-1001", "1130.50")

	inv := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_1001", token, nil)).data()
	if inv["status"] != "open" {
		t.Errorf("invoice status = %v, want open", inv["status"])
	}
	eventually(t, 5*time.Second, "delivery sent", func() bool {
		ds := h.deliveries(token, "inv_1001")
		return len(ds) == 1 && ds[0]["status"] == "sent"
	})
	ds := h.deliveries(token, "inv_1001")
	if got := strings.Join(historyOf(ds[0]), ","); got != "queued,sent" {
		t.Errorf("history = %s, want queued,sent", got)
	}
	if ds[0]["sentTo"] != "ana@example.com" || ds[0]["method"] != "email" || ds[0]["sentAt"] == nil {
		t.Errorf("delivery = %v", ds[0])
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(h.emails()); n != 1 {
		t.Fatalf("outbox holds %d emails, want exactly 1", n)
	}

	pdf := h.do("GET", "/api/v1/invoices/inv_1001/pdf", token, nil)
	if pdf.Status != http.StatusOK || pdf.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("GET pdf = %d %s", pdf.Status, pdf.Header.Get("Content-Type"))
	}
	if text := pdftest.Text(t, pdf.Raw); !strings.Contains(text, "INV-1001") {
		t.Errorf("GET pdf text lacks the number:\n%s", text)
	}
	public := h.do("GET", strings.TrimPrefix(inv["publicPdfUrl"].(string), h.URL), "", nil)
	if public.Status != http.StatusOK {
		t.Errorf("public PDF link = %d", public.Status)
	}
}

func TestWalkthroughSMTP(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["email"] = map[string]any{
		"provider": "smtp", "fromEmail": "billing@acme.test", "fromName": "ACME Billing", "replyTo": "accounts@acme.test",
		"smtp": map[string]any{"host": h.SMTP.Host(), "port": h.SMTP.Port(), "username": "mailer", "password": "s3cret", "tls": "starttls"},
	}
	token := h.tenant("ACME SRL", settings)

	got := h.must(http.StatusOK, h.do("GET", "/api/v1/settings", token, nil))
	if strings.Contains(string(got.Raw), "s3cret") {
		t.Fatalf("GET settings shows the SMTP password: %s", got.Raw)
	}

	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_2001")))
	// An unverified sender address is refused at the API.
	r := h.must(http.StatusForbidden, h.do("POST", "/api/v1/invoices/inv_2001/send", token, nil))
	if r.errorCode() != "sender_not_verified" {
		t.Fatalf("unverified send = %s", r.Raw)
	}
	h.verifySMTPSender(token)
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_2001/send", token, map[string]any{"cc": "boss@example.com"}))
	msgs := h.SMTP.WaitForMessages(t, 2, 10*time.Second)[1:]
	if len(msgs) != 1 || !msgs[0].TLS || msgs[0].Username != "mailer" {
		t.Fatalf("SMTP got %d messages (TLS %v, user %q), want 1 over STARTTLS with auth", len(msgs), len(msgs) > 0 && msgs[0].TLS, msgs[0].Username)
	}
	if strings.Join(msgs[0].To, ",") != "ana@example.com,boss@example.com" {
		t.Errorf("envelope recipients = %v", msgs[0].To)
	}
	e := checkEmailedInvoice(t, msgs[0].Data, "INV-2001", "1130.50")
	if e.Header.Get("Reply-To") == "" {
		t.Error("no Reply-To header")
	}
	eventually(t, 5*time.Second, "delivery sent via smtp", func() bool {
		ds := h.deliveries(token, "inv_2001")
		return len(ds) == 1 && ds[0]["status"] == "sent" && ds[0]["provider"] == "smtp"
	})
	time.Sleep(300 * time.Millisecond)
	if n := len(h.SMTP.Messages()); n != 2 {
		t.Fatalf("SMTP received %d messages, want the verification and exactly 1 invoice", n)
	}
	assertNotLogged(t, h, "s3cret", token)
}

// assertNotLogged fails if any log entry, message or field, holds one of
// the secrets.
func assertNotLogged(t *testing.T, h *harness, secrets ...string) {
	t.Helper()
	entries := h.Logs.All()
	if len(entries) == 0 {
		t.Fatal("no log entries were captured; the check would prove nothing")
	}
	for _, e := range entries {
		line := e.Message + " " + fmt.Sprint(e.ContextMap())
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Fatalf("a secret was logged: %s", line)
			}
		}
	}
}

func TestSMTPFailures(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["email"] = map[string]any{
		"provider": "smtp", "fromEmail": "billing@acme.test",
		"smtp": map[string]any{"host": h.SMTP.Host(), "port": h.SMTP.Port(), "username": "mailer", "password": "s3cret"},
	}
	token := h.tenant("ACME SRL", settings)
	h.verifySMTPSender(token)
	verification := len(h.SMTP.Messages())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_1")))

	// A 550 is permanent: failed at once with the reason, no retry.
	h.SMTP.FailNext(1, 550, "mailbox unavailable")
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_1/send", token, nil))
	eventually(t, 10*time.Second, "delivery failed", func() bool {
		ds := h.deliveries(token, "inv_1")
		return len(ds) == 1 && ds[0]["status"] == "failed"
	})
	d := h.deliveries(token, "inv_1")[0]
	if !strings.Contains(d["error"].(string), "550") || len(d["attempts"].([]any)) != 1 {
		t.Fatalf("failed delivery = %v", d)
	}
	if len(h.SMTP.Messages()) != verification {
		t.Fatal("a rejected message was recorded as received")
	}

	// A 451 is transient: retried, every attempt kept, then sent.
	h.SMTP.FailNext(2, 451, "try again later")
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_1/resend", token, nil))
	eventually(t, 15*time.Second, "the resend to be sent after retries", func() bool {
		ds := h.deliveries(token, "inv_1")
		return len(ds) == 2 && ds[1]["status"] == "sent"
	})
	d = h.deliveries(token, "inv_1")[1]
	attempts := d["attempts"].([]any)
	if len(attempts) != 3 {
		t.Fatalf("attempts = %v, want two 451 failures and a success", attempts)
	}
	for i, a := range attempts[:2] {
		if e, _ := a.(map[string]any)["error"].(string); !strings.Contains(e, "451") {
			t.Errorf("attempt %d error = %q, want the 451", i, e)
		}
		if code, _ := a.(map[string]any)["code"].(string); code != "smtp_451" {
			t.Errorf("attempt %d code = %q, want smtp_451", i, code)
		}
	}
	if got := strings.Join(historyOf(d), ","); got != "queued,sent" {
		t.Errorf("history = %s", got)
	}
	if n := len(h.SMTP.Messages()) - verification; n != 1 {
		t.Fatalf("SMTP received %d invoice messages, want 1", n)
	}
}

func TestNoEmailProvider(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.defaultNil = true })
	settings := acmeSettings()
	delete(settings, "email")
	token := h.tenant("ACME SRL", settings)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_1")))
	r := h.must(http.StatusUnprocessableEntity, h.do("POST", "/api/v1/invoices/inv_1/send-email", token, nil))
	if r.Body["success"] != false || !strings.Contains(r.Body["message"].(string), "no email provider") {
		t.Fatalf("response = %s", r.Raw)
	}
	inv := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_1", token, nil)).data()
	if inv["status"] != "open" {
		t.Fatalf("invoice status = %v, want open (finalized even though not emailed)", inv["status"])
	}
	// testMode delivers to the outbox whatever the provider.
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_1/send", token, map[string]any{"testMode": true}))
	eventually(t, 10*time.Second, "test-mode email in the outbox", func() bool { return len(h.emails()) == 1 })
}
