package pdf

import (
	"strings"
	"testing"

	"github.com/invoiced/invoiced/invoice"
)

// creditNoteDoc is a credit note for two of sampleDoc's consulting hours,
// correcting INV-1001 of 21 Nov 2026.
func creditNoteDoc(t testing.TB) Document {
	t.Helper()
	doc := sampleDoc(t, 0)
	cn := invoice.CreditNoteFor(doc.Invoice, "cn_1", "CN-0042", "2026-11-28",
		[]invoice.Line{{Description: "Consulting billed twice", Quantity: "2", Unit: "h", UnitPrice: "95.00", TaxRate: "19"}})
	cn.Status, cn.Notes = invoice.StatusOpen, "Two hours billed twice."
	if err := invoice.Compute(cn); err != nil {
		t.Fatal(err)
	}
	doc.Invoice = cn
	return doc
}

// TestRenderCreditNote: a credit note is titled as one in each language,
// says which invoice it corrects, and asks for no payment: no payment
// link, no bank details, no transfer QR code.
func TestRenderCreditNote(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	tests := []struct {
		lang string
		want []string
	}{
		{"en", []string{"CREDIT NOTE", "Credit note number", "CN-0042", "Issue date", "28 Nov 2026",
			"Corrects invoice INV-1001 of 21 Nov 2026", "Amount credited", "€226.10", "Consulting billed twice",
			"VAT total", "Amount credited", "€226.10", "Two hours billed twice."}},
		{"ro", []string{"NOTĂ DE CREDITARE", "Număr notă de creditare", "CN-0042", "28.11.2026",
			"Corectează factura INV-1001 din 21.11.2026", "Total creditat", "226,10 €"}},
		{"de", []string{"GUTSCHRIFT", "Gutschriftsnummer", "CN-0042", "28.11.2026",
			"Zur Rechnung INV-1001 vom 21.11.2026", "Gutschriftsbetrag", "226,10 €"}},
		{"fr", []string{"AVOIR", "Numéro d'avoir", "CN-0042", "28/11/2026",
			"Rectifie la facture INV-1001 du 21/11/2026", "Montant de l'avoir", "226,10 €"}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			t.Parallel()
			doc := creditNoteDoc(t)
			doc.Language = tt.lang
			doc.Invoice.PaymentLink = "https://pay.invoiced.test/never-printed"
			pdf := render(t, r, doc)
			qpdfCheck(t, pdf)
			text := spaced(pdfText(t, pdf))
			requireInOrder(t, text, tt.want...)
			lb := labelsFor(tt.lang)
			for _, line := range strings.Split(text, "\n") {
				if strings.TrimSpace(line) == spaced(lb.title) {
					t.Errorf("the credit note is titled %q", lb.title)
				}
			}
			for _, unwanted := range []string{lb.payOnline, lb.paymentDetails, lb.scanToTransfer, lb.amountDue, lb.dueDate, "never-printed"} {
				if strings.Contains(text, spaced(unwanted)) {
					t.Errorf("the credit note prints %q:\n%s", unwanted, text)
				}
			}
		})
	}
}

// TestRenderFullyCredited: an open invoice credited in full prints no
// payment link and no transfer QR code; it shows what was credited.
func TestRenderFullyCredited(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	doc := sampleDoc(t, 0)
	inv := doc.Invoice
	cn := invoice.CreditNoteFor(inv, "cn_1", "CN-1", "2026-11-28", nil)
	if err := invoice.Compute(cn); err != nil {
		t.Fatal(err)
	}
	if err := invoice.Credit(inv, cn); err != nil {
		t.Fatal(err)
	}
	text := spaced(pdfText(t, render(t, r, doc)))
	requireInOrder(t, text, "INVOICE", "Amount due", "€0.00", "Total", "Amount paid", "Credited", "Amount due", "€0.00")
	for _, unwanted := range []string{"Pay online", "Scan to pay by bank transfer", inv.PaymentLink} {
		if strings.Contains(text, spaced(unwanted)) {
			t.Errorf("a fully credited invoice prints %q:\n%s", unwanted, text)
		}
	}
}
