package message

import (
	"strings"
	"testing"

	"github.com/invoiced/invoiced/invoice"
)

// testCreditNote credits INV-1001 of 21 Nov 2026 with 226.10 EUR.
func testCreditNote() *invoice.Invoice {
	return &invoice.Invoice{
		Type: invoice.TypeCreditNote, Number: "CN-0042", Currency: "EUR", IssueDate: "2026-11-28",
		Customer: invoice.Customer{Name: "Ana Popescu"},
		Total:    "226.10", AmountDue: "226.10",
		Corrects: &invoice.Reference{ID: "inv_1001", Number: "INV-1001", IssueDate: "2026-11-21"},
	}
}

func creditVarsIn(lang string) Vars {
	v := InvoiceVars(testCreditNote(), lang, "ACME SRL", nil)
	v.PublicURL = "https://invoiced.example.test/i/Cn42"
	return v
}

// TestCreditNoteRenders: the built-in credit note email and SMS say credit
// note in each language, with the number, the amount and the invoice
// corrected, and neither asks for payment.
func TestCreditNoteRenders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lang    string
		subject string
		body    []string
		sms     []string
		view    string
	}{
		{"en", "Credit note CN-0042 from ACME SRL",
			[]string{"Hello Ana Popescu,", "credit note CN-0042 for €226.10", "invoice INV-1001 of 21 Nov 2026", "ACME SRL"},
			[]string{"credit note CN-0042", "€226.10", "INV-1001", "https://invoiced.example.test/i/Cn42"}, "View / download credit note"},
		{"ro", "Nota de creditare CN-0042 de la ACME SRL",
			[]string{"nota de creditare CN-0042", "226.10 EUR", "factura INV-1001 din 21.11.2026"},
			[]string{"nota de creditare CN-0042", "INV-1001"}, "Vizualizați / descărcați nota de creditare"},
		{"de", "Gutschrift CN-0042 von ACME SRL",
			[]string{"Guten Tag Ana Popescu,", "Gutschrift CN-0042 über 226,10\u00a0€", "Rechnung INV-1001 vom 21.11.2026"},
			[]string{"Gutschrift CN-0042", "INV-1001"}, "Gutschrift ansehen / herunterladen"},
		{"fr", "Avoir CN-0042 – ACME SRL",
			[]string{"Bonjour Ana Popescu,", "l’avoir CN-0042", "facture INV-1001 du 21/11/2026"},
			[]string{"avoir CN-0042", "INV-1001"}, "Voir / télécharger l’avoir"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			t.Parallel()
			tmpl := ResolveCreditNote(tt.lang, Template{})
			msg := Render(tmpl, tt.lang, creditVarsIn(tt.lang))
			if msg.Subject != tt.subject {
				t.Errorf("subject = %q, want %q", msg.Subject, tt.subject)
			}
			for _, want := range tt.body {
				if !strings.Contains(msg.Text, want) {
					t.Errorf("body lacks %q:\n%s", want, msg.Text)
				}
			}
			if strings.Contains(msg.HTML, `class="em-pay"`) || !strings.Contains(msg.HTML, ">"+tt.view+"</a>") {
				t.Errorf("HTML: want %q and no Pay button:\n%s", tt.view, msg.HTML)
			}
			for _, word := range []string{"Pay", "Plat", "bezahlen", "Payer", "due", "Scaden", "Fällig", "chéance"} {
				if strings.Contains(msg.Text, word) {
					t.Errorf("body speaks of payment (%q):\n%s", word, msg.Text)
				}
			}
			sms := RenderSMS(tmpl, tt.lang, creditVarsIn(tt.lang))
			for _, want := range tt.sms {
				if !strings.Contains(sms, want) {
					t.Errorf("SMS lacks %q: %q", want, sms)
				}
			}
			if n, ok := gsm7Septets(sms); !ok || n > 160 {
				t.Errorf("SMS is not one GSM 7-bit segment (%d septets, gsm7 %v): %q", n, ok, sms)
			}
		})
	}
}

// TestResolveCreditNote: a send's own texts win, the tenant's invoice
// templates do not apply, and a send's own body ends with the credit
// note's summary.
func TestResolveCreditNote(t *testing.T) {
	t.Parallel()
	got := ResolveCreditNote("de-AT", Template{Subject: "Ihre Gutschrift {{invoiceNumber}}"})
	builtinDe, _ := CreditNoteBuiltin("de")
	if got.Subject != "Ihre Gutschrift {{invoiceNumber}}" || got.Body != builtinDe.Body || !got.CreditNote {
		t.Fatalf("de-AT = %+v; want the send's subject and the built-in German body", got)
	}
	own := ResolveCreditNote("en", Template{Body: "Sorry for the double billing."})
	msg := Render(own, "en", creditVarsIn("en"))
	for _, want := range []string{"Sorry for the double billing.", "Credit note: CN-0042", "Amount credited: €226.10",
		"Corrects invoice: INV-1001", "View credit note: https://invoiced.example.test/i/Cn42"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("own body lacks %q:\n%s", want, msg.Text)
		}
	}
	if strings.Contains(msg.Text, "Amount due") {
		t.Errorf("the credit note's summary speaks of an amount due:\n%s", msg.Text)
	}
	if _, used := CreditNoteBuiltin("pt-BR"); used != "en" {
		t.Errorf("pt-BR falls back to %q, want en", used)
	}
}

func TestInvoiceVarsCorrected(t *testing.T) {
	t.Parallel()
	v := InvoiceVars(testCreditNote(), "ro", "ACME SRL", nil)
	if got := Expand("{corrected_invoice_number} / {{correctedIssueDate}}", v); got != "INV-1001 / 21.11.2026" {
		t.Errorf("corrected invoice = %q", got)
	}
	if got := Expand("[{{correctedInvoiceNumber}}]", InvoiceVars(testInvoice(), "en", "ACME SRL", nil)); got != "[]" {
		t.Errorf("an invoice's corrected invoice = %q, want empty", got)
	}
}
