package pdf

import (
	"strings"
	"testing"

	"github.com/invoiced/invoiced/invoice"
)

// flat collapses every run of white space, no-break spaces included, to
// one space, so that text wrapped by the layout or by pdftotext compares
// as one line.
func flat(s string) string { return strings.Join(strings.Fields(spaced(s)), " ") }

// requireFlat fails unless the PDF's text holds every one of want, in
// order, however it is wrapped.
func requireFlat(t *testing.T, text string, want ...string) {
	t.Helper()
	text = flat(text)
	pos := 0
	for _, w := range want {
		w = flat(w)
		i := strings.Index(text[pos:], w)
		if i < 0 {
			t.Fatalf("%q is missing or out of order\n%s", w, text)
		}
		pos += i + len(w)
	}
}

// einvoiceDoc is sampleDoc's seller and customer with one line of VAT
// category cat (rate 0 unless S) and its exemption reason, in lang.
func einvoiceDoc(t *testing.T, lang, cat, reason, code string) Document {
	t.Helper()
	doc := sampleDoc(t, 0)
	rate := "0"
	if cat == invoice.CategoryStandard {
		rate = "19"
	}
	inv := &invoice.Invoice{
		ID: "inv_ev", Number: "EV-1", Status: invoice.StatusOpen, Currency: "EUR",
		IssueDate: "2026-11-21", DueDate: "2026-12-21", Language: lang,
		Customer: invoice.Customer{Name: "Müller GmbH", VATID: "DE123456789",
			Address: invoice.Address{Line1: "Hauptstraße 1", City: "Berlin", PostalCode: "10115", Country: "DE"}},
		Lines: []invoice.Line{
			{Description: "Consulting", Quantity: "10", Unit: "h", UnitPrice: "95.00", TaxRate: rate,
				TaxCategory: cat, TaxExemptionReason: reason, TaxExemptionCode: code},
		},
	}
	if err := invoice.Compute(inv); err != nil {
		t.Fatal(err)
	}
	doc.Invoice, doc.Language = inv, lang
	return doc
}

// TestRenderVATNotes checks the VAT breakdown row of each category
// without VAT and the mention the law asks for, in each language, with
// the invoice's own exemption reason where it says more.
func TestRenderVATNotes(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	tests := []struct {
		lang, cat, reason, code string
		row                     string
		notes                   []string
	}{
		{"en", "AE", "", "VATEX-EU-AE", "Reverse charge", []string{"VAT notes", "Reverse charge: the customer is liable for the VAT. Exemption reason: VATEX-EU-AE"}},
		{"en", "AE", "Reverse charge", "", "Reverse charge", []string{"Reverse charge: the customer is liable for the VAT"}},
		{"ro", "AE", "Taxare inversă", "VATEX-EU-AE", "Taxare inversă", []string{"Mențiuni privind TVA", "Taxare inversă"}},
		{"de", "AE", "Reverse Charge", "", "Umkehr der Steuerschuld", []string{"Hinweise zur Umsatzsteuer", "Steuerschuldnerschaft des Leistungsempfängers. Grund der Steuerbefreiung: Reverse Charge"}},
		{"fr", "AE", "", "VATEX-EU-AE", "Autoliquidation", []string{"Mentions relatives à la TVA", "Autoliquidation"}},
		{"en", "K", "", "VATEX-EU-IC", "Intra-community supply", []string{"Intra-community supply, exempt from VAT (Article 138 of Directive 2006/112/EC)"}},
		{"de", "K", "", "VATEX-EU-IC", "i.g. Lieferung", []string{"Steuerfreie innergemeinschaftliche Lieferung"}},
		{"fr", "K", "", "VATEX-EU-IC", "Livraison intracommunautaire", []string{"Exonération de TVA, article 262 ter I du CGI"}},
		{"ro", "K", "", "VATEX-EU-IC", "Livrare intracomunitară", []string{"Scutit cu drept de deducere, art. 294 alin. (2) din Codul fiscal"}},
		{"en", "G", "", "VATEX-EU-G", "Export", []string{"Export outside the EU, exempt from VAT (Article 146 of Directive 2006/112/EC)"}},
		{"de", "G", "", "VATEX-EU-G", "Ausfuhr", []string{"Steuerfreie Ausfuhrlieferung"}},
		{"fr", "G", "", "VATEX-EU-G", "Exportation", []string{"Exonération de TVA, article 262 I du CGI"}},
		{"ro", "G", "", "VATEX-EU-G", "Export", []string{"Scutit cu drept de deducere, art. 294 alin. (1) din Codul fiscal"}},
		{"en", "E", "Exempt under Article 132(1)(i) of Directive 2006/112/EC", "", "Exempt",
			[]string{"Exempt from VAT. Exemption reason: Exempt under Article 132(1)(i) of Directive 2006/112/EC"}},
		{"fr", "E", "TVA non applicable, art. 293 B du CGI", "", "Exonéré",
			[]string{"Exonération de TVA. Motif de l'exonération : TVA non applicable, art. 293 B du CGI"}},
		{"en", "O", "Outside the scope of VAT", "", "Not subject to VAT", []string{"Not subject to VAT. Exemption reason: Outside the scope of VAT"}},
		{"ro", "O", "Neimpozabil în România", "", "Neimpozabil", []string{"Operațiune care nu intră în sfera de aplicare a TVA. Motivul scutirii: Neimpozabil în România"}},
	}
	for _, tc := range tests {
		t.Run(tc.lang+"/"+tc.cat+"/"+tc.reason+tc.code, func(t *testing.T) {
			t.Parallel()
			pdf := render(t, r, einvoiceDoc(t, tc.lang, tc.cat, tc.reason, tc.code))
			// The breakdown row names the category, whole words on
			// each line; the notes follow the totals.
			if raw := flat(pdfRawText(t, pdf)); !strings.Contains(raw, tc.row) {
				t.Errorf("no VAT breakdown row %q:\n%s", tc.row, raw)
			}
			requireFlat(t, pdfText(t, pdf), tc.notes...)
		})
	}

	// A standard rate names the tax and its rate, with no notes.
	text := pdfText(t, render(t, r, einvoiceDoc(t, "de", "S", "", "")))
	requireFlat(t, text, "USt. 19 %", "950,00 €", "180,50 €")
	if strings.Contains(text, "Hinweise zur Umsatzsteuer") {
		t.Errorf("VAT notes on a standard-rated invoice:\n%s", text)
	}
}

// TestRenderAllowancesAndCharges checks that document level allowances
// and charges are rows of the totals, between the sum of the lines and
// the total without VAT, in English and Romanian.
func TestRenderAllowancesAndCharges(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"en", []string{"Subtotal", "€950.00", "Loyalty discount (5%)", "-€47.50", "Allowance", "-€2.50",
			"Shipping", "€25.00", "Total without VAT", "€925.00", "VAT total", "€175.75", "Total", "€1,100.75"}},
		{"ro", []string{"Subtotal", "950,00 €", "Loyalty discount (5 %)", "-47,50 €", "Reducere", "-2,50 €",
			"Shipping", "25,00 €", "Total fără TVA", "925,00 €", "Total TVA", "175,75 €", "Total", "1.100,75 €"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			t.Parallel()
			doc := einvoiceDoc(t, tc.lang, "S", "", "")
			inv := doc.Invoice
			inv.Allowances = []invoice.AllowanceCharge{
				{Reason: "Loyalty discount", Rate: "5", TaxRate: "19"},
				{ReasonCode: "95", Amount: "2.50", TaxRate: "19"},
			}
			inv.Charges = []invoice.AllowanceCharge{{Reason: "Shipping", ReasonCode: "FC", Amount: "25", TaxRate: "19"}}
			if err := invoice.Compute(inv); err != nil {
				t.Fatal(err)
			}
			if inv.NetTotal != "925.00" {
				t.Fatalf("netTotal %s, want 925.00", inv.NetTotal)
			}
			requireFlat(t, pdfText(t, render(t, r, doc)), tc.want...)
		})
	}
}

// TestRenderTaxCurrency checks that an invoice whose VAT is accounted in
// another currency prints the VAT in it, with the rate, as Romanian law
// asks of an invoice in a foreign currency, beside the VAT in the
// invoice's currency.
func TestRenderTaxCurrency(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	for _, tc := range []struct{ lang, vat, note string }{
		{"en", "€174.50", "VAT in RON: 868.07 RON at 4.9746 RON/EUR"},
		{"ro", "174,50 €", "TVA în RON: 868,07 RON la cursul de 4,9746 RON/EUR"},
		{"de", "174,50 €", "USt. in RON: 868,07 RON zum Kurs von 4,9746 RON/EUR"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			t.Parallel()
			doc := einvoiceDoc(t, tc.lang, "S", "", "")
			inv := doc.Invoice
			inv.Lines[0].UnitPrice = "91.842105"
			inv.TaxCurrency, inv.TaxExchangeRate = "RON", "4.9746"
			if err := invoice.Compute(inv); err != nil {
				t.Fatal(err)
			}
			if inv.TaxTotal != "174.50" || inv.TaxTotalInTaxCurrency != "868.07" {
				t.Fatalf("taxTotal %s, in RON %s; want 174.50 and 868.07", inv.TaxTotal, inv.TaxTotalInTaxCurrency)
			}
			requireFlat(t, pdfText(t, render(t, r, doc)), tc.vat, tc.note)
		})
	}
}

// TestRenderReferences checks the header's order and contract references
// and the delivery date or invoicing period.
func TestRenderReferences(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	doc := einvoiceDoc(t, "fr", "S", "", "")
	inv := doc.Invoice
	inv.OrderReference, inv.ContractReference = "PO-4711", "C-2026-09"
	inv.Delivery = &invoice.Delivery{Date: "2026-11-18"}
	inv.Period = &invoice.Period{Start: "2026-11-01", End: "2026-11-30"}
	text := pdfText(t, render(t, r, doc))
	requireFlat(t, text, "Bon de commande", "PO-4711", "Contrat", "C-2026-09", "Date de livraison", "18/11/2026",
		"Période de facturation", "01/11/2026 – 30/11/2026", "FACTURÉ À")

	doc = einvoiceDoc(t, "en", "S", "", "")
	doc.Invoice.OrderReference = "PO-4711"
	requireFlat(t, pdfText(t, render(t, r, doc)), "Order reference", "PO-4711", "BILL TO")
}
