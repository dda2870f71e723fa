package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/locale"
)

// requireTool returns the path of the command name, and skips the test
// when it is not installed, except in CI (CI=true), where it fails.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI: %v", name, err)
	}
	t.Skipf("%s is not installed (pdftotext, pdfinfo, pdffonts, pdfimages and pdftoppm come with poppler-utils, qpdf with qpdf); skipping", name)
	return ""
}

// run runs a PDF tool on pdf, written to a temporary file, and returns its
// standard output. Arguments after the file name follow it.
func run(t testing.TB, pdf []byte, tool string, args ...string) string {
	t.Helper()
	bin := requireTool(t, tool)
	dir := t.TempDir()
	file := filepath.Join(dir, "invoice.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, append(args, file)...)
	switch tool {
	case "pdftotext":
		cmd.Args = append(cmd.Args, "-")
	case "pdftoppm":
		cmd.Args = append(cmd.Args, filepath.Join(dir, "page"))
	}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s%s", tool, args, err, stdout.String(), stderr.String())
	}
	if tool == "pdftoppm" {
		return dir
	}
	return stdout.String()
}

// pdfText extracts the text of pdf laid out as on the page.
func pdfText(t testing.TB, pdf []byte) string {
	t.Helper()
	return run(t, pdf, "pdftotext", "-enc", "UTF-8", "-layout")
}

// pdfRawText extracts the text of pdf in reading order: a column's lines
// come out together, so a word broken over lines can be joined again.
func pdfRawText(t testing.TB, pdf []byte) string {
	t.Helper()
	return run(t, pdf, "pdftotext", "-enc", "UTF-8")
}

// pdfPages extracts the text of each page of pdf.
func pdfPages(t testing.TB, pdf []byte) []string {
	t.Helper()
	pages := strings.Split(pdfText(t, pdf), "\f")
	return pages[:len(pages)-1] // the text ends with a form feed
}

// qpdfCheck fails the test unless qpdf finds pdf well formed.
func qpdfCheck(t testing.TB, pdf []byte) {
	t.Helper()
	out := run(t, pdf, "qpdf", "--check")
	if !strings.Contains(out, "No syntax or stream encoding errors found") {
		t.Fatalf("qpdf --check:\n%s", out)
	}
}

// pdfInfo returns a field of pdfinfo's output, such as "Pages".
func pdfInfo(t testing.TB, pdf []byte, field string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + field + `:\s+(.+)$`).FindStringSubmatch(run(t, pdf, "pdfinfo"))
	if m == nil {
		t.Fatalf("pdfinfo printed no %s", field)
	}
	return m[1]
}

// pageCount returns the page count pdfinfo reports.
func pageCount(t testing.TB, pdf []byte) int {
	t.Helper()
	n, _ := strconv.Atoi(pdfInfo(t, pdf, "Pages"))
	return n
}

// pageImage renders page 1 of pdf at dpi.
func pageImage(t testing.TB, pdf []byte, dpi int) image.Image {
	t.Helper()
	dir := run(t, pdf, "pdftoppm", "-png", "-r", strconv.Itoa(dpi), "-f", "1", "-l", "1")
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

// decodeQR reads the QR code in img.
func decodeQR(t testing.TB, img image.Image) string {
	t.Helper()
	text, err := readQR(img)
	if err != nil {
		t.Fatalf("no QR code found on the page: %v", err)
	}
	return text
}

// tryDecodeQR reads a QR code in img, and false when it finds none.
func tryDecodeQR(img image.Image) (string, bool) {
	text, err := readQR(img)
	return text, err == nil
}

func readQR(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// wordBox is where pdftotext found a word.
type wordBox struct {
	xMin, yMin, xMax, yMax float64
	text                   string
}

// wordBoxes returns the position of every word in pdf.
func wordBoxes(t testing.TB, pdf []byte) []wordBox {
	t.Helper()
	re := regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)
	var boxes []wordBox
	for _, m := range re.FindAllStringSubmatch(run(t, pdf, "pdftotext", "-bbox"), -1) {
		b := wordBox{text: m[5]}
		for i, p := range []*float64{&b.xMin, &b.yMin, &b.xMax, &b.yMax} {
			*p, _ = strconv.ParseFloat(m[i+1], 64)
		}
		boxes = append(boxes, b)
	}
	return boxes
}

// requireInMargins fails the test when a word sticks out of the page's
// margins, the sign of text that overflowed its box. The status stamp,
// drawn diagonally across the page, is not checked.
func requireInMargins(t *testing.T, pdf []byte, p paper) {
	t.Helper()
	const slack = 0.5
	for _, b := range wordBoxes(t, pdf) {
		if b.xMin < margin-slack || b.xMax > p.w-margin+slack || b.yMin < margin-slack || b.yMax > p.h-margin/2 {
			t.Errorf("word %q at (%.1f,%.1f)-(%.1f,%.1f) is outside the margins", b.text, b.xMin, b.yMin, b.xMax, b.yMax)
		}
	}
}

// requireInOrder fails the test unless text holds every one of want, each
// after the one before.
func requireInOrder(t *testing.T, text string, want ...string) {
	t.Helper()
	text = spaced(text)
	pos := 0
	for _, w := range want {
		w = spaced(w)
		i := strings.Index(text[pos:], w)
		if i < 0 {
			if strings.Contains(text, w) {
				t.Fatalf("%q is out of order (expected after byte %d)\n%s", w, pos, text)
			}
			t.Fatalf("%q is missing\n%s", w, text)
		}
		pos += i + len(w)
	}
}

// spaced turns the no-break spaces that locale prints into plain ones,
// as pdftotext does.
func spaced(s string) string {
	return strings.NewReplacer(locale.NBSP, " ", locale.NNBSP, " ").Replace(s)
}

// uncompressed returns pdf with its streams decompressed by qpdf.
func uncompressed(t testing.TB, pdf []byte) []byte {
	t.Helper()
	qpdf := requireTool(t, "qpdf")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(qpdf, "--qdf", "--object-streams=disable", in, out).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --qdf: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testRenderer is shared by the tests: parsing the fonts is the slow part
// of New, and a Renderer is safe for concurrent use.
var testRenderer = sync.OnceValues(func() (*Renderer, error) { return New() })

func newRenderer(t testing.TB) *Renderer {
	t.Helper()
	r, err := testRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// observedRenderer returns a Renderer of its own whose warnings the test
// can read.
func observedRenderer(t testing.TB) (*Renderer, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.WarnLevel)
	r, err := New(WithLogger(zap.New(core)))
	if err != nil {
		t.Fatal(err)
	}
	return r, logs
}

// sampleDoc returns an open EUR invoice in English whose lines print
// Romanian, German, Greek and Cyrillic text, followed by extra lines
// "Line item 0001" and on, with its totals computed.
func sampleDoc(t testing.TB, extra int) Document {
	t.Helper()
	inv := &invoice.Invoice{
		ID: "inv_1001", Number: "INV-1001", Status: invoice.StatusOpen,
		Currency: "EUR", IssueDate: "2026-11-21", DueDate: "2026-12-21",
		Language: "en", Reference: "PO-7781",
		Customer: invoice.Customer{
			Name: "Mădălina Țîrlea-Brâncuși", Email: "madalina@example.com", Phone: "+40712345678", VATID: "RO123",
			Address: invoice.Address{Line1: "Str. Lalelelor 5", City: "Cluj-Napoca", PostalCode: "400000", Country: "RO"},
		},
		Lines: []invoice.Line{
			{Description: "Consultanță în arhitectură software", Quantity: "10", Unit: "h", UnitPrice: "95.00", TaxRate: "19"},
			{Description: "Straßenbau-Gutachten (Größe XL, Prüfung für Öl)", Quantity: "1", UnitPrice: "1200", TaxRate: "19", DiscountRate: "10"},
			{Description: "Λογισμικό άδεια χρήσης", Quantity: "2", Unit: "pcs", UnitPrice: "45.50", TaxRate: "9"},
			{Description: "Программное обеспечение", Quantity: "1.5", UnitPrice: "200", TaxRate: "0"},
		},
		Notes:       "Thank you for your business!\nPlease quote the invoice number with your payment.",
		Terms:       "Payment within 30 days. Late payments bear interest of 0.5% per month.",
		AmountPaid:  "100",
		PaymentLink: "https://pay.invoiced.test/i/tok_8f3a9c2e71b44d0c",
	}
	for i := 1; i <= extra; i++ {
		inv.Lines = append(inv.Lines, invoice.Line{
			Description: fmt.Sprintf("Line item %04d, support and maintenance", i),
			Quantity:    "1", Unit: "mo", UnitPrice: "3.50", TaxRate: "19",
		})
	}
	if err := invoice.Compute(inv); err != nil {
		t.Fatal(err)
	}
	return Document{
		Invoice: inv,
		Seller: invoice.Seller{
			Name: "ACME SRL", VATID: "RO18547290", RegistrationNumber: "J12/3456/2015",
			Email: "billing@acme.test", Phone: "+40 264 000 000", Website: "acme.test",
			Address: invoice.Address{Line1: "Str. Memorandumului 28", City: "Cluj-Napoca", PostalCode: "400114", Country: "RO"},
		},
		Bank: invoice.BankAccount{IBAN: "RO49AAAA1B31007593840000", BIC: "AAAARO22", BankName: "Banca Demo", Holder: "ACME SRL"},
	}
}

// testLogo returns a w × h logo: an accent-coloured mark and a bar on a
// transparent background, as a PNG with alpha, or as a JPEG.
func testLogo(t testing.TB, w, h int, format string) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			switch {
			case x < h && (x-h/2)*(x-h/2)+(y-h/2)*(y-h/2) < h*h/5:
				img.Set(x, y, color.NRGBA{0x1D, 0x4E, 0x89, 0xFF})
			case x > h+h/5 && y > h/3 && y < 2*h/3:
				img.Set(x, y, color.NRGBA{0xE0, 0x7A, 0x1F, 0xFF})
			case format == "jpeg":
				img.Set(x, y, color.White)
			}
		}
	}
	var buf bytes.Buffer
	var err error
	if format == "jpeg" {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	} else {
		err = png.Encode(&buf, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func render(t testing.TB, r *Renderer, doc Document) []byte {
	t.Helper()
	pdf, err := r.Render(doc)
	if err != nil {
		t.Fatal(err)
	}
	return pdf
}

func TestRenderSample(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	doc := sampleDoc(t, 0)
	doc.Logo = testLogo(t, 600, 200, "png")
	inv := doc.Invoice
	pdf := render(t, r, doc)
	qpdfCheck(t, pdf)
	a4, _ := parsePaper("")
	requireInMargins(t, pdf, a4)
	if n := pageCount(t, pdf); n != 1 {
		t.Errorf("pages = %d, want 1", n)
	}
	if size := pdfInfo(t, pdf, "Page size"); !strings.HasPrefix(size, "595 x 842") {
		t.Errorf("page size = %q, want A4", size)
	}

	money := func(s string) string { return locale.Money(s, "EUR", "en") }
	text := pdfText(t, pdf)
	// The sections, top to bottom.
	requireInOrder(t, text, "INVOICE", "ACME SRL", "BILL TO", "Description", "VAT rate",
		"Payment details", "Notes", "Page 1 of 1")
	// Each column of the header and the parties, top to bottom.
	requireInOrder(t, text, "INVOICE", "Invoice number", "INV-1001", "Issue date", "21 Nov 2026",
		"Due date", "21 Dec 2026", "Reference / PO", "PO-7781", "Amount due", money(inv.AmountDue),
		"Due 21 Dec 2026", "Description")
	requireInOrder(t, text, "ACME SRL", "Str. Memorandumului 28", "400114 Cluj-Napoca, RO",
		"VAT ID: RO18547290", "Reg. no.: J12/3456/2015", "billing@acme.test · +40 264 000 000", "acme.test",
		"BILL TO", "Mădălina Țîrlea-Brâncuși", "Str. Lalelelor 5", "400000 Cluj-Napoca, RO",
		"VAT ID: RO123", "madalina@example.com", "+40712345678", "Description")
	// The line table: headings, then each line's cells left to right.
	requireInOrder(t, text, "Description", "Qty", "Unit", "Unit price", "Discount", "VAT", "Amount (EUR)",
		"Consultanță în arhitectură software", "10", "h", "95.00", "19%", "950.00",
		"Straßenbau-Gutachten", "1", "1,200.00", "10%", "19%", "1,080.00", "-120.00",
		"Λογισμικό άδεια χρήσης", "2", "pcs", "45.50", "9%", "91.00",
		"Программное обеспечение", "1.5", "200.00", "0%", "300.00", "VAT rate")
	// The VAT breakdown beside the totals, which add up top to bottom.
	for _, tax := range inv.Taxes {
		row := regexp.MustCompile(`(?m)^\s*VAT\s` + regexp.QuoteMeta(locale.Percent(tax.Rate, "en")) + `\s+` +
			regexp.QuoteMeta(money(tax.Base)) + `\s+` + regexp.QuoteMeta(money(tax.Amount)))
		if !row.MatchString(text) {
			t.Errorf("no VAT row for %s%%: base %s, VAT %s", tax.Rate, tax.Base, tax.Amount)
		}
	}
	requireInOrder(t, text, "VAT rate", "Total before discounts", "€2,541.00", "Discounts", "-€120.00",
		"Subtotal", money(inv.Subtotal), "VAT total", money(inv.TaxTotal), "Total", money(inv.Total),
		"Amount paid", "-€100.00", "Amount due", money(inv.AmountDue), "Payment details")
	// Payment details beside the payment link, then the notes beside the
	// terms, and the footer.
	requireInOrder(t, text, "Payment details", "Pay online", "IBAN", "Or open the link:", "RO49 AAAA 1B31 0075 9384 0000",
		"BIC", "AAAARO22", "Bank", "Banca Demo", "Account holder", "Scan to pay online", "ACME SRL",
		"Notes", "Payment terms", "Thank you for your business!", "Payment within 30 days.",
		"Please quote the invoice number", "INVOICE INV-1001 · ACME SRL", "Page 1 of 1")
	if raw := strings.Join(strings.Fields(pdfRawText(t, pdf)), ""); !strings.Contains(raw, inv.PaymentLink) {
		t.Error("the payment link is not printed")
	}
	for _, word := range []string{"DRAFT", "PAID", "VOID"} {
		if strings.Contains(text, word) {
			t.Errorf("an open invoice is marked %s", word)
		}
	}

	// The payment link is a link annotation and a QR code that reads back.
	if !bytes.Contains(pdf, []byte("/S /URI /URI ("+inv.PaymentLink+")")) {
		t.Error("no link annotation for the payment link")
	}
	// The EPC QR code is in the left column, the link's in the right.
	if got := decodeQR(t, crop(pageImage(t, pdf, 150), 0.5, 0, 1, 1)); got != inv.PaymentLink {
		t.Errorf("QR code reads %q, want %q", got, inv.PaymentLink)
	}
	// The logo is embedded once.
	if images := run(t, pdf, "pdfimages", "-list"); len(regexp.MustCompile(`(?m)^\s+1\s+\d+\s+image`).FindAllString(images, -1)) != 1 {
		t.Errorf("pdfimages -list:\n%s", images)
	}
	// The core fonts set this invoice.
	if fonts := run(t, pdf, "pdffonts"); strings.Contains(fonts, "Full") || !strings.Contains(fonts, "DejaVuSans-Bold") {
		t.Errorf("pdffonts:\n%s", fonts)
	}
	if n := r.glyphMisses.Load(); n != 0 {
		t.Errorf("gopdf met %d characters without a glyph", n)
	}
}

func TestRenderLanguages(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	tests := []struct {
		docLang, invLang string
		want             []string
	}{
		{"ro", "en", []string{"FACTURĂ", "Număr factură", "Data emiterii", "21.11.2026", "Scadența", "21.12.2026",
			"CLIENT", "Total de plată", "Cant.", "U.M.", "Preț unitar", "Reducere", "TVA", "Valoare (EUR)",
			"Consultanță", "1.200,00", "10 %", "19 %", "1.080,00", "-120,00", "1,5",
			"Cotă TVA", "Total înainte de reduceri", "2.541,00 €", "Reduceri", "-120,00 €", "Total fără TVA",
			"Sumă achitată", "-100,00 €", "Total de plată", "Date pentru plată", "Plătiți online",
			"Titular cont", "Note", "Condiții de plată", "Pagina 1 din 1"}},
		{"de", "", []string{"RECHNUNG", "Rechnungsnummer", "Rechnungsdatum", "21.11.2026", "Fällig am", "21.12.2026",
			"RECHNUNG AN", "Zu zahlen", "Menge", "Einh.", "Einzelpreis", "Rabatt", "USt.", "Betrag (EUR)",
			"Straßenbau-Gutachten", "1.200,00", "10 %", "Summe vor Rabatt", "2.541,00 €",
			"Zwischensumme netto", "Gesamtbetrag", "Bereits bezahlt", "-100,00 €", "Zu zahlen",
			"Bankverbindung", "Online bezahlen", "Kontoinhaber", "Anmerkungen", "Zahlungsbedingungen",
			"Seite 1 von 1"}},
		{"fr", "", []string{"FACTURE", "Numéro de facture", "Date d'émission", "21/11/2026", "Date d'échéance", "21/12/2026",
			"FACTURÉ À", "Net à payer", "Qté", "Unité", "Prix unitaire", "Remise", "TVA", "Montant (EUR)",
			"1\u202f200,00", "10 %", "19 %", "Total avant remises", "2\u202f541,00 €",
			"Total HT", "Total TTC", "Déjà payé", "-100,00 €", "Net à payer",
			"Coordonnées bancaires", "Payer en ligne", "Titulaire du compte", "Notes",
			"Conditions de paiement", "Page 1 sur 1"}},
		{"", "de-AT", []string{"RECHNUNG"}},
		{"xx", "fr_FR", []string{"FACTURE"}},
		{"xx", "pt-BR", []string{"INVOICE", "Amount due", "Page 1 of 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.docLang+"/"+tt.invLang, func(t *testing.T) {
			t.Parallel()
			doc := sampleDoc(t, 0)
			doc.Language, doc.Invoice.Language = tt.docLang, tt.invLang
			pdf := render(t, r, doc)
			text := spaced(pdfText(t, pdf))
			requireInOrder(t, text, tt.want...)
			lang := language(doc)
			inv := doc.Invoice
			for _, amount := range []string{inv.Total, inv.AmountDue, inv.Subtotal, inv.TaxTotal} {
				if m := spaced(locale.Money(amount, "EUR", lang)); !strings.Contains(text, m) {
					t.Errorf("%s: amount %s not printed as %q", lang, amount, m)
				}
			}
		})
	}
}

// stampRotation matches the transformation that turns the status stamp
// by 45 degrees.
var stampRotation = regexp.MustCompile(`0\.70711\s+0\.70711\s+-0\.70711\s+0\.70711`)

func TestRenderStatusStamps(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	tests := []struct {
		status invoice.Status
		lang   string
		word   string
		lb     string
	}{
		{invoice.StatusDraft, "en", "DRAFT", "INVOICE"},
		{invoice.StatusPaid, "en", "PAID", "INVOICE"},
		{invoice.StatusVoid, "en", "VOID", "INVOICE"},
		{invoice.StatusDraft, "fr", "BROUILLON", "FACTURE"},
		{invoice.StatusPaid, "ro", "ACHITATĂ", "FACTURĂ"},
	}
	for _, tt := range tests {
		t.Run(string(tt.status)+"/"+tt.lang, func(t *testing.T) {
			t.Parallel()
			doc := sampleDoc(t, 0)
			doc.Invoice.Status, doc.Language = tt.status, tt.lang
			pdf := render(t, r, doc)
			qpdfCheck(t, pdf)
			// The badge by the title; pdftotext leaves out the diagonal
			// stamp, so look for its rotation instead.
			requireInOrder(t, pdfText(t, pdf), tt.word, tt.lb)
			if !stampRotation.Match(uncompressed(t, pdf)) {
				t.Error("no diagonal stamp")
			}
		})
	}
	if stampRotation.Match(uncompressed(t, render(t, r, sampleDoc(t, 0)))) {
		t.Error("an open invoice has a stamp")
	}
}

func TestRenderManyLines(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	doc := sampleDoc(t, 496)
	pdf := render(t, r, doc)
	qpdfCheck(t, pdf)
	a4, _ := parsePaper("")
	requireInMargins(t, pdf, a4)

	// 500 lines: 24 on the first page, 34 on each of the 14 pages after
	// it, and the totals, payment details and notes on a page of their own.
	const wantPages = 16
	n := pageCount(t, pdf)
	if n != wantPages {
		t.Errorf("pages = %d, want %d", n, wantPages)
	}
	pages := pdfPages(t, pdf)
	if len(pages) != n {
		t.Fatalf("pdftotext found %d pages, pdfinfo %d", len(pages), n)
	}
	text := strings.Join(pages, "")
	for _, l := range doc.Invoice.Lines[4:] {
		if !strings.Contains(text, l.Description) {
			t.Errorf("line %q is missing", l.Description)
		}
	}
	for i, p := range pages {
		if first := strings.Index(p, "Line item"); first >= 0 {
			if head := strings.Index(p, "Description"); head < 0 || head > first {
				t.Errorf("page %d has lines but no table header above them", i+1)
			}
		}
		if footer := fmt.Sprintf("Page %d of %d", i+1, n); !strings.Contains(p, footer) {
			t.Errorf("page %d lacks %q", i+1, footer)
		}
		if i > 0 && !strings.Contains(p, "INVOICE INV-1001") {
			t.Errorf("page %d lacks the running header", i+1)
		}
	}
	// The totals block stays on one page.
	inv := doc.Invoice
	for _, p := range pages {
		if strings.Contains(p, "Subtotal") {
			requireInOrder(t, p, "Subtotal", "VAT total", "Total", locale.Money(inv.Total, "EUR", "en"),
				"Amount due", locale.Money(inv.AmountDue, "EUR", "en"))
		}
	}
}

func TestRenderTotalsKeptTogether(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	moved := false
	// Somewhere in this range the table ends too low for the totals.
	for extra := 14; extra <= 34; extra++ {
		doc := sampleDoc(t, extra)
		inv := doc.Invoice
		pages := pdfPages(t, render(t, r, doc))
		lastLine := fmt.Sprintf("Line item %04d", extra)
		for i, p := range pages {
			if !strings.Contains(p, "Subtotal") {
				continue
			}
			requireInOrder(t, p, "VAT rate", "Total before discounts", "Subtotal", "VAT total", "Total", locale.Money(inv.Total, "EUR", "en"), "Amount paid",
				"Amount due", locale.Money(inv.AmountDue, "EUR", "en"))
			if !strings.Contains(p, lastLine) {
				moved = true
				if !strings.Contains(pages[i-1], lastLine) {
					t.Errorf("%d lines: the totals are not on the page after the table", extra+4)
				}
			}
		}
	}
	if !moved {
		t.Error("no line count moved the totals to a page of their own; widen the range")
	}
}

func TestRenderLongWord(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	word := strings.Repeat("Donaudampfschifffahrt", 10)[:200]
	doc := sampleDoc(t, 0)
	doc.Invoice.Customer.Name = word
	doc.Invoice.Lines[0].Description = "Before " + word + " after"
	doc.Invoice.Lines[2].Unit = "Kilowattstundenpauschale"
	doc.Invoice.PaymentLink += "/" + strings.Repeat("a1b2c3d4", 12)
	pdf := render(t, r, doc)
	qpdfCheck(t, pdf)
	a4, _ := parsePaper("")
	requireInMargins(t, pdf, a4)

	joined := strings.Join(strings.Fields(pdfRawText(t, pdf)), "")
	if n := strings.Count(joined, word); n != 2 {
		t.Errorf("the long word is printed whole %d times, want 2 (customer and line)", n)
	}
	w, err := newWriter(r, doc)
	if err != nil {
		t.Fatal(err)
	}
	cols := w.lineTableColumns().cols
	pieces := 0
	for _, b := range wordBoxes(t, pdf) {
		// Pieces of the word in the table, not in the customer block.
		if len(b.text) > 5 && strings.Contains(word, b.text) && b.xMin > margin+1 {
			pieces++
			if b.xMax > cols[0].x+cols[0].width-cellPadX+0.5 {
				t.Errorf("piece %q reaches x=%.1f, past the description column", b.text, b.xMax)
			}
		}
		if strings.HasPrefix("Kilowattstundenpauschale", b.text) && len(b.text) > 3 && b.xMax > cols[2].x+cols[2].width {
			t.Errorf("unit piece %q reaches x=%.1f, past the unit column", b.text, b.xMax)
		}
	}
	if pieces < 2 {
		t.Errorf("the word is split into %d pieces in the table, want several", pieces)
	}
}

func TestRenderTallRow(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	doc := sampleDoc(t, 0)
	var parts []string
	for i := 1; i <= 150; i++ {
		parts = append(parts, fmt.Sprintf("Part %03d", i))
	}
	doc.Invoice.Lines[0].Description = strings.Join(parts, "\n")
	pdf := render(t, r, doc)
	qpdfCheck(t, pdf)
	a4, _ := parsePaper("")
	requireInMargins(t, pdf, a4)
	if n := pageCount(t, pdf); n < 2 {
		t.Errorf("pages = %d, want the row to continue on a second page", n)
	}
	requireInOrder(t, pdfText(t, pdf), parts...)
}

func TestRenderCurrencies(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	tests := []struct {
		currency, lang, price string
		want                  []string
	}{
		{"JPY", "en", "1999", []string{"Amount (JPY)", "1,999", "5,997", "¥6,597"}},
		// Amounts of a 3-decimal currency are computed to hundredths.
		{"BHD", "en", "10.005", []string{"Amount (BHD)", "10.005", "30.020", "BHD 33.020"}},
		{"RON", "ro", "1000", []string{"Valoare (RON)", "1.000,00", "3.000,00", "3.300,00 RON"}},
		{"GBP", "fr", "1000", []string{"1\u202f000,00", "3\u202f300,00 £"}},
	}
	for _, tt := range tests {
		t.Run(tt.currency, func(t *testing.T) {
			t.Parallel()
			doc := sampleDoc(t, 0)
			inv := doc.Invoice
			inv.Currency, inv.AmountPaid, doc.Language = tt.currency, "", tt.lang
			inv.Lines = []invoice.Line{{Description: "Widget", Quantity: "3", UnitPrice: tt.price, TaxRate: "10"}}
			if err := invoice.Compute(inv); err != nil {
				t.Fatal(err)
			}
			pdf := render(t, r, doc)
			qpdfCheck(t, pdf)
			text := spaced(pdfText(t, pdf))
			requireInOrder(t, text, tt.want...)
			if due := spaced(locale.Money(inv.AmountDue, tt.currency, tt.lang)); !strings.Contains(text, due) {
				t.Errorf("amount due %q is missing", due)
			}
		})
	}
}

func TestRenderFullFontFallback(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	doc := sampleDoc(t, 0)
	doc.Invoice.Customer.Name = "Հայկ Պետրոսյան" // Armenian: not in the core subset
	pdf := render(t, r, doc)
	requireInOrder(t, pdfText(t, pdf), "Հայկ Պետրոսյան", "Consultanță")
	if fonts := run(t, pdf, "pdffonts"); !strings.Contains(fonts, "DejaVuSans-Full") {
		t.Errorf("the full fonts do not set the invoice:\n%s", fonts)
	}
}

func TestRenderLogos(t *testing.T) {
	t.Parallel()
	r, logs := observedRenderer(t)
	tests := []struct {
		name  string
		logo  []byte
		image bool
	}{
		{"png with alpha", testLogo(t, 600, 200, "png"), true},
		{"jpeg", testLogo(t, 300, 300, "jpeg"), true},
		{"large png", testLogo(t, 3000, 600, "png"), true},
		{"not an image", []byte("GIF89a nonsense"), false},
	}
	for _, tt := range tests {
		doc := sampleDoc(t, 0)
		doc.Logo = tt.logo
		pdf := render(t, r, doc)
		qpdfCheck(t, pdf)
		list := run(t, pdf, "pdfimages", "-list")
		// The QR codes are listed too, as stencil masks.
		if got := regexp.MustCompile(`(?m)^\s*\d+\s+\d+\s+image\s`).MatchString(list); got != tt.image {
			t.Errorf("%s: image embedded = %v, want %v\n%s", tt.name, got, tt.image, list)
		}
		if !tt.image {
			continue
		}
		// The logo fits its box at the top left and keeps its proportions.
		m := regexp.MustCompile(`(?m)^\s*1\s+0\s+image\s+(\d+)\s+(\d+)\s+\w+\s+\d+\s+\d+\s+\w+\s+\w+\s+\d+\s+\d+\s+(\d+)\s+(\d+)`).FindStringSubmatch(list)
		if m == nil {
			t.Fatalf("%s: unexpected pdfimages output\n%s", tt.name, list)
		}
		pw, _ := strconv.Atoi(m[1])
		ph, _ := strconv.Atoi(m[2])
		if pw > maxLogoSide || ph > maxLogoSide {
			t.Errorf("%s: embedded at %d×%d pixels, want at most %d", tt.name, pw, ph, maxLogoSide)
		}
		xppi, _ := strconv.Atoi(m[3])
		if w := float64(pw) * 72 / float64(xppi); w > logoMaxW+1 {
			t.Errorf("%s: printed %.0f pt wide, more than the box", tt.name, w)
		}
	}
	if n := len(logs.FilterMessage("pdf: logo left out").All()); n != 1 {
		t.Errorf("%d warnings about a bad logo, want 1", n)
	}
}

func TestRenderLetterAndAccent(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	doc := sampleDoc(t, 60)
	doc.Paper, doc.Accent = "Letter", "#B42318"
	pdf := render(t, r, doc)
	qpdfCheck(t, pdf)
	if size := pdfInfo(t, pdf, "Page size"); !strings.HasPrefix(size, "612 x 792") {
		t.Errorf("page size = %q, want Letter", size)
	}
	letter, _ := parsePaper("letter")
	requireInMargins(t, pdf, letter)
	// The accent colours the title: 0xB4/255, 0x23/255, 0x18/255.
	qdf := uncompressed(t, pdf)
	if !bytes.Contains(qdf, []byte("0.706 0.137 0.094 rg")) {
		t.Error("the accent colour is not used")
	}
	if bytes.Contains(qdf, []byte("0.114 0.306 0.537 rg")) {
		t.Error("the default accent is still used")
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	r, logs := observedRenderer(t)
	if _, err := r.Render(Document{}); !errors.Is(err, ErrNoInvoice) {
		t.Errorf("Render(no invoice) = %v, want ErrNoInvoice", err)
	}
	doc := sampleDoc(t, 0)
	doc.Invoice.Currency = "ABC"
	if _, err := r.Render(doc); err == nil {
		t.Error("Render(unknown currency) succeeded")
	}
	// Bad settings fall back to the defaults, with a warning.
	doc = sampleDoc(t, 0)
	doc.Paper, doc.Accent = "A3", "blue"
	pdf := render(t, r, doc)
	if size := pdfInfo(t, pdf, "Page size"); !strings.HasPrefix(size, "595 x 842") {
		t.Errorf("page size = %q, want A4", size)
	}
	if n := logs.Len(); n != 2 {
		t.Errorf("%d warnings, want 2 (paper, accent): %v", n, logs.All())
	}
}

func TestRenderDeterministicAndConcurrent(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	doc := sampleDoc(t, 30)
	doc.Logo = testLogo(t, 400, 100, "png")
	want := render(t, r, doc)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			got, err := r.Render(doc)
			if err == nil && !bytes.Equal(got, want) {
				err = errors.New("a concurrent render gave different bytes")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestWriteSamples writes sample PDFs to $INVOICED_PDF_SAMPLES, for
// looking at them (pdftoppm -png -r 70 …). It is skipped otherwise.
func TestWriteSamples(t *testing.T) {
	dir := os.Getenv("INVOICED_PDF_SAMPLES")
	if dir == "" {
		t.Skip("INVOICED_PDF_SAMPLES is not set")
	}
	r := newRenderer(t)
	samples := map[string]func(*Document){
		"sample": func(d *Document) { d.Logo = testLogo(t, 600, 200, "png") },
		"draft":  func(d *Document) { d.Invoice.Status = invoice.StatusDraft },
		"paid-ro": func(d *Document) {
			d.Invoice.Status, d.Language, d.Invoice.AmountPaid = invoice.StatusPaid, "ro", d.Invoice.Total
			d.Invoice.AmountDue = "0.00"
		},
		"letter-de": func(d *Document) { d.Paper, d.Language, d.Accent = "Letter", "de", "#0F766E" },
		"fr":        func(d *Document) { d.Language = "fr"; d.Logo = testLogo(t, 300, 300, "jpeg") },
		"longword": func(d *Document) {
			word := strings.Repeat("Donaudampfschifffahrt", 10)[:200]
			d.Invoice.Customer.Name = word
			d.Invoice.Lines[0].Description = "Before " + word + " after"
		},
	}
	for name, change := range samples {
		doc := sampleDoc(t, 0)
		change(&doc)
		if err := os.WriteFile(filepath.Join(dir, name+".pdf"), render(t, r, doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, lang := range []string{"en", "ro"} {
		doc := creditNoteDoc(t)
		doc.Language = lang
		if err := os.WriteFile(filepath.Join(dir, "creditnote-"+lang+".pdf"), render(t, r, doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	doc := sampleDoc(t, 496)
	if err := os.WriteFile(filepath.Join(dir, "lines500.pdf"), render(t, r, doc), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCheckGlyphsAllocatesNothing checks that CheckGlyphs reads the
// text of a document whose characters every font has without allocating:
// e-invoice fields, a corrected invoice and allowances included. The API
// asks it of every send that attaches the PDF.
func TestCheckGlyphsAllocatesNothing(t *testing.T) {
	r := newRenderer(t)
	doc := sampleDoc(t, 3)
	doc.Invoice.Corrects = &invoice.Reference{Number: "INV-0999"}
	doc.Invoice.Allowances = []invoice.AllowanceCharge{{Reason: "Loyalty"}}
	doc.Invoice.Charges = []invoice.AllowanceCharge{{Reason: "Shipping"}}
	if err := r.CheckGlyphs(doc); err != nil {
		t.Fatalf("CheckGlyphs = %v", err)
	}
	if n := testing.AllocsPerRun(10, func() { _ = r.CheckGlyphs(doc) }); n != 0 {
		t.Errorf("CheckGlyphs allocates %v times, want none", n)
	}
}

// TestCheckGlyphsNamesEachField checks that CheckGlyphs reads every kind
// of text that comes from outside, and names the field of a character no
// font has as the API does.
func TestCheckGlyphsNamesEachField(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	for _, tc := range []struct {
		field string
		set   func(d *Document)
	}{
		{"number", func(d *Document) { d.Invoice.Number = "🍕" }},
		{"paymentLink", func(d *Document) { d.Invoice.PaymentLink = "🍕" }},
		{"branding.registrationNumber", func(d *Document) { d.Seller.RegistrationNumber = "🍕" }},
		{"bank.holder", func(d *Document) { d.Bank.Holder = "🍕" }},
		{"branding.address.country", func(d *Document) { d.Seller.Address.Country = "🍕" }},
		{"customer.address.line2", func(d *Document) { d.Invoice.Customer.Address.Line2 = "🍕" }},
		{"corrects.number", func(d *Document) { d.Invoice.Corrects = &invoice.Reference{Number: "🍕"} }},
		{"lines[1].unit", func(d *Document) { d.Invoice.Lines[1].Unit = "🍕" }},
		{"contractReference", func(d *Document) { d.Invoice.ContractReference = "🍕" }},
		{"lines[2].taxExemptionReason", func(d *Document) { d.Invoice.Lines[2].TaxExemptionReason = "🍕" }},
		{"allowances[0].reason", func(d *Document) { d.Invoice.Allowances = []invoice.AllowanceCharge{{Reason: "🍕"}} }},
		{"charges[1].reason", func(d *Document) { d.Invoice.Charges = []invoice.AllowanceCharge{{Reason: "x"}, {Reason: "🍕"}} }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			doc := sampleDoc(t, 3)
			tc.set(&doc)
			var ge *GlyphError
			if err := r.CheckGlyphs(doc); !errors.As(err, &ge) || string(ge.Runes) != "🍕" || len(ge.Fields) != 1 || ge.Fields[0] != tc.field {
				t.Errorf("CheckGlyphs = %v, want 🍕 in %s alone", err, tc.field)
			}
		})
	}
}

// TestRenderFontMapsPerDocument renders invoices whose customers' names
// bring in characters of their own, concurrently and each twice, and
// checks that each PDF's text reads its own name: the fonts' ToUnicode
// maps, kept by the characters they list, are never another document's.
func TestRenderFontMapsPerDocument(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	names := []string{"Ζωή Παπαδοπούλου", "Жанна Ёлкина", "Ţară Şcoală", "Zoë Ødegård", "Zoe Odegard"}
	pdfs := make([][]byte, 2*len(names))
	var wg sync.WaitGroup
	for i := range pdfs {
		wg.Go(func() {
			doc := sampleDoc(t, 0)
			doc.Invoice.Customer.Name = names[i%len(names)]
			pdf, err := r.Render(doc)
			if err != nil {
				t.Error(err)
			}
			pdfs[i] = pdf
		})
	}
	wg.Wait()
	for i, pdf := range pdfs {
		if pdf == nil {
			continue
		}
		if text := pdfText(t, pdf); !strings.Contains(text, names[i%len(names)]) {
			t.Errorf("the PDF for %q reads\n%s", names[i%len(names)], text)
		}
	}
}

// TestRenderAllocations holds a render of the 10-line sample invoice,
// payment link and EPC transfer code included, to the allocations it
// makes once an earlier render has left its pools filled: 250, where
// each table cell, rule, colour, amount and wrapped line was an
// allocation of its own and it made 518, and each switch of text colour,
// the EPC code's amount and the e-invoice labels' maps allocated too and
// it made 295. The bound
// leaves room for pools found empty, after a garbage collection or
// under the race detector, which drops a share of what is put back in a
// pool.
func TestRenderAllocations(t *testing.T) {
	r := newRenderer(t)
	doc := sampleDoc(t, 6)
	render(t, r, doc)
	const most = 340
	if n := testing.AllocsPerRun(10, func() { _, _ = r.Render(doc) }); n > most {
		t.Errorf("Render allocates %v times, want at most %d", n, most)
	}
}
