package contract

// What the emails say: Auxvault's "Email Customization" examples and
// Storno's default Romanian template ("Email template variables",
// "Default subject/body template (Romanian)"), read back from the outbox
// of the built binary.

import (
	"net/http"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/internal/mailtest"
)

// Auxvault's "Email Customization" request bodies, verbatim.
const (
	messagesCustomSubject = `{
  "subject": "Invoice #{{invoiceNumber}} from {{merchantName}}",
  "variables": {
    "invoiceNumber": "INV-12345",
    "merchantName": "ACME Corp"
  }
}`
	messagesCustomMessage = `{
  "message": "Hi {{customerName}},\n\nPlease find your invoice attached.\n\nThank you!\n{{merchantName}}"
}`
)

// messagesEmail waits until the outbox holds n emails and returns the one
// match picks, with its parts' line ends as "\n".
func messagesEmail(t *testing.T, s *system, n int, match func(mailtest.Email) bool) mailtest.Email {
	t.Helper()
	for _, e := range s.emails(t, n) {
		e.Text = strings.ReplaceAll(e.Text, "\r\n", "\n")
		e.HTML = strings.ReplaceAll(e.HTML, "\r\n", "\n")
		if match(e) {
			return e
		}
	}
	t.Fatalf("none of the %d emails in the outbox is the one wanted", n)
	return mailtest.Email{}
}

// messagesAccepted fails t unless r is a successful send: Auxvault
// documents success true and no status code.
func messagesAccepted(t *testing.T, r response) {
	t.Helper()
	if (r.Status != http.StatusOK && r.Status != http.StatusAccepted) || r.object(t)["success"] != true {
		t.Fatalf("send answered %d %s, want success", r.Status, r.Raw)
	}
}

func TestAuxvaultEmailCustomization(t *testing.T) {
	t.Parallel()
	s := start(t)
	settings := acmeSettings()
	// A branding name and a from-name other than the example's merchant,
	// so that the subject shows the send's variables won.
	settings["branding"].(map[string]any)["name"] = "Initech SRL"
	settings["email"].(map[string]any)["fromName"] = "Initech Billing"
	settings["payments"] = map[string]any{"gateway": "static",
		"static": map[string]any{"urlTemplate": "https://pay.initech.test/{invoiceId}"}}
	tenantID, token := s.tenant(t, "Initech SRL", settings)
	headers := map[string]string{"Authorization": "Bearer " + token, "X-Tenant-ID": tenantID, "Content-Type": "application/json"}

	// Custom Subject Line: the send's variables override the invoice's
	// number and the tenant's name.
	subjID := s.invoice(t, token, sampleInvoice("inv_subject"))
	messagesAccepted(t, s.do(t, "POST", "/api/v1/invoices/"+subjID+"/send", headers, messagesCustomSubject))
	e := messagesEmail(t, s, 1, func(e mailtest.Email) bool { return strings.Contains(e.Text, "INV-12345") })
	if got, want := e.Subject(), "Invoice #INV-12345 from ACME Corp"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
	if from := e.Header.Get("From"); !strings.Contains(from, "Initech Billing") {
		t.Errorf("From = %q, want the tenant's from-name", from)
	}

	// Custom Message: the send's text, then the invoice's number, amount
	// and how to pay.
	msgID := s.invoice(t, token, sampleInvoice("inv_message"))
	messagesAccepted(t, s.do(t, "POST", "/api/v1/invoices/"+msgID+"/send", headers, messagesCustomMessage))
	e = messagesEmail(t, s, 2, func(e mailtest.Email) bool { return strings.Contains(e.Subject(), "INV-message") })
	if want := "Hi Ana Popescu,\n\nPlease find your invoice attached.\n\nThank you!\nInitech SRL\n\n"; !strings.HasPrefix(e.Text, want) {
		t.Errorf("text does not start with %q:\n%s", want, e.Text)
	}
	for _, want := range []string{"Invoice: INV-message\n", "Amount due: €1,130.50\n", "Due date: 21 Dec 2026\n",
		"Pay online: https://pay.initech.test/" + msgID + "\n", "View invoice: " + s.URL + "/i/"} {
		if !strings.Contains(e.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, e.Text)
		}
	}
	for _, want := range []string{">€1,130.50</div>", "Thank you!<br>Initech SRL</p>",
		`<a class="em-pay" href="https://pay.initech.test/` + msgID + `" style="display:inline-block;`, ">Pay €1,130.50</a>"} {
		if !strings.Contains(e.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, e.HTML)
		}
	}
}

func TestStornoDefaultRomanianEmail(t *testing.T) {
	t.Parallel()
	s := start(t)
	settings := acmeSettings()
	settings["branding"].(map[string]any)["name"] = "Your Company SRL"
	settings["email"].(map[string]any)["fromName"] = "Your Company Billing"
	tenantID, token := s.tenant(t, "Your Company SRL", settings)
	id := s.invoice(t, token, map[string]any{
		"id": "inv_storno", "number": "FAC-2024-001", "currency": "RON",
		// An English invoice: the requests' language picks Romanian.
		"issueDate": "2024-02-15", "dueDate": "2024-03-15", "language": "en",
		"customer": map[string]any{"name": "Acme Corporation SRL", "email": "client@example.com",
			"address": map[string]any{"line1": "Str. Lalelelor 5", "city": "Cluj-Napoca", "postalCode": "400000", "country": "RO"}},
		"lines": []any{map[string]any{"description": "Servicii", "quantity": "1", "unitPrice": "1000.00", "taxRate": "19"}},
	})
	headers := map[string]string{"Authorization": "Bearer " + token, "X-Company": tenantID, "Content-Type": "application/json"}
	const (
		subject = "Factura FAC-2024-001 de la Your Company SRL"
		body    = `Buna ziua,

Gasiti atasat factura FAC-2024-001 in valoare de 1,190.00 RON.

Detalii factura:
- Numar: FAC-2024-001
- Data emiterii: 15.02.2024
- Scadenta: 15.03.2024
- Total: 1,190.00 RON

Multumim!
Your Company SRL
`
	)

	defaults := must(t, http.StatusOK, s.do(t, "GET", "/api/v1/invoices/"+id+"/email-defaults?language=ro", headers, "")).object(t)
	data, _ := defaults["data"].(map[string]any)
	if data["subject"] != subject {
		t.Errorf("email-defaults subject %q, want %q", data["subject"], subject)
	}
	if data["body"] != body {
		t.Errorf("email-defaults body\n got %q\nwant %q", data["body"], body)
	}

	// Storno emails issued invoices.
	must(t, http.StatusOK, s.do(t, "POST", "/api/v1/invoices/"+id+"/finalize", bearer(token), ""))
	r := must(t, http.StatusOK, s.do(t, "POST", "/api/v1/invoices/"+id+"/email", headers, `{"to": "client@example.com", "language": "ro"}`))
	if got := r.object(t)["subject"]; got != subject {
		t.Errorf("the answer's subject %q, want %q", got, subject)
	}
	e := messagesEmail(t, s, 1, func(mailtest.Email) bool { return true })
	if e.Subject() != subject {
		t.Errorf("email subject %q, want %q", e.Subject(), subject)
	}
	if e.Text != body {
		t.Errorf("email text\n got %q\nwant %q", e.Text, body)
	}
	if to := e.Header.Get("To"); !strings.Contains(to, "client@example.com") {
		t.Errorf("To = %q", to)
	}
}
