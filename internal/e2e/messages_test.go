package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/mailtest"
)

// emailFor waits for the outbox email whose subject contains number and
// returns it, with its text and HTML parts' line ends as "\n".
func (h *harness) emailFor(t *testing.T, number string) mailtest.Email {
	t.Helper()
	var found mailtest.Email
	eventually(t, 10*time.Second, "the email of "+number, func() bool {
		for _, f := range h.emails() {
			e, err := mailtest.Parse(mustRead(t, f))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(e.Subject(), number) {
				e.Text, e.HTML = strings.ReplaceAll(e.Text, "\r\n", "\n"), strings.ReplaceAll(e.HTML, "\r\n", "\n")
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// TestSendMessageTexts sends invoices with the send options that shape the
// message, and reads what the worker put in the outbox: the send's
// variables over the invoice's, a send's own message with the invoice's
// summary after it, a note inside the built-in body, the tenant's branding
// name as the signature (its from-name stays the From name), amounts and
// dates in the message's language, and the SMS.
func TestSendMessageTexts(t *testing.T) {
	t.Parallel()
	h := setup(t)
	const payPrefix = "https://pay.acme.test/"
	token := h.tenant("ACME SRL", paymentSettings(map[string]any{"gateway": "static",
		"static": map[string]any{"urlTemplate": payPrefix + "{invoiceId}?amount={amount}&currency={currency}"}}))
	for _, id := range []string{"inv_vars", "inv_default", "inv_custom", "inv_note", "inv_ro", "inv_sms"} {
		h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice(id)))
	}
	send := func(id string, body map[string]any) {
		h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/"+id+"/send", token, body))
	}
	send("inv_vars", map[string]any{"subject": "Invoice #{{invoiceNumber}} from {{merchantName}} ({{ref}})",
		"variables": map[string]any{"invoiceNumber": "INV-12345", "merchantName": "ACME Corp", "ref": "INV-vars"}})
	send("inv_default", map[string]any{})
	send("inv_custom", map[string]any{"sendVia": []string{"email"}, "subject": "Invoice INV-custom",
		"message": "Hi {{customerName}},\n\nPlease find your invoice attached.\n\nThank you!\n{{merchantName}}"})
	send("inv_note", map[string]any{"note": "PO 4711: {{not expanded}}\n<delivered on site>"})
	send("inv_ro", map[string]any{"language": "ro"})
	send("inv_sms", map[string]any{"sendVia": []string{"sms"}})

	t.Run("variables override the invoice's", func(t *testing.T) {
		e := h.emailFor(t, "INV-vars")
		if got, want := e.Subject(), "Invoice #INV-12345 from ACME Corp (INV-vars)"; got != want {
			t.Errorf("subject %q, want %q", got, want)
		}
		if !strings.Contains(e.Text, "Your invoice INV-12345 for €1,130.50") || !strings.HasSuffix(e.Text, "Kind regards,\nACME Corp\n") {
			t.Errorf("the body does not use the send's values:\n%s", e.Text)
		}
		if !strings.Contains(e.HTML, ">Invoice from ACME Corp</h1>") {
			t.Errorf("the HTML header is not the send's merchant name:\n%s", e.HTML)
		}
	})

	t.Run("the built-in English email", func(t *testing.T) {
		e := h.emailFor(t, "INV-default")
		if got := e.Subject(); got != "Invoice INV-default from ACME SRL" {
			t.Errorf("subject %q, want the branding name", got)
		}
		if from := e.Header.Get("From"); !strings.Contains(from, "ACME Billing") || !strings.Contains(from, "billing@acme.test") {
			t.Errorf("From = %q, want the from-name ACME Billing", from)
		}
		for _, want := range []string{"Hello Ana Popescu,", "Your invoice INV-default for €1,130.50 is attached as a PDF.",
			"Payment is due by 21 Dec 2026.", "Pay online: " + payPrefix + "inv_default", "Kind regards,\nACME SRL\n"} {
			if !strings.Contains(e.Text, want) {
				t.Errorf("text lacks %q:\n%s", want, e.Text)
			}
		}
		if strings.Contains(e.Text, "€1,130.50 EUR") || strings.Contains(e.Text, "Invoice: ") {
			t.Errorf("text prints the currency code twice or a summary:\n%s", e.Text)
		}
	})

	t.Run("a custom message keeps the invoice's essentials", func(t *testing.T) {
		e := h.emailFor(t, "INV-custom")
		if !strings.HasPrefix(e.Text, "Hi Ana Popescu,\n\nPlease find your invoice attached.\n\nThank you!\nACME SRL\n\n") {
			t.Errorf("text does not start with the send's message:\n%s", e.Text)
		}
		for _, want := range []string{"Invoice: INV-custom\n", "Amount due: €1,130.50\n", "Due date: 21 Dec 2026\n",
			"Pay online: " + payPrefix + "inv_custom?", "View invoice: http"} {
			if !strings.Contains(e.Text, want) {
				t.Errorf("text lacks %q:\n%s", want, e.Text)
			}
		}
		for _, want := range []string{">€1,130.50</div>", "Thank you!<br>ACME SRL</p>", `<a class="em-pay" href="` + payPrefix + "inv_custom?",
			">Pay €1,130.50</a>", ">View / download invoice</a>"} {
			if !strings.Contains(e.HTML, want) {
				t.Errorf("HTML lacks %q:\n%s", want, e.HTML)
			}
		}
	})

	t.Run("a note goes after the greeting", func(t *testing.T) {
		e := h.emailFor(t, "INV-note")
		want := "Hello Ana Popescu,\n\nPO 4711: {{not expanded}}\n<delivered on site>\n\nYour invoice INV-note for €1,130.50"
		if !strings.HasPrefix(e.Text, want) {
			t.Errorf("text does not start with %q:\n%s", want, e.Text)
		}
		if !strings.Contains(e.HTML, "PO 4711: {{not expanded}}<br>&lt;delivered on site&gt;</p>") {
			t.Errorf("HTML lacks the escaped note:\n%s", e.HTML)
		}
	})

	t.Run("Romanian", func(t *testing.T) {
		e := h.emailFor(t, "INV-ro")
		if got := e.Subject(); got != "Factura INV-ro de la ACME SRL" {
			t.Errorf("subject %q", got)
		}
		for _, want := range []string{"Buna ziua,\n\nGasiti atasat factura INV-ro in valoare de 1,130.50 EUR.\n\n",
			"- Data emiterii: 21.11.2026\n- Scadenta: 21.12.2026\n- Total: 1,130.50 EUR\n\nMultumim!\nACME SRL\n"} {
			if !strings.Contains(e.Text, want) {
				t.Errorf("text lacks %q:\n%s", want, e.Text)
			}
		}
		if !strings.Contains(e.HTML, `<a class="em-pay" href="`+payPrefix+"inv_ro?") {
			t.Errorf("HTML lacks the payment button:\n%s", e.HTML)
		}
	})

	t.Run("the English SMS", func(t *testing.T) {
		eventually(t, 10*time.Second, "the SMS", func() bool { return len(h.smsFiles()) == 1 })
		body, _ := h.smsFiles()[0]["body"].(string)
		want := "ACME SRL: New invoice for €1,130.50 due 21 Dec 2026.\nPay now: " + payPrefix + "inv_sms?amount=1130.50&currency=EUR"
		if body != want {
			t.Errorf("SMS\n got %q\nwant %q", body, want)
		}
	})
}

// TestSendNoteValidation holds note to its limit, and the Infinity route's
// description to its own field name.
func TestSendNoteValidation(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_nv")))
	long := strings.Repeat("x", 2001)
	r := h.do("POST", "/api/v1/invoices/inv_nv/send", token, map[string]any{"note": long})
	if r.Status != http.StatusBadRequest || r.errorFields()["note"] == nil {
		t.Fatalf("a 2001-character note: %d %s", r.Status, r.Raw)
	}
	r = h.do("POST", "/api/v1/invoices/inv_nv/send", token, map[string]any{"note": "a\x00b"})
	if r.Status != http.StatusBadRequest || r.errorFields()["note"] == nil {
		t.Fatalf("a note with a NUL: %d %s", r.Status, r.Raw)
	}
	r = h.do("POST", "/v1/invoices/inv_nv/send", token, map[string]any{"description": "a\x00b"})
	if r.Status != http.StatusBadRequest || r.errorFields()["description"] == nil {
		t.Fatalf("an Infinity description with a NUL: %d %s", r.Status, r.Raw)
	}
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_nv/send", token, map[string]any{"note": strings.Repeat("é", 2000)}))
}
