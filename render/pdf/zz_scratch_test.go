package pdf

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/invoice"
)

func TestScratchDump(t *testing.T) {
	r := newRenderer(t)
	dump := func(name string, doc Document) {
		b, err := r.Render(doc)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile("/tmp/pdfout/"+name+".pdf", b, 0o644)
		t.Logf("%s: %d bytes", name, len(b))
	}
	dump("sample10", sampleDoc(t, 6))
	d := sampleDoc(t, 0)
	word := strings.Repeat("Donaudampfschifffahrt", 10)[:200]
	d.Invoice.Customer.Name = word
	d.Invoice.Lines[0].Description = "Before " + word + " after"
	d.Invoice.Notes = strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 40)
	d.Seller.Name = "Very Long Seller Name Industrial Holdings International Group SRL"
	d.Invoice.Reference = "PO-2026-000123-ALPHA-BRAVO-CHARLIE-DELTA-ECHO"
	d.Language = "fr"
	dump("long", d)
	d = sampleDoc(t, 0)
	var parts []string
	for i := 1; i <= 150; i++ {
		parts = append(parts, fmt.Sprintf("Part %03d", i))
	}
	d.Invoice.Lines[1].Description = strings.Join(parts, "\n")
	d.Language = "de"
	d.Invoice.Status = invoice.StatusDraft
	dump("tall", d)
	d = sampleDoc(t, 0)
	d.Invoice.Currency, d.Invoice.AmountPaid = "JPY", ""
	d.Invoice.Lines = []invoice.Line{{Description: "Widget", Quantity: "3", UnitPrice: "1999", TaxRate: "10"}}
	d.Bank = invoice.BankAccount{}
	invoice.Compute(d.Invoice)
	dump("jpy", d)
}
