package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/invoiced/invoiced/invoice"
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
	t.Skipf("%s is not installed (pdftotext and pdfinfo come with poppler-utils, qpdf with qpdf); skipping", name)
	return ""
}

// run runs a PDF tool on pdf, written to a temporary file, and returns its
// standard output.
func run(t testing.TB, pdf []byte, tool string, args ...string) string {
	t.Helper()
	bin := requireTool(t, tool)
	file := filepath.Join(t.TempDir(), "invoice.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, append(args, file)...)
	if tool == "pdftotext" {
		cmd.Args = append(cmd.Args, "-")
	}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s%s", tool, args, err, stdout.String(), stderr.String())
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

// pageCount returns the page count pdfinfo reports.
func pageCount(t testing.TB, pdf []byte) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`).FindStringSubmatch(run(t, pdf, "pdfinfo"))
	if m == nil {
		t.Fatal("pdfinfo printed no page count")
	}
	n, _ := strconv.Atoi(m[1])
	return n
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
// margins, the sign of text that overflowed its box.
func requireInMargins(t *testing.T, pdf []byte) {
	t.Helper()
	const slack = 0.5
	for _, b := range wordBoxes(t, pdf) {
		if b.xMin < left-slack || b.xMax > right+slack || b.yMin < top-slack || b.yMax > pageH-margin/2 {
			t.Errorf("word %q at (%.1f,%.1f)-(%.1f,%.1f) is outside the margins", b.text, b.xMin, b.yMin, b.xMax, b.yMax)
		}
	}
}

// requireInOrder fails the test unless text holds every one of want, each
// after the one before.
func requireInOrder(t *testing.T, text string, want ...string) {
	t.Helper()
	pos := 0
	for _, w := range want {
		i := strings.Index(text[pos:], w)
		if i < 0 {
			if strings.Contains(text, w) {
				t.Fatalf("%q is out of order (expected after %d)\n%s", w, pos, text)
			}
			t.Fatalf("%q is missing\n%s", w, text)
		}
		pos += i + len(w)
	}
}

func newRenderer(t testing.TB) *Renderer {
	t.Helper()
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return r
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
			{Description: "Straßenbau-Gutachten (Größe XL)", Quantity: "1", UnitPrice: "1200", TaxRate: "19", DiscountRate: "10"},
			{Description: "Λογισμικό άδεια χρήσης", Quantity: "2", Unit: "pcs", UnitPrice: "45.50", TaxRate: "9"},
			{Description: "Программное обеспечение", Quantity: "1.5", UnitPrice: "200", TaxRate: "0"},
		},
		Notes:       "Thank you for your business!\nPlease quote the invoice number with your payment.",
		Terms:       "Payment within 30 days.",
		AmountPaid:  "100",
		PaymentLink: "https://pay.invoiced.test/i/tok_8f3a9c2e71b44d0c",
	}
	for i := 1; i <= extra; i++ {
		inv.Lines = append(inv.Lines, invoice.Line{
			Description: fmt.Sprintf("Line item %04d, support and maintenance", i),
			Quantity:    "1", UnitPrice: "3.50", TaxRate: "19",
		})
	}
	if err := invoice.Compute(inv); err != nil {
		t.Fatal(err)
	}
	return Document{
		Invoice: inv,
		Seller: invoice.Seller{
			Name: "ACME SRL", VATID: "RO18547290", RegistrationNumber: "J12/3456/2015",
			Email: "billing@acme.test", Phone: "+40 264 000 000",
			Address: invoice.Address{Line1: "Str. Memorandumului 28", City: "Cluj-Napoca", PostalCode: "400114", Country: "RO"},
		},
		Bank: invoice.BankAccount{IBAN: "RO49AAAA1B31007593840000", BIC: "AAAARO22", BankName: "Banca Demo", Holder: "ACME SRL"},
	}
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
	inv := doc.Invoice
	pdf := render(t, r, doc)
	qpdfCheck(t, pdf)
	requireInMargins(t, pdf)
	if n := pageCount(t, pdf); n != 1 {
		t.Errorf("pages = %d, want 1", n)
	}

	text := pdfText(t, pdf)
	want := []string{"ACME SRL", "INVOICE", "INV-1001", "2026-11-21", "2026-12-21", "PO-7781",
		"Mădălina Țîrlea-Brâncuși", "Amount due", inv.AmountDue + " EUR", "Description"}
	for _, l := range inv.Lines {
		want = append(want, l.Description)
	}
	for _, tax := range inv.Taxes {
		want = append(want, tax.Rate+"%", tax.Base+" EUR", tax.Amount+" EUR")
	}
	want = append(want, "Total", inv.Total+" EUR", "Amount paid", "-100.00 EUR", "Amount due", inv.AmountDue+" EUR",
		"Notes", "Terms", "RO49 AAAA 1B31 0075 9384 0000", inv.PaymentLink, "Page 1 of 1")
	requireInOrder(t, text, want...)

	for _, tax := range inv.Taxes {
		row := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(tax.Rate+"%") + `\s+` +
			regexp.QuoteMeta(tax.Base+" EUR") + `\s+` + regexp.QuoteMeta(tax.Amount+" EUR"))
		if !row.MatchString(text) {
			t.Errorf("no VAT row for %s%%: base %s, VAT %s", tax.Rate, tax.Base, tax.Amount)
		}
	}
	// The discounted line shows its discount, and the totals add up from
	// the sum before discounts.
	requireInOrder(t, text, "Discount 10%: -120.00", "Total before discounts", "2541.00 EUR", "Discounts", "-120.00 EUR", "Subtotal", inv.Subtotal+" EUR")
	if strings.Contains(text, "DRAFT") {
		t.Error("an open invoice is marked DRAFT")
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
		{"ro", "en", []string{"FACTURĂ", "Dată emitere", "Scadență", "Cantitate", "Preț unitar", "Cotă TVA", "Total de plată", "Pagina 1 din 1"}},
		{"de", "", []string{"RECHNUNG", "Rechnungsdatum", "Menge", "Einzelpreis", "Gesamtbetrag", "Zu zahlen", "Seite 1 von 1"}},
		{"fr", "", []string{"FACTURE", "Date d'émission", "Quantité", "Prix unitaire", "Total TTC", "Net à payer", "Page 1 sur 1"}},
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
			requireInOrder(t, pdfText(t, pdf), tt.want...)
		})
	}
}

func TestRenderDraft(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	doc := sampleDoc(t, 0)
	doc.Invoice.Status = invoice.StatusDraft
	pdf := render(t, r, doc)
	qpdfCheck(t, pdf)
	// The badge by the title; the watermark's letters may come out apart.
	requireInOrder(t, pdfText(t, pdf), "DRAFT", "INVOICE")
}

func TestRenderManyLines(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	doc := sampleDoc(t, 500)
	pdf := render(t, r, doc)
	qpdfCheck(t, pdf)
	requireInMargins(t, pdf)

	n := pageCount(t, pdf)
	if n < 2 {
		t.Fatalf("pages = %d, want more than 1", n)
	}
	pages := pdfPages(t, pdf)
	if len(pages) != n {
		t.Fatalf("pdftotext found %d pages, pdfinfo %d", len(pages), n)
	}
	text := strings.Join(pages, "")
	for _, l := range doc.Invoice.Lines {
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
	}
	if !strings.Contains(pages[n-1], fmt.Sprintf("Page %d of %d", n, n)) {
		t.Errorf("last page lacks its footer")
	}
	// The totals block stays on one page.
	for _, p := range pages {
		if strings.Contains(p, "Subtotal") {
			requireInOrder(t, p, "Subtotal", "VAT total", "Total", doc.Invoice.Total+" EUR", "Amount due", doc.Invoice.AmountDue+" EUR")
		}
	}
}

func TestRenderTotalsKeptTogether(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	moved := false
	// Somewhere in this range the table ends too low for the totals.
	for extra := 20; extra <= 40; extra++ {
		doc := sampleDoc(t, extra)
		inv := doc.Invoice
		pages := pdfPages(t, render(t, r, doc))
		lastLine := fmt.Sprintf("Line item %04d", extra)
		for i, p := range pages {
			if !strings.Contains(p, "Subtotal") {
				continue
			}
			requireInOrder(t, p, "VAT rate", inv.Taxes[len(inv.Taxes)-1].Amount+" EUR",
				"Subtotal", "VAT total", "Total", inv.Total+" EUR", "Amount paid", "Amount due", inv.AmountDue+" EUR")
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
	pdf := render(t, r, doc)
	qpdfCheck(t, pdf)
	requireInMargins(t, pdf)

	joined := strings.Join(strings.Fields(pdfRawText(t, pdf)), "")
	if n := strings.Count(joined, word); n != 2 {
		t.Errorf("the long word is printed whole %d times, want 2 (customer and line)", n)
	}
	desc := tableColumns()[0]
	pieces := 0
	for _, b := range wordBoxes(t, pdf) {
		// Pieces of the word in the table, not in the customer block.
		if len(b.text) > 5 && strings.Contains(word, b.text) && b.xMin > left+1 {
			pieces++
			if b.xMax > desc.x+desc.width-cellPadX+0.5 {
				t.Errorf("piece %q reaches x=%.1f, past the description column", b.text, b.xMax)
			}
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
	requireInMargins(t, pdf)
	if n := pageCount(t, pdf); n < 2 {
		t.Errorf("pages = %d, want the row to continue on a second page", n)
	}
	requireInOrder(t, pdfText(t, pdf), parts...)
}

func TestRenderCurrencies(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	tests := []struct {
		currency, price string
		want            []string
	}{
		{"JPY", "1999", []string{"1999", "5997", "6597 JPY"}},
		{"BHD", "10.005", []string{"10.005", "30.015", "33.017 BHD"}},
	}
	for _, tt := range tests {
		t.Run(tt.currency, func(t *testing.T) {
			t.Parallel()
			doc := sampleDoc(t, 0)
			inv := doc.Invoice
			inv.Currency, inv.AmountPaid = tt.currency, ""
			inv.Lines = []invoice.Line{{Description: "Widget", Quantity: "3", UnitPrice: tt.price, TaxRate: "10"}}
			if err := invoice.Compute(inv); err != nil {
				t.Fatal(err)
			}
			pdf := render(t, r, doc)
			qpdfCheck(t, pdf)
			requireInOrder(t, pdfText(t, pdf), tt.want...)
		})
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)

	if _, err := r.Render(Document{}); !errors.Is(err, ErrNoInvoice) {
		t.Errorf("Render(no invoice) = %v, want ErrNoInvoice", err)
	}

	doc := sampleDoc(t, 0)
	doc.Invoice.Currency = "ABC"
	if _, err := r.Render(doc); err == nil {
		t.Error("Render(unknown currency) succeeded")
	}

	doc = sampleDoc(t, 0)
	doc.Invoice.Customer.Name = "李雷 Ltd"
	doc.Invoice.Lines[0].Description = "Pizza 🍕 and 雷"
	_, err := r.Render(doc)
	var ge *GlyphError
	if !errors.As(err, &ge) {
		t.Fatalf("Render(CJK) = %v, want a *GlyphError", err)
	}
	if got, want := string(ge.Runes), "李雷🍕"; got != want {
		t.Errorf("missing runes = %q, want %q", got, want)
	}
	if n := r.glyphMisses.Load(); n != 0 {
		t.Errorf("%d characters without a glyph reached gopdf", n)
	}
}

func TestRenderDeterministicAndConcurrent(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	doc := sampleDoc(t, 30)
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

func BenchmarkRender(b *testing.B) {
	r := newRenderer(b)
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			doc := sampleDoc(b, n-4)
			var size int
			for b.Loop() {
				pdf, err := r.Render(doc)
				if err != nil {
					b.Fatal(err)
				}
				size = len(pdf)
			}
			b.ReportMetric(float64(size), "pdf-bytes")
		})
	}
}
