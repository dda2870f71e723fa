package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/pdftest"
	"github.com/invoiced/invoiced/providers/ses/sestest"
)

func sesSettings(from string) map[string]any {
	s := acmeSettings()
	s["email"] = map[string]any{"provider": "ses", "fromEmail": from, "fromName": "ACME Billing", "replyTo": "accounts@acme.test",
		"ses": map[string]any{"region": "eu-west-1", "accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "example-secret", "configurationSet": "invoiced-events"}}
	return s
}

// TestSESEndToEnd sends an invoice through the SES v2 emulator: the stored
// message has the customer, the subject and the PDF.
func TestSESEndToEnd(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.ses = true })
	token := h.tenant("ACME SRL", sesSettings("billing@acme.test"))
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_ses")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_ses/send", token, map[string]any{"cc": []string{"boss@example.com"}}))
	eventually(t, 15*time.Second, "the delivery sent through SES", func() bool {
		ds := h.deliveries(token, "inv_ses")
		return len(ds) == 1 && ds[0]["status"] == "sent"
	})
	d := h.deliveries(token, "inv_ses")[0]
	if d["provider"] != "ses" {
		t.Fatalf("delivery = %v", d)
	}
	stored := sestest.Emails(t, h.SESEndpoint)
	if len(stored) != 1 {
		t.Fatalf("the emulator holds %d messages, want 1", len(stored))
	}
	e := stored[0]
	if !strings.Contains(strings.Join(e.Destination.To, ","), "ana@example.com") || !strings.Contains(strings.Join(e.Destination.Cc, ","), "boss@example.com") {
		t.Errorf("destination = %+v", e.Destination)
	}
	if !strings.Contains(e.Subject, "INV-ses") || !strings.Contains(e.From, "billing@acme.test") {
		t.Errorf("subject %q from %q", e.Subject, e.From)
	}
	if len(e.Attachments) != 1 || e.Attachments[0].Filename != "INV-ses.pdf" || e.Attachments[0].ContentType != "application/pdf" {
		t.Fatalf("attachments = %+v", e.Attachments)
	}
	if text := pdftest.Text(t, e.Attachments[0].Content); !strings.Contains(text, "INV-ses") || !strings.Contains(text, "Ana Popescu") {
		t.Errorf("the attached PDF reads:\n%s", text)
	}
	assertNotLogged(t, h, "example-secret")
}

func TestSESUnverifiedSenderIsRefused(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker, o.ses = true, true })
	token := h.tenant("ACME SRL", sesSettings(unverifiedSender))
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_u")))
	r := h.must(http.StatusForbidden, h.do("POST", "/api/v1/invoices/inv_u/send", token, nil))
	if r.errorCode() != "sender_not_verified" || !strings.Contains(r.Body["error"].(map[string]any)["message"].(string), "SES") {
		t.Fatalf("response = %s", r.Raw)
	}
	// testMode needs no verification: it only writes to the outbox.
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_u/send", token, map[string]any{"testMode": true}))
}
