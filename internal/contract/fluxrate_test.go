package contract

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/mailtest"
	"github.com/invoiced/invoiced/internal/pdftest"
	"github.com/invoiced/invoiced/providers/smtp/smtptest"
	"github.com/invoiced/invoiced/providers/stripe/stripetest"
)

// The documented answer of Fluxrate's send-email, verbatim
// (fluxrate-pdf-email.txt, "Response").
const fluxrateSendEmailAnswer = `{
  "success": true,
  "message": "Invoice email sent successfully",
  "payment_link": "https://checkout.stripe.com/..."
}`

// TestFluxrate sends Fluxrate's documented requests to the binary: the
// send-email with nothing but the access_token cookie, on a draft, with
// SMTP and Stripe configured; the finalization without email; and a send
// for a tenant without SMTP.
func TestFluxrate(t *testing.T) {
	t.Parallel()
	mailer := smtptest.Start(t, smtptest.Options{Username: "mailer", Password: "s3cret"})
	caFile := filepath.Join(t.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(caFile, mailer.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, withStripe, withoutDefaultEmail, withEnv("INVOICED_SMTP_CA_FILE="+caFile))
	cookie := func(token string) map[string]string { return map[string]string{"Cookie": "access_token=" + token} }

	settings := acmeSettings()
	settings["email"] = map[string]any{"provider": "smtp", "fromEmail": "billing@acme.test", "fromName": "ACME Billing",
		"smtp": map[string]any{"host": "127.0.0.1", "port": mailer.Port(), "username": "mailer", "password": "s3cret", "tls": "starttls"}}
	settings["payments"] = map[string]any{"gateway": "stripe", "stripe": map[string]any{"secretKey": stripetest.TestKey}}
	_, token := s.tenant(t, "ACME Corp", settings)
	verifySMTPSender(t, s, mailer, token)

	t.Run("send-email", func(t *testing.T) {
		id := s.invoice(t, token, sampleInvoice("inv_flux"))
		before := len(mailer.Messages())
		// The documented request: curl -X POST …/send-email -H "Cookie: access_token=<token>"
		r := must(t, http.StatusOK, s.do(t, "POST", "/api/v1/invoices/"+id+"/send-email", cookie(token), ""))
		got := r.object(t)
		matchShape(t, "send-email", fluxrateSendEmailAnswer, got)
		link, _ := got["payment_link"].(string)
		if got["success"] != true || !strings.HasPrefix(link, "https://") {
			t.Fatalf("send-email answered %s; want success and the Stripe link", r.Raw)
		}
		inv := invoiceData(t, s, token, id)
		if inv["status"] != "open" || inv["paymentLink"] != link {
			t.Errorf("the invoice is %v with link %v; want open with the answered link %s", inv["status"], inv["paymentLink"], link)
		}
		msgs := mailer.WaitForMessages(t, before+1, 20*time.Second)
		e, err := mailtest.Parse(msgs[before].Data)
		if err != nil {
			t.Fatal(err)
		}
		if to := e.Header.Get("To"); !strings.Contains(to, "ana@example.com") {
			t.Errorf("emailed to %q, want the customer", to)
		}
		if !strings.Contains(e.Text, link) && !strings.Contains(e.HTML, "/t/c/") {
			t.Errorf("the email carries no payment link:\n%s", e.Text)
		}
		pdf, ok := e.Attachments["INV-flux.pdf"]
		if !ok {
			t.Fatalf("no PDF attached: %v", keys(e.Attachments))
		}
		// What Fluxrate says its PDF holds: branding, the customer, the
		// lines, the tax breakdown, the total due, the bank details and
		// the payment link.
		text := pdftest.Text(t, pdf)
		for _, want := range []string{"ACME Corp", "Ana Popescu", "Consulting", "19%", "1,130.50", "RO49 AAAA 1B31 0075 9384 0000", "stripe"} {
			if !strings.Contains(strings.ToLower(text), strings.ToLower(want)) {
				t.Errorf("the PDF does not show %q (the payment link is %s):\n%s", want, link, text)
			}
		}
	})

	t.Run("finalize", func(t *testing.T) {
		id := s.invoice(t, token, sampleInvoice("inv_flux_final"))
		before := len(mailer.Messages())
		must(t, http.StatusOK, s.do(t, "POST", "/api/v1/invoices/"+id+"/finalize", cookie(token), ""))
		eventually(t, 15*time.Second, "the payment link", func() bool {
			link, _ := invoiceData(t, s, token, id)["paymentLink"].(string)
			return strings.HasPrefix(link, "https://")
		})
		if inv := invoiceData(t, s, token, id); inv["status"] != "open" {
			t.Errorf("finalize left the invoice %v", inv["status"])
		}
		time.Sleep(500 * time.Millisecond)
		if n := len(mailer.Messages()); n != before {
			t.Errorf("finalizing emailed %d messages; it must not email", n-before)
		}
	})

	t.Run("without SMTP", func(t *testing.T) {
		plain := acmeSettings()
		delete(plain, "email")
		plain["payments"] = settings["payments"]
		_, other := s.tenant(t, "No Mail SRL", plain)
		id := s.invoice(t, other, sampleInvoice("inv_flux_nomail"))
		r := s.do(t, "POST", "/api/v1/invoices/"+id+"/send-email", cookie(other), "")
		got := r.object(t)
		if r.Status != http.StatusUnprocessableEntity || got["success"] != false {
			t.Fatalf("send-email without SMTP answered %d %s; want 422 success false", r.Status, r.Raw)
		}
		if msg, _ := got["message"].(string); !strings.Contains(msg, "email provider") {
			t.Errorf("message %q does not say what is missing", msg)
		}
		inv := invoiceData(t, s, other, id)
		if inv["status"] != "open" {
			t.Errorf("the invoice is %v; Fluxrate finalizes it all the same", inv["status"])
		}
		link, _ := got["payment_link"].(string)
		if link == "" {
			eventually(t, 15*time.Second, "the payment link", func() bool {
				link, _ = invoiceData(t, s, other, id)["paymentLink"].(string)
				return link != ""
			})
		}
		if !strings.HasPrefix(link, "https://") {
			t.Errorf("payment link %q", link)
		}
	})
}

// verifySMTPSender confirms the tenant's from address with the code the
// binary mails to it.
func verifySMTPSender(t *testing.T, s *system, mailer *smtptest.Server, token string) {
	t.Helper()
	before := len(mailer.Messages())
	must(t, http.StatusAccepted, s.do(t, "POST", "/api/v1/settings/email/verify", bearer(token), ""))
	msgs := mailer.WaitForMessages(t, before+1, 20*time.Second)
	e, err := mailtest.Parse(msgs[before].Data)
	if err != nil {
		t.Fatal(err)
	}
	subject := e.Subject()
	code := subject[strings.LastIndex(subject, " ")+1:]
	body, _ := json.Marshal(map[string]string{"code": code})
	must(t, http.StatusOK, s.do(t, "POST", "/api/v1/settings/email/verify", bearer(token), string(body)))
}

// invoiceData is the canonical GET of an invoice.
func invoiceData(t *testing.T, s *system, token, id string) map[string]any {
	t.Helper()
	r := must(t, http.StatusOK, s.do(t, "GET", "/api/v1/invoices/"+id, bearer(token), ""))
	data, _ := r.object(t)["data"].(map[string]any)
	return data
}

func keys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
