package pdf

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/locale"
)

// stressLink is a payment link with a long query, as gateways make them.
const stressLink = "https://pay.invoiced.test/checkout/session/cs_live_a1B2c3D4e5F6g7H8i9J0?invoice=INV-1001&amount=9999999999999.99&currency=EUR&locale=en"

// stressDoc returns an invoice at the limits of what the API accepts:
// amounts of 13 and 15 digits, a long quantity, a discount, a long
// description and a payment link with a long query.
func stressDoc(t testing.TB) Document {
	t.Helper()
	doc := sampleDoc(t, 0)
	inv := doc.Invoice
	inv.AmountPaid = ""
	inv.Lines = []invoice.Line{
		{Description: "Consulting", Quantity: "1", Unit: "h", UnitPrice: "1234567.89", TaxRate: "19"},
		{Description: "Infrastructure, a very long description of the work done over the year that wraps over several lines of the table", Quantity: "1", Unit: "pcs", UnitPrice: "8403361344537.81", TaxRate: "0"},
		{Description: "Licences", Quantity: "123456.789", Unit: "pcs", UnitPrice: "12.34", TaxRate: "19", DiscountRate: "12.5"},
	}
	inv.PaymentLink = stressLink
	if err := invoice.Compute(inv); err != nil {
		t.Fatal(err)
	}
	return doc
}

// largestDoc returns an invoice for the largest amount the API accepts,
// 9999999999999.99 EUR (money.MaxMinor), on one line.
func largestDoc(t testing.TB) Document {
	t.Helper()
	doc := sampleDoc(t, 0)
	inv := doc.Invoice
	inv.AmountPaid = ""
	inv.Lines = []invoice.Line{{Description: "Everything", Quantity: "1", UnitPrice: "9999999999999.99", TaxRate: "0"}}
	if err := invoice.Compute(inv); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestRenderNumbersNeverBreak renders the largest amounts in every
// language and finds each of them whole on one line of the page's text.
func TestRenderNumbersNeverBreak(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	for _, lang := range []string{"en", "ro", "de", "fr"} {
		for name, doc := range map[string]Document{"stress": stressDoc(t), "largest": largestDoc(t)} {
			t.Run(lang+"/"+name, func(t *testing.T) {
				t.Parallel()
				doc.Language = lang
				inv := doc.Invoice
				pdf := render(t, r, doc)
				a4, _ := parsePaper("")
				requireInMargins(t, pdf, a4)
				amount := func(s string) string { return locale.Amount(s, inv.Currency, lang) }
				money := func(s string) string { return locale.Money(s, inv.Currency, lang) }
				var want []string
				for _, l := range inv.Lines {
					want = append(want, amount(l.UnitPrice), amount(l.Amount), locale.Number(l.Quantity, lang))
					if !isZero(l.Discount) {
						want = append(want, amount(negate(l.Discount)))
					}
				}
				for _, tax := range inv.Taxes {
					want = append(want, money(tax.Base), money(tax.Amount))
				}
				want = append(want, money(inv.Subtotal), money(inv.Total), money(inv.AmountDue))
				var lines []string
				for _, l := range strings.Split(spaced(pdfText(t, pdf)), "\n") {
					// pdftotext puts a column gap where the text has
					// a space; collapse them to compare.
					lines = append(lines, strings.Join(strings.Fields(l), " "))
				}
				text := strings.Join(lines, "\n")
				for _, w := range want {
					if w = spaced(w); !strings.Contains(text, w) {
						t.Errorf("%q is not whole on one line:\n%s", w, text)
					}
				}
			})
		}
	}
}

// TestRenderBankDetailsAligned finds the IBAN's label and value in the
// same columns as the BIC's, the bank's and the holder's, beside the EPC
// QR code and without it.
func TestRenderBankDetailsAligned(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	for name, currency := range map[string]string{"epc": "EUR", "plain": "USD"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			doc := sampleDoc(t, 0)
			doc.Invoice.Currency = currency
			pdf := render(t, r, doc)
			x := map[string]float64{}
			for _, b := range wordBoxes(t, pdf) {
				switch b.text {
				case "IBAN", "BIC", "Bank", "Account", "RO49", "AAAARO22", "Banca":
					if _, seen := x[b.text]; !seen && b.yMin > 500 {
						x[b.text] = b.xMin
					}
				}
			}
			if len(x) != 7 {
				t.Fatalf("found %v, want all seven words of the bank details", x)
			}
			for _, group := range [][]string{{"IBAN", "BIC", "Bank", "Account"}, {"RO49", "AAAARO22", "Banca"}} {
				for _, word := range group[1:] {
					if d := x[word] - x[group[0]]; d < -0.5 || d > 0.5 {
						t.Errorf("%s starts at x=%.1f, %s at x=%.1f: not one column", group[0], x[group[0]], word, x[word])
					}
				}
			}
			if x["RO49"] < x["IBAN"]-0.5 {
				t.Errorf("the IBAN's value starts left of its label")
			}
		})
	}
}

// TestRenderPaymentLinkShort prints a payment link with a long query as
// its host, whole on one line, with the whole link in the annotation
// and the QR code, and a link that fits in two lines whole, broken after
// a slash.
func TestRenderPaymentLinkShort(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	doc := stressDoc(t)
	pdf := render(t, r, doc)
	text := pdfText(t, pdf)
	if !strings.Contains(text, "pay.invoiced.test/…") {
		t.Errorf("the link is not printed as its host:\n%s", text)
	}
	for _, part := range []string{"amount=", "currency=", "cs_live", "checkout"} {
		if strings.Contains(text, part) {
			t.Errorf("a piece of the link's query or path, %q, is printed:\n%s", part, text)
		}
	}
	if !bytes.Contains(pdf, []byte("/S /URI /URI ("+stressLink+")")) {
		t.Error("no link annotation with the whole payment link")
	}
	if got := decodeQR(t, crop(pageImage(t, pdf, 150), 0.5, 0.5, 1, 1)); got != stressLink {
		t.Errorf("QR code reads %q, want the whole link", got)
	}

	sample := render(t, r, sampleDoc(t, 0))
	requireInOrder(t, pdfText(t, sample), "https://pay.invoiced.test/i/", "tok_8f3a9c2e71b44d0c")

	// A host too long for the column prints as much of its end as fits.
	long := sampleDoc(t, 0)
	long.Invoice.PaymentLink = "https://sangeekp-15t6ai--payment-links-ingress-mydev.dev.stripe.me/test_eVa16Q1Vd7yU1Ne8ww?prefilled_email=ana%40example.com"
	if text := pdfText(t, render(t, r, long)); !strings.Contains(text, "…dev.stripe.me/…") {
		t.Errorf("the long host is not printed by its end:\n%s", text)
	}
}

// TestRenderQRCaptions finds each QR code's caption, in every language,
// under its code.
func TestRenderQRCaptions(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	for _, lang := range []string{"en", "ro", "de", "fr"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			doc := sampleDoc(t, 0)
			doc.Language = lang
			pdf := render(t, r, doc)
			lb := labelsFor(lang)
			raw := strings.Join(strings.Fields(spaced(pdfRawText(t, pdf))), " ")
			w, err := newWriter(r, doc)
			if err != nil {
				t.Fatal(err)
			}
			boxes := wordBoxes(t, pdf)
			for _, c := range []struct {
				caption string
				x, side float64
			}{
				{lb.scanToTransfer, w.left, epcSide},
				{lb.scanToPay, w.totalsX(), qrSide},
			} {
				if !strings.Contains(raw, spaced(c.caption)) {
					t.Errorf("caption %q is missing:\n%s", c.caption, raw)
				}
				// The caption's words are under the code: in its
				// column, and lower than the code's top plus its side.
				found := false
				for _, b := range boxes {
					if b.text == strings.Fields(c.caption)[0] && b.xMin >= c.x-0.5 && b.xMax <= c.x+c.side+0.5 && b.yMin > 500 {
						found = true
					}
				}
				if !found {
					t.Errorf("caption %q is not under its code (x %.0f to %.0f)", c.caption, c.x, c.x+c.side)
				}
			}
		})
	}
}

func TestWriteStressSample(t *testing.T) {
	dir := os.Getenv("INVOICED_PDF_SAMPLES")
	if dir == "" {
		t.Skip("INVOICED_PDF_SAMPLES is not set")
	}
	r := newRenderer(t)
	for name, doc := range map[string]Document{"stress": stressDoc(t), "largest": largestDoc(t)} {
		if err := os.WriteFile(filepath.Join(dir, name+".pdf"), render(t, r, doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWriteCJKSample writes the stress invoice with Japanese text set in
// the fallback fonts, the one docs/screenshots/pdf-stress.png shows.
func TestWriteCJKSample(t *testing.T) {
	dir := os.Getenv("INVOICED_PDF_SAMPLES")
	if dir == "" {
		t.Skip("INVOICED_PDF_SAMPLES is not set")
	}
	doc := stressDoc(t)
	doc.Invoice.Customer.Name = "株式会社テスト"
	doc.Invoice.Lines[0].Description = "東京オフィス賃料 (Tokyo office rent)"
	if err := os.WriteFile(filepath.Join(dir, "stress-cjk.pdf"), render(t, newCJKRenderer(t), doc), 0o644); err != nil {
		t.Fatal(err)
	}
}
