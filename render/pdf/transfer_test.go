package pdf

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/qr"
)

// swissDoc returns the sample invoice in CHF from a Swiss seller paid
// into a QR-IBAN, in lang.
func swissDoc(t testing.TB, lang string) Document {
	t.Helper()
	doc := sampleDoc(t, 0)
	doc.Invoice.Currency, doc.Language = "CHF", lang
	doc.Invoice.Customer.Address = invoice.Address{Line1: "Grosse Marktgasse 28", PostalCode: "9400", City: "Rorschach", Country: "CH"}
	doc.Seller.Name = "Robert Schneider AG"
	doc.Seller.Address = invoice.Address{Line1: "Rue du Lac 1268", PostalCode: "2501", City: "Biel", Country: "CH"}
	doc.Bank = invoice.BankAccount{IBAN: "CH44 3199 9123 0008 8901 2", BankName: "Bank Demo", Holder: "Robert Schneider AG"}
	return doc
}

// pageImageN renders page n of pdf at dpi.
func pageImageN(t testing.TB, pdf []byte, dpi, n int) image.Image {
	t.Helper()
	page := strconv.Itoa(n)
	dir := run(t, pdf, "pdftoppm", "-png", "-r", strconv.Itoa(dpi), "-f", page, "-l", page)
	files, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	if len(files) != 1 {
		t.Fatalf("pdftoppm wrote %v", files)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// crop returns the part of img between the fractions x0–x1 of its width
// and y0–y1 of its height.
func crop(img image.Image, x0, y0, x1, y1 float64) image.Image {
	b := img.Bounds()
	r := image.Rect(int(x0*float64(b.Dx())), int(y0*float64(b.Dy())), int(x1*float64(b.Dx())), int(y1*float64(b.Dy())))
	return img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(r.Add(b.Min))
}

func TestTransferCodeFor(t *testing.T) {
	t.Parallel()
	const (
		ro     = "RO49AAAA1B31007593840000"
		qrIBAN = "CH4431999123000889012"
		chIBAN = "CH9300762011623852957"
	)
	tests := []struct {
		name     string
		status   invoice.Status
		currency string
		due      string
		iban     string
		want     transferCode
	}{
		{"EUR", invoice.StatusOpen, "EUR", "10.00", ro, epcTransfer},
		{"EUR draft", invoice.StatusDraft, "EUR", "10.00", ro, epcTransfer},
		{"EUR paid", invoice.StatusPaid, "EUR", "10.00", ro, noTransferCode},
		{"EUR void", invoice.StatusVoid, "EUR", "10.00", ro, noTransferCode},
		{"EUR nothing due", invoice.StatusOpen, "EUR", "0.00", ro, noTransferCode},
		{"EUR credit", invoice.StatusOpen, "EUR", "-5.00", ro, noTransferCode},
		{"EUR no IBAN", invoice.StatusOpen, "EUR", "10.00", "", noTransferCode},
		{"EUR bad IBAN", invoice.StatusOpen, "EUR", "10.00", "RO48AAAA1B31007593840000", noTransferCode},
		{"RON", invoice.StatusOpen, "RON", "10.00", ro, noTransferCode},
		{"USD", invoice.StatusOpen, "USD", "10.00", ro, noTransferCode},
		{"CHF QR-IBAN", invoice.StatusOpen, "CHF", "10.00", qrIBAN, swissTransfer},
		{"CHF IBAN", invoice.StatusOpen, "CHF", "10.00", chIBAN, swissTransfer},
		{"CHF paid", invoice.StatusPaid, "CHF", "10.00", qrIBAN, noTransferCode},
		{"CHF foreign IBAN", invoice.StatusOpen, "CHF", "10.00", ro, noTransferCode},
		{"EUR QR-IBAN", invoice.StatusOpen, "EUR", "10.00", qrIBAN, swissTransfer},
		{"EUR Swiss IBAN", invoice.StatusOpen, "EUR", "10.00", chIBAN, epcTransfer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := &invoice.Invoice{Status: tt.status, Currency: tt.currency, AmountDue: tt.due}
			if got := transferCodeFor(inv, invoice.BankAccount{IBAN: tt.iban}); got != tt.want {
				t.Errorf("transferCodeFor = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRenderEPCCode(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	for _, lang := range []string{"en", "ro", "de", "fr"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			doc := sampleDoc(t, 0)
			doc.Language = lang
			doc.Invoice.PaymentLink = ""
			pdf := render(t, r, doc)
			qpdfCheck(t, pdf)
			a4, _ := parsePaper("")
			requireInMargins(t, pdf, a4)
			inv := doc.Invoice
			want := "BCD\n002\n1\nSCT\nAAAARO22\nACME SRL\nRO49AAAA1B31007593840000\nEUR" + inv.AmountDue + "\n\n\nINV-1001"
			if got := decodeQR(t, pageImage(t, pdf, 150)); got != want {
				t.Errorf("QR code reads\n%q\nwant\n%q", got, want)
			}
			lb := labelsFor(lang)
			requireInOrder(t, pdfText(t, pdf), lb.paymentDetails, "RO49 AAAA 1B31 0075 9384 0000", lb.holder,
				strings.Fields(lb.scanToTransfer)[0], lb.notes)
		})
	}
}

func TestRenderEPCCodeBesideLink(t *testing.T) {
	t.Parallel()
	doc := sampleDoc(t, 0)
	img := pageImage(t, render(t, newRenderer(t), doc), 150)
	want, err := qr.EPCPayload("ACME SRL", doc.Bank.IBAN, doc.Bank.BIC, doc.Invoice.AmountDue, "INV-1001")
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeQR(t, crop(img, 0, 0, 0.5, 1)); got != want {
		t.Errorf("left QR code reads %q, want the EPC payload %q", got, want)
	}
	if got := decodeQR(t, crop(img, 0.5, 0, 1, 1)); got != doc.Invoice.PaymentLink {
		t.Errorf("right QR code reads %q, want the payment link", got)
	}
}

func TestRenderSwissQRBill(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	tests := []struct {
		lang string
		want []string
	}{
		{"de", []string{"Vor der Einzahlung abzutrennen", "Empfangsschein", "Zahlteil", "Konto / Zahlbar an",
			"CH44 3199 9123 0008 8901 2", "Referenz", "00 00000 00000 00000 00000 10014", "Zusätzliche Informationen",
			"INV-1001", "Zahlbar durch", "Währung", "Betrag", "CHF", "Annahmestelle"}},
		{"fr", []string{"Récépissé", "Section paiement", "Compte / Payable à", "Référence", "Informations supplémentaires",
			"Payable par", "Monnaie", "Montant", "Point de dépôt"}},
		{"en", []string{"Separate before paying in", "Receipt", "Payment part", "Account / Payable to", "Reference",
			"Additional information", "Payable by", "Currency", "Amount", "Acceptance point"}},
		{"ro", []string{"Receipt", "Payment part"}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			t.Parallel()
			doc := swissDoc(t, tt.lang)
			pdf := render(t, r, doc)
			qpdfCheck(t, pdf)
			// The invoice fills page one; the bill is at the foot of page two.
			pages := pdfPages(t, pdf)
			if len(pages) != 2 {
				t.Fatalf("pages = %d, want 2", len(pages))
			}
			// The bill is set in Liberation Sans, as the guidelines
			// allow; the invoice in DejaVu Sans.
			for _, font := range []string{"/BaseFont /LiberationSans\n", "/BaseFont /LiberationSans-Bold\n", "/BaseFont /DejaVuSans\n"} {
				if !bytes.Contains(pdf, []byte(font)) {
					t.Errorf("no %s font", strings.TrimSpace(font))
				}
			}
			text := pages[1]
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("%q is missing\n%s", w, text)
				}
			}
			want := strings.Join([]string{"SPC", "0200", "1", "CH4431999123000889012",
				"S", "Robert Schneider AG", "Rue du Lac 1268", "", "2501", "Biel", "CH",
				"", "", "", "", "", "", "",
				doc.Invoice.AmountDue, "CHF",
				"S", "Mădălina Țîrlea-Brâncuși", "Grosse Marktgasse 28", "", "9400", "Rorschach", "CH",
				"QRR", "000000000000000000000010014", "INV-1001", "EPD"}, "\n")
			// The bill is the bottom 105 mm of the page; the payment
			// link's code is above it.
			img := pageImageN(t, pdf, 150, 2)
			if got := decodeQR(t, crop(img, 62.0/210, 1-105.0/297, 1, 1)); got != want {
				t.Errorf("Swiss QR code reads\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// TestRenderSwissQRBillCreditorReference: with an ordinary IBAN the bill
// carries the invoice number as an ISO 11649 creditor reference, printed
// in blocks of four.
func TestRenderSwissQRBillCreditorReference(t *testing.T) {
	t.Parallel()
	doc := swissDoc(t, "en")
	doc.Bank.IBAN = "CH58 0079 1123 0008 8901 2"
	ref, err := qr.CreditorReference(doc.Invoice.Number)
	if err != nil {
		t.Fatal(err)
	}
	if ref != "RF06INV1001" {
		t.Fatalf("creditor reference of %q is %q", doc.Invoice.Number, ref)
	}
	pdf := render(t, newRenderer(t), doc)
	pages := pdfPages(t, pdf)
	if !strings.Contains(pages[len(pages)-1], "RF06 INV1 001") {
		t.Errorf("the bill does not print the reference as RF06 INV1 001:\n%s", pages[len(pages)-1])
	}
	got := decodeQR(t, crop(pageImageN(t, pdf, 150, len(pages)), 62.0/210, 1-105.0/297, 1, 1))
	if !strings.Contains(got, "\nSCOR\nRF06INV1001\nINV-1001\nEPD") {
		t.Errorf("Swiss QR code reads %q, want a SCOR reference", got)
	}
}

func TestRenderSwissQRBillFitsUnderShortInvoice(t *testing.T) {
	t.Parallel()
	doc := swissDoc(t, "en")
	inv := doc.Invoice
	inv.Lines, inv.Notes, inv.Terms, inv.PaymentLink, inv.Reference = inv.Lines[:1], "", "", "", ""
	inv.AmountPaid = "0"
	if err := invoice.Compute(inv); err != nil {
		t.Fatal(err)
	}
	doc.Bank.BankName = ""
	pdf := render(t, newRenderer(t), doc)
	qpdfCheck(t, pdf)
	pages := pdfPages(t, pdf)
	if len(pages) != 1 {
		t.Fatalf("pages = %d, want 1", len(pages))
	}
	// The footer moves above the bill.
	requireInOrder(t, pages[0], "Amount due", "Payment details", "Page 1 of 1", "Separate before paying in",
		"Receipt", "Payment part")
	if got := decodeQR(t, crop(pageImage(t, pdf, 150), 62.0/210, 1-105.0/297, 1, 1)); !strings.HasPrefix(got, "SPC\n0200\n1\nCH4431999123000889012\n") {
		t.Errorf("Swiss QR code reads %q", got)
	}
}

func TestRenderWithoutTransferCode(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	tests := []struct {
		name   string
		change func(*Document)
	}{
		{"EUR paid", func(d *Document) {
			d.Invoice.Status, d.Invoice.AmountPaid, d.Invoice.AmountDue = invoice.StatusPaid, d.Invoice.Total, "0.00"
		}},
		{"CHF paid", func(d *Document) {
			*d = swissDoc(t, "de")
			d.Invoice.Status, d.Invoice.AmountPaid, d.Invoice.AmountDue = invoice.StatusPaid, d.Invoice.Total, "0.00"
		}},
		{"RON", func(d *Document) { d.Invoice.Currency = "RON" }},
		{"USD", func(d *Document) { d.Invoice.Currency = "USD" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := sampleDoc(t, 0)
			tt.change(&doc)
			doc.Invoice.PaymentLink = ""
			pdf := render(t, r, doc)
			if bytes.Contains(pdf, []byte("LiberationSans")) {
				t.Error("the bill's font is embedded without a bill")
			}
			text := pdfText(t, pdf)
			for _, w := range []string{"Scan to pay", "Zahlteil", "Empfangsschein", "Payment part", "Receipt"} {
				if strings.Contains(text, w) {
					t.Errorf("%q is printed", w)
				}
			}
			bmp := pageImage(t, pdf, 150)
			if got, ok := tryDecodeQR(bmp); ok {
				t.Errorf("a QR code reads %q", got)
			}
		})
	}
}

// TestWriteTransferSamples writes invoices with bank-transfer QR codes to
// $INVOICED_PDF_SAMPLES, for looking at them. It is skipped otherwise.
func TestWriteTransferSamples(t *testing.T) {
	dir := os.Getenv("INVOICED_PDF_SAMPLES")
	if dir == "" {
		t.Skip("INVOICED_PDF_SAMPLES is not set")
	}
	r := newRenderer(t)
	noDebtor := swissDoc(t, "fr") // no debtor, an ordinary IBAN: a creditor reference
	noDebtor.Invoice.Customer.Address = invoice.Address{}
	noDebtor.Bank.IBAN = "CH9300762011623852957"
	for name, doc := range map[string]Document{
		"epc-en":        sampleDoc(t, 0),
		"swiss-de":      swissDoc(t, "de"),
		"swiss-fr-scor": noDebtor,
	} {
		if err := os.WriteFile(filepath.Join(dir, name+".pdf"), render(t, r, doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHasSwissQRBill holds HasSwissQRBill to what Render prints: true
// exactly when the PDF carries the bill's payment part.
func TestHasSwissQRBill(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	tests := []struct {
		name   string
		change func(d *Document)
		want   bool
	}{
		{"CHF into a QR-IBAN", func(*Document) {}, true},
		{"CHF into an ordinary Swiss IBAN", func(d *Document) { d.Bank.IBAN = "CH9300762011623852957" }, true},
		{"paid", func(d *Document) { d.Invoice.Status = invoice.StatusPaid }, false},
		{"EUR into a Romanian IBAN", func(d *Document) {
			d.Invoice.Currency, d.Bank.IBAN = "EUR", "RO49AAAA1B31007593840000"
		}, false},
		{"no digits for the QR reference", func(d *Document) { d.Invoice.Number = "ABC" }, false},
		{"seller without a town", func(d *Document) { d.Seller.Address.City = "" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := swissDoc(t, "en")
			tt.change(&doc)
			if got := HasSwissQRBill(doc); got != tt.want {
				t.Errorf("HasSwissQRBill = %v, want %v", got, tt.want)
			}
			text := pdfText(t, render(t, r, doc))
			if printed := strings.Contains(text, "Payment part") && strings.Contains(text, "Separate before paying in"); printed != tt.want {
				t.Errorf("the PDF carries the bill: %v, want %v", printed, tt.want)
			}
		})
	}
}
