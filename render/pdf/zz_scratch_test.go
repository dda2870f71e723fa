package pdf

import (
	"fmt"
	"os"
	"testing"

	"github.com/invoiced/invoiced/invoice"
)

func TestScratchDump(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 500} {
		inv := &invoice.Invoice{
			Number: "INV-1001", Status: invoice.Status(os.Getenv("STATUSX")), Currency: "EUR", IssueDate: "2026-11-21", DueDate: "2026-12-21",
			Reference: "PO-7781", Language: "ro",
			Customer: invoice.Customer{Name: "Mădălina Țîrlea-Brâncuși", Email: "ana@example.com", Phone: "+40712345678", VATID: "RO123",
				Address: invoice.Address{Line1: "Str. Lalelelor 5", City: "Cluj-Napoca", PostalCode: "400000", Country: "RO"}},
			Lines: []invoice.Line{
				{Description: "Consultanță în arhitectură software — ședință tehnică", Quantity: "10", Unit: "h", UnitPrice: "95.00", TaxRate: "19"},
				{Description: "Straßenbau-Gutachten (Größe XL)", Quantity: "1", UnitPrice: "1200", TaxRate: "19", DiscountRate: "10"},
				{Description: "Λογισμικό άδεια χρήσης", Quantity: "2", Unit: "buc", UnitPrice: "45.50", TaxRate: "9"},
				{Description: "Программное обеспечение", Quantity: "1.5", UnitPrice: "200", TaxRate: "0"},
				{Description: "Supercalifragilistic" + fmt.Sprint(""), Quantity: "1", UnitPrice: "1", TaxRate: "19"},
			},
			Notes:       "Thank you for your business!\nPlease include the invoice number with your payment.",
			Terms:       "Payment within 30 days. Late payments accrue 0.1% interest per day.",
			AmountPaid:  "100",
			PaymentLink: "https://pay.invoiced.test/i/tok_8f3a9c2e71b44d0c9a1e5f6b7c8d9e0f",
		}
		for i := 0; i < n; i++ {
			inv.Lines = append(inv.Lines, invoice.Line{Description: fmt.Sprintf("Line item %04d with some words to wrap around maybe", i), Quantity: "1", UnitPrice: "3.50", TaxRate: "19"})
		}
		if err := invoice.Compute(inv); err != nil {
			t.Fatal(err)
		}
		doc := Document{Invoice: inv, Language: os.Getenv("LANGX"),
			Seller: invoice.Seller{Name: "ACME SRL", VATID: "RO18547290", RegistrationNumber: "J12/3456/2015", Email: "billing@acme.test", Phone: "+40 264 000 000", Website: "acme.test",
				Address: invoice.Address{Line1: "Str. Memorandumului 28", City: "Cluj-Napoca", PostalCode: "400114", Country: "RO"}},
			Bank: invoice.BankAccount{IBAN: "RO49AAAA1B31007593840000", BIC: "AAAARO22", BankName: "Banca Demo", Holder: "ACME SRL"},
		}
		b, err := r.Render(doc)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(fmt.Sprintf("/tmp/pdfout/s%d.pdf", n), b, 0o644)
		t.Logf("%d lines: %d bytes, misses %d", n, len(b), r.glyphMisses.Load())
	}
}
