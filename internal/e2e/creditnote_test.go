package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/pdftest"
	"github.com/invoiced/invoiced/render/ubl"
)

// TestCreditNote: an open invoice is credited in part by a credit note of
// its own number, whose PDF and XML say what it corrects, and which goes
// out by SMTP like an invoice, its PDF attached; the invoice is left with
// less to pay.
func TestCreditNote(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["email"] = map[string]any{"provider": "smtp", "fromEmail": "billing@acme.test", "fromName": "ACME Billing",
		"smtp": map[string]any{"host": h.SMTP.Host(), "port": h.SMTP.Port(), "username": "mailer", "password": "s3cret", "tls": "starttls"}}
	settings["payments"] = map[string]any{"gateway": "static",
		"static": map[string]any{"urlTemplate": "https://pay.acme.test/{invoiceId}?amount={amount}"}}
	settings["defaults"] = map[string]any{"language": "en", "gracePeriod": "1h", "autoEmailOnFinalize": false}
	token := h.tenant("ACME SRL", settings)
	h.verifySMTPSender(token)

	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_cn")))
	credit := map[string]any{"id": "cn_1", "number": "CN-1", "issueDate": "2026-11-25", "reason": "Two hours billed twice",
		"lines": []any{map[string]any{"description": "Consulting", "quantity": "2", "unit": "h", "unitPrice": "95.00", "taxRate": "19"}}}

	// A draft is not issued, so there is nothing to credit yet.
	if r := h.must(http.StatusUnprocessableEntity, h.do("POST", "/api/v1/invoices/inv_cn/credit-notes", token, credit)); r.errorCode() != "invoice_not_issued" {
		t.Fatalf("crediting a draft = %s", r.Raw)
	}
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_cn/finalize", token, nil))
	eventually(t, 10*time.Second, "the invoice's payment link", func() bool {
		return h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_cn", token, nil)).data()["paymentLink"] != nil
	})

	r := h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices/inv_cn/credit-notes", token, credit))
	cn := r.data()
	if cn["type"] != "credit_note" || cn["status"] != "open" || cn["number"] != "CN-1" || cn["total"] != "226.10" {
		t.Fatalf("credit note = %s", r.Raw)
	}
	if c, _ := cn["corrects"].(map[string]any); c["id"] != "inv_cn" || c["number"] != "INV-cn" || c["issueDate"] != "2026-11-21" {
		t.Errorf("corrects = %v", cn["corrects"])
	}
	if cn["paymentLink"] != nil {
		t.Errorf("the credit note has a payment link %v", cn["paymentLink"])
	}

	// The invoice lists its credit note and owes what is left; its
	// payment link asks for that.
	orig := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_cn", token, nil)).data()
	if orig["type"] != "invoice" || orig["amountCredited"] != "226.10" || orig["amountDue"] != "904.40" || orig["status"] != "open" {
		t.Errorf("invoice after the credit: type %v, amountCredited %v, amountDue %v, status %v",
			orig["type"], orig["amountCredited"], orig["amountDue"], orig["status"])
	}
	if ids, _ := orig["creditNotes"].([]any); len(ids) != 1 || ids[0] != "cn_1" {
		t.Errorf("creditNotes = %v", orig["creditNotes"])
	}
	eventually(t, 10*time.Second, "a payment link for what is left", func() bool {
		link, _ := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_cn", token, nil)).data()["paymentLink"].(string)
		return strings.HasSuffix(link, "amount=904.40")
	})

	// Refusals: the same id or number again, more than is left, another
	// currency, a credit note of a credit note.
	again := map[string]any{"id": "cn_2", "number": "CN-1", "lines": credit["lines"]}
	h.must(http.StatusConflict, h.do("POST", "/api/v1/invoices/inv_cn/credit-notes", token, again))
	h.must(http.StatusConflict, h.do("POST", "/api/v1/invoices/inv_cn/credit-notes", token, credit, "Idempotency-Key", "other"))
	tooMuch := map[string]any{"number": "CN-2", "lines": []any{map[string]any{"description": "Consulting", "quantity": "9", "unitPrice": "95.00", "taxRate": "19"}}}
	r = h.must(http.StatusUnprocessableEntity, h.do("POST", "/api/v1/invoices/inv_cn/credit-notes", token, tooMuch))
	if _, ok := r.errorFields()["lines"]; !ok {
		t.Errorf("crediting more than is left = %s, want a message for lines", r.Raw)
	}
	r = h.must(http.StatusUnprocessableEntity, h.do("POST", "/api/v1/invoices/inv_cn/credit-notes", token, map[string]any{"number": "CN-3", "currency": "RON"}))
	if _, ok := r.errorFields()["currency"]; !ok {
		t.Errorf("another currency = %s, want a message for currency", r.Raw)
	}
	h.must(http.StatusUnprocessableEntity, h.do("POST", "/api/v1/invoices/cn_1/credit-notes", token, map[string]any{"number": "CN-4"}))
	if r := h.must(http.StatusBadRequest, h.do("POST", "/api/v1/invoices/inv_cn/credit-notes", token, map[string]any{})); r.errorFields()["number"] == nil {
		t.Errorf("no number = %s", r.Raw)
	}

	// The PDF says credit note and what it corrects, and asks for nothing.
	text := pdftest.Text(t, h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/cn_1/pdf", token, nil)).Raw)
	for _, want := range []string{"CREDIT NOTE", "CN-1", "Corrects invoice INV-cn of 21 Nov 2026", "Two hours billed twice"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, text)
		}
	}
	for _, unwanted := range []string{"Pay online", "Payment details", "Amount due"} {
		if strings.Contains(text, unwanted) {
			t.Errorf("the credit note's PDF has %q:\n%s", unwanted, text)
		}
	}

	// The XML is a UBL CreditNote that refers to the invoice.
	xml := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/cn_1/xml", token, nil)).Raw
	for _, want := range []string{"<CreditNote ", "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>",
		"<cac:BillingReference>", "<cbc:ID>INV-cn</cbc:ID>", "<cbc:IssueDate>2026-11-21</cbc:IssueDate>"} {
		if !strings.Contains(string(xml), want) {
			t.Errorf("the XML lacks %s:\n%s", want, xml)
		}
	}
	if v := ubl.Check(xml); len(v) > 0 {
		t.Errorf("the XML breaks EN 16931: %v", v)
	}

	// The hosted page shows a credit note with nothing to pay.
	page := string(h.must(http.StatusOK, h.do("GET", strings.TrimPrefix(cn["publicUrl"].(string), h.URL), "", nil)).Raw)
	if !strings.Contains(page, "Credit note CN-1") || strings.Contains(page, `id="pay"`) {
		t.Errorf("the hosted page of the credit note:\n%s", page)
	}

	// Sent like an invoice: the email says credit note and carries its PDF.
	before := len(h.SMTP.Messages())
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/cn_1/send", token, map[string]any{"attachXml": true}))
	msgs := h.SMTP.WaitForMessages(t, before+1, 15*time.Second)
	mail := parseEmail(t, msgs[before].Data)
	if got := mail.Subject(); got != "Credit note CN-1 from ACME SRL" {
		t.Errorf("subject = %q", got)
	}
	if !strings.Contains(mail.Text, "credit note CN-1") || !strings.Contains(mail.Text, "invoice INV-cn") || strings.Contains(mail.HTML, "Pay now") {
		t.Errorf("body:\n%s", mail.Text)
	}
	attached, ok := mail.Attachments["CN-1.pdf"]
	if !ok {
		t.Fatalf("attachments = %v, want CN-1.pdf", keys(mail.Attachments))
	}
	if text := pdftest.Text(t, attached); !strings.Contains(text, "CREDIT NOTE") || !strings.Contains(text, "INV-cn") {
		t.Errorf("the attached PDF:\n%s", text)
	}
	if x := string(mail.Attachments["CN-1.xml"]); !strings.Contains(x, "<CreditNote ") {
		t.Errorf("the attached XML:\n%s", x)
	}
}

// TestCreditNoteInFull: a credit note without lines credits the whole
// invoice, which then asks for no payment: no link, no Pay button, a
// GET …/payment-link that says so.
func TestCreditNoteInFull(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["payments"] = map[string]any{"gateway": "static",
		"static": map[string]any{"urlTemplate": "https://pay.acme.test/{invoiceId}?amount={amount}"}}
	token := h.tenant("ACME SRL", settings)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_full")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_full/finalize", token, nil))
	eventually(t, 10*time.Second, "the invoice's payment link", func() bool {
		return h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_full", token, nil)).data()["paymentLink"] != nil
	})

	cn := h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices/inv_full/credit-notes", token, map[string]any{"number": "CN-FULL"})).data()
	if cn["total"] != "1130.50" || len(cn["lines"].([]any)) != 1 || !strings.HasPrefix(cn["id"].(string), "inv_") {
		t.Fatalf("full credit note = %v", cn)
	}
	orig := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_full", token, nil)).data()
	if orig["amountDue"] != "0.00" || orig["paymentLink"] != nil {
		t.Errorf("fully credited invoice: amountDue %v, paymentLink %v", orig["amountDue"], orig["paymentLink"])
	}
	time.Sleep(300 * time.Millisecond)
	orig = h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_full", token, nil)).data()
	if orig["paymentLink"] != nil {
		t.Errorf("a payment link came back for a fully credited invoice: %v", orig["paymentLink"])
	}
	h.must(http.StatusUnprocessableEntity, h.do("GET", "/api/v1/invoices/inv_full/payment-link", token, nil))
	page := string(h.must(http.StatusOK, h.do("GET", strings.TrimPrefix(orig["publicUrl"].(string), h.URL), "", nil)).Raw)
	if strings.Contains(page, `id="pay"`) {
		t.Errorf("the hosted page of a fully credited invoice has a Pay button")
	}
	text := pdftest.Text(t, h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_full/pdf", token, nil)).Raw)
	if strings.Contains(text, "Pay online") || strings.Contains(text, "Scan to pay") {
		t.Errorf("the fully credited invoice's PDF asks for payment:\n%s", text)
	}
	r := h.must(http.StatusUnprocessableEntity, h.do("POST", "/api/v1/invoices/inv_full/credit-notes", token, map[string]any{"number": "CN-MORE"}))
	if _, ok := r.errorFields()["lines"]; !ok {
		t.Errorf("crediting a fully credited invoice = %s", r.Raw)
	}
}

// TestCreditNoteReplacesTheGatewayLink: a Razorpay link that asks for the
// amount due before a credit is cancelled, and a new one asks for what is
// left.
func TestCreditNoteReplacesTheGatewayLink(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("Razor SRL", razorpaySettings())
	old := h.openWithLink(token, "inv_rc")["paymentLink"]
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices/inv_rc/credit-notes", token, map[string]any{"number": "CN-RC",
		"lines": []any{map[string]any{"description": "Consulting", "quantity": "2", "unitPrice": "95.00", "taxRate": "19"}}}))

	eventually(t, 10*time.Second, "the old link cancelled", func() bool {
		for _, l := range h.Razorpay.Links() {
			if l.ShortURL == old {
				return l.Status == "cancelled"
			}
		}
		return false
	})
	var now string
	eventually(t, 10*time.Second, "a new link for 904.40", func() bool {
		now, _ = h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_rc", token, nil)).data()["paymentLink"].(string)
		return now != "" && now != old
	})
	for _, l := range h.Razorpay.Links() {
		if l.ShortURL == now && (l.Amount != 90440 || l.Status != "created") {
			t.Errorf("the new link asks for %d (%s), want 90440 and open", l.Amount, l.Status)
		}
	}
	if inv := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_rc", token, nil)).data(); inv["paymentLinkError"] != nil {
		t.Errorf("paymentLinkError = %v", inv["paymentLinkError"])
	}
}
