package pdf

// The baselines that BENCHMARKS.md compares BenchmarkRender with: the same
// 10-line invoice printed by github.com/go-pdf/fpdf with the same UTF-8
// TrueType fonts, and an equivalent HTML invoice printed to PDF by a warm
// headless Chromium, as HTML-to-PDF invoicing systems do.

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/go-pdf/fpdf"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/locale"
	"github.com/invoiced/invoiced/render/qr"
)

// chromiumPath is Debian's Chromium (apt-get install chromium).
const chromiumPath = "/usr/bin/chromium"

func BenchmarkBaselineFPDF(b *testing.B) {
	doc := sampleDoc(b, 6)
	var size int
	for b.Loop() {
		pdf, err := renderFPDF(doc)
		if err != nil {
			b.Fatal(err)
		}
		size = len(pdf)
	}
	b.ReportMetric(float64(size), "pdf-bytes")
}

func TestBaselineFPDF(t *testing.T) {
	t.Parallel()
	doc := sampleDoc(t, 6)
	pdf, err := renderFPDF(doc)
	if err != nil {
		t.Fatal(err)
	}
	qpdfCheck(t, pdf)
	// The baseline prints the same content.
	requireInOrder(t, pdfText(t, pdf), "ACME SRL", "INVOICE", "Mădălina Țîrlea-Brâncuși",
		"Consultanță în arhitectură software", "Line item 0006", locale.Money(doc.Invoice.Total, "EUR", "en"),
		"RO49 AAAA 1B31 0075 9384 0000", "Thank you for your business!", "Page 1 of 1")
}

// renderFPDF prints doc with fpdf: the same sections, fonts, formatting,
// QR code and link as Render, in a simpler layout.
func renderFPDF(doc Document) ([]byte, error) {
	inv, lang := doc.Invoice, language(doc)
	lb := labelsFor(lang)
	money := func(s string) string { return locale.Money(s, inv.Currency, lang) }
	amount := func(s string) string { return locale.Amount(s, inv.Currency, lang) }

	f := fpdf.New("P", "pt", "A4", "")
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(true, margin+10)
	f.AddUTF8FontFromBytes("dejavu", "", coreRegularTTF)
	f.AddUTF8FontFromBytes("dejavu", "B", coreBoldTTF)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(func() {
		f.SetY(-margin)
		f.SetFont("dejavu", "", 7.5)
		f.CellFormat(0, 10, fmt.Sprintf(lb.page, f.PageNo(), 1), "T", 0, "R", false, 0, "")
	})
	f.AddPage()
	contentW := 595.28 - 2*margin

	f.SetFont("dejavu", "B", 20)
	f.CellFormat(0, 24, lb.title, "", 1, "R", false, 0, "")
	f.SetFont("dejavu", "", 8.5)
	for _, r := range [][2]string{
		{lb.number, inv.Number}, {lb.issueDate, locale.Date(inv.IssueDate, lang)},
		{lb.dueDate, locale.Date(inv.DueDate, lang)}, {lb.reference, inv.Reference},
	} {
		f.SetX(margin + contentW - 215)
		f.CellFormat(100, 12, r[0], "", 0, "L", false, 0, "")
		f.CellFormat(115, 12, r[1], "", 1, "R", false, 0, "")
	}
	f.SetY(margin)
	f.SetFont("dejavu", "B", 13)
	f.CellFormat(270, 18, doc.Seller.Name, "", 1, "L", false, 0, "")
	f.SetFont("dejavu", "", 8.5)
	s := doc.Seller
	for _, l := range appendNonEmpty(addressLines(s.Address), lb.vatID+": "+s.VATID, lb.regNo+": "+s.RegistrationNumber, s.Email+" · "+s.Phone, s.Website) {
		f.CellFormat(270, 12, l, "", 1, "L", false, 0, "")
	}
	f.Ln(18)
	c := inv.Customer
	f.SetFont("dejavu", "B", 10)
	f.CellFormat(270, 14, c.Name, "", 0, "L", false, 0, "")
	f.SetFont("dejavu", "B", 16)
	f.CellFormat(contentW-270, 20, money(inv.AmountDue), "", 1, "R", false, 0, "")
	f.SetFont("dejavu", "", 8.5)
	for _, l := range appendNonEmpty(addressLines(c.Address), lb.vatID+": "+c.VATID, c.Email, c.Phone) {
		f.CellFormat(270, 12, l, "", 1, "L", false, 0, "")
	}
	f.Ln(18)

	widths := []float64{contentW - 38 - 38 - 64 - 50 - 38 - 72, 38, 38, 64, 50, 38, 72}
	f.SetFont("dejavu", "B", 7.5)
	f.SetFillColor(0xF3, 0xF5, 0xF7)
	for i, t := range []string{lb.description, lb.quantity, lb.unit, lb.unitPrice, lb.discount, lb.vat, lb.amount} {
		f.CellFormat(widths[i], 16, t, "", 0, "L", true, 0, "")
	}
	f.Ln(-1)
	f.SetFont("dejavu", "", 8.5)
	for _, l := range inv.Lines {
		desc := f.SplitText(l.Description, widths[0]-10)
		h := float64(len(desc)) * 12
		y := f.GetY()
		f.MultiCell(widths[0], 12, l.Description, "", "L", false)
		f.SetXY(margin+widths[0], y)
		for i, v := range []string{locale.Number(l.Quantity, lang), l.Unit, amount(l.UnitPrice),
			locale.Percent(l.DiscountRate, lang), locale.Percent(l.TaxRate, lang), amount(l.Amount)} {
			f.CellFormat(widths[i+1], 12, v, "", 0, "R", false, 0, "")
		}
		f.SetXY(margin, y+h)
		f.Line(margin, y+h, margin+contentW, y+h)
	}
	f.Ln(12)
	for _, t := range inv.Taxes {
		f.CellFormat(70, 14, locale.Percent(t.Rate, lang), "", 0, "L", false, 0, "")
		f.CellFormat(95, 14, money(t.Base), "", 0, "R", false, 0, "")
		f.CellFormat(95, 14, money(t.Amount), "", 1, "R", false, 0, "")
	}
	for _, t := range [][2]string{
		{lb.subtotal, inv.Subtotal}, {lb.vatTotal, inv.TaxTotal}, {lb.total, inv.Total},
		{lb.paid, negate(inv.AmountPaid)}, {lb.amountDue, inv.AmountDue},
	} {
		f.SetX(margin + contentW - 235)
		f.CellFormat(130, 14, t[0], "", 0, "L", false, 0, "")
		f.CellFormat(105, 14, money(t[1]), "", 1, "R", false, 0, "")
	}
	f.Ln(12)
	f.SetFont("dejavu", "B", 8.5)
	f.CellFormat(0, 12, lb.paymentDetails, "", 1, "L", false, 0, "")
	f.SetFont("dejavu", "", 8.5)
	y := f.GetY()
	for _, r := range [][2]string{{lb.iban, groupIBAN(doc.Bank.IBAN)}, {lb.bic, doc.Bank.BIC}, {lb.bank, doc.Bank.BankName}, {lb.holder, doc.Bank.Holder}} {
		f.CellFormat(90, 12, r[0], "", 0, "L", false, 0, "")
		f.CellFormat(180, 12, r[1], "", 1, "L", false, 0, "")
	}
	code, err := qr.Encode(inv.PaymentLink)
	if err != nil {
		return nil, err
	}
	x0 := margin + contentW - 235
	module := qrSide / float64(code.Size()+2*qr.QuietZone)
	f.SetFillColor(0, 0, 0)
	for _, r := range code.Rects() {
		f.Rect(x0+float64(r.X+qr.QuietZone)*module, y+float64(r.Y+qr.QuietZone)*module,
			float64(r.W)*module, float64(r.H)*module, "F")
	}
	f.SetXY(x0+qrSide+8, y)
	f.MultiCell(235-qrSide-8, 12, inv.PaymentLink, "", "L", false)
	f.LinkString(x0, y, qrSide, qrSide, inv.PaymentLink)
	f.SetY(y + qrSide + 12)
	for _, t := range [][2]string{{lb.notes, inv.Notes}, {lb.terms, inv.Terms}} {
		f.SetFont("dejavu", "B", 8.5)
		f.CellFormat(0, 12, t[0], "", 1, "L", false, 0, "")
		f.SetFont("dejavu", "", 8.5)
		f.MultiCell(0, 12, t[1], "", "L", false)
	}
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func BenchmarkBaselineChromium(b *testing.B) {
	if _, err := os.Stat(chromiumPath); err != nil {
		b.Skipf("chromium is not installed at %s (apt-get install chromium); skipping", chromiumPath)
	}
	html, err := invoiceHTML(sampleDoc(b, 6))
	if err != nil {
		b.Fatal(err)
	}
	ctx := startChromium(b)
	print := func() []byte {
		var pdf []byte
		err := chromedp.Do(ctx,
			chromedp.Navigate("about:blank"),
			chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
				if err != nil {
					return err
				}
				if _, err := chromedp.Call(ctx, page.SetDocumentContent, page.SetDocumentContentParams{
					FrameID: tree.FrameTree.Frame.ID, HTML: html,
				}); err != nil {
					return err
				}
				yes := true
				res, err := chromedp.Call(ctx, page.PrintToPDF, page.PrintToPDFParams{
					PrintBackground: &yes, PaperWidth: 8.27, PaperHeight: 11.69, PreferCSSPageSize: &yes,
				})
				pdf = res.Data
				return err
			}),
		)
		if err != nil {
			b.Fatal(err)
		}
		return pdf
	}
	print() // the browser is warm from here on, as a long-running service keeps it
	var size int
	for b.Loop() {
		size = len(print())
	}
	b.ReportMetric(float64(size), "pdf-bytes")
}

// startChromium launches Debian's Chromium headless with a fresh profile
// and returns a browser tab that lives until the benchmark ends.
func startChromium(b *testing.B) context.Context {
	b.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(b.TempDir()),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	b.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		b.Skipf("chromium did not start: %v", err)
	}
	return ctx
}

// invoiceHTML is doc as the HTML page an HTML-to-PDF pipeline prints: the
// same sections and formatting, the QR code as inline SVG.
func invoiceHTML(doc Document) (string, error) {
	inv, lang := doc.Invoice, language(doc)
	code, err := qr.Encode(inv.PaymentLink)
	if err != nil {
		return "", err
	}
	var svg strings.Builder
	n := code.Size() + 2*qr.QuietZone
	fmt.Fprintf(&svg, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="84pt" height="84pt">`, n, n)
	for _, r := range code.Rects() {
		fmt.Fprintf(&svg, `<rect x="%d" y="%d" width="%d" height="%d"/>`, r.X+qr.QuietZone, r.Y+qr.QuietZone, r.W, r.H)
	}
	svg.WriteString("</svg>")
	data := struct {
		Doc   Document
		Inv   *invoice.Invoice
		L     map[string]string
		Lang  string
		IBAN  string
		QR    template.HTML
		Money func(string) string
		Amt   func(string) string
		Num   func(string) string
		Pct   func(string) string
		Date  func(string) string
	}{
		Doc: doc, Inv: inv, L: labelMap(labelsFor(lang)), Lang: lang, IBAN: groupIBAN(doc.Bank.IBAN),
		QR:    template.HTML(svg.String()),
		Money: func(s string) string { return locale.Money(s, inv.Currency, lang) },
		Amt:   func(s string) string { return locale.Amount(s, inv.Currency, lang) },
		Num:   func(s string) string { return locale.Number(s, lang) },
		Pct:   func(s string) string { return locale.Percent(s, lang) },
		Date:  func(s string) string { return locale.Date(s, lang) },
	}
	var out strings.Builder
	if err := htmlInvoice.Execute(&out, data); err != nil {
		return "", err
	}
	return out.String(), nil
}

// labelMap gives the template the labels it prints.
func labelMap(lb labels) map[string]string {
	return map[string]string{
		"title": lb.title, "number": lb.number, "issueDate": lb.issueDate, "dueDate": lb.dueDate,
		"reference": lb.reference, "billTo": lb.billTo, "vatID": lb.vatID, "regNo": lb.regNo,
		"description": lb.description, "quantity": lb.quantity, "unit": lb.unit, "unitPrice": lb.unitPrice,
		"discount": lb.discount, "vat": lb.vat, "amount": lb.amount, "vatRate": lb.vatRate,
		"taxBase": lb.taxBase, "vatAmount": lb.vatAmount, "subtotal": lb.subtotal, "vatTotal": lb.vatTotal,
		"total": lb.total, "paid": lb.paid, "amountDue": lb.amountDue, "notes": lb.notes, "terms": lb.terms,
		"paymentDetails": lb.paymentDetails, "iban": lb.iban, "bic": lb.bic, "bank": lb.bank,
		"holder": lb.holder, "payOnline": lb.payOnline, "scanToPay": lb.scanToPay,
	}
}

// htmlInvoice is the baseline's page, styled like Render's layout.
var htmlInvoice = template.Must(template.New("invoice").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.L.title}} {{.Inv.Number}}</title>
<style>
@page { size: A4; margin: 15mm }
body { font: 8.5pt "DejaVu Sans", sans-serif; color: #1F2933; margin: 0 }
.row { display: flex; justify-content: space-between; margin-bottom: 18pt }
h1 { color: #1D4E89; font-size: 20pt; margin: 0; text-align: right }
.seller b { font-size: 13pt } .muted { color: #616E7C }
.due { background: #F3F5F7; border-left: 2.5pt solid #1D4E89; padding: 10pt; width: 195pt; text-align: right }
.due .amt { font-size: 16pt; font-weight: bold; color: #1D4E89 }
table { border-collapse: collapse; width: 100% }
th { background: #F3F5F7; color: #1D4E89; font-size: 7.5pt; text-align: right; padding: 4pt 5pt; border-bottom: .8pt solid #1D4E89 }
td { padding: 4pt 5pt; text-align: right; border-bottom: .5pt solid #E8EBEF; vertical-align: top }
th:first-child, td:first-child { text-align: left }
.totals td { border: 0 } .total td { font-weight: bold; border-top: .8pt solid #1F2933 }
footer { position: fixed; bottom: 0; width: 100%; font-size: 7.5pt; color: #616E7C; border-top: .5pt solid #D9DEE4 }
</style></head><body>
<div class="row">
 <div class="seller"><b>{{.Doc.Seller.Name}}</b><div class="muted">{{.Doc.Seller.Address.Line1}}<br>
 {{.Doc.Seller.Address.PostalCode}} {{.Doc.Seller.Address.City}}, {{.Doc.Seller.Address.Country}}<br>
 {{.L.vatID}}: {{.Doc.Seller.VATID}}<br>{{.L.regNo}}: {{.Doc.Seller.RegistrationNumber}}<br>
 {{.Doc.Seller.Email}} · {{.Doc.Seller.Phone}}<br>{{.Doc.Seller.Website}}</div></div>
 <div><h1>{{.L.title}}</h1><table>
 <tr><td class="muted">{{.L.number}}</td><td><b>{{.Inv.Number}}</b></td></tr>
 <tr><td class="muted">{{.L.issueDate}}</td><td><b>{{call .Date .Inv.IssueDate}}</b></td></tr>
 <tr><td class="muted">{{.L.dueDate}}</td><td><b>{{call .Date .Inv.DueDate}}</b></td></tr>
 <tr><td class="muted">{{.L.reference}}</td><td><b>{{.Inv.Reference}}</b></td></tr></table></div>
</div>
<div class="row">
 <div><div class="muted"><b>{{.L.billTo}}</b></div><b>{{.Inv.Customer.Name}}</b><br>{{.Inv.Customer.Address.Line1}}<br>
 {{.Inv.Customer.Address.PostalCode}} {{.Inv.Customer.Address.City}}, {{.Inv.Customer.Address.Country}}<br>
 {{.L.vatID}}: {{.Inv.Customer.VATID}}<br>{{.Inv.Customer.Email}}<br>{{.Inv.Customer.Phone}}</div>
 <div class="due"><div class="muted">{{.L.amountDue}}</div><div class="amt">{{call .Money .Inv.AmountDue}}</div>
 <div class="muted">{{call .Date .Inv.DueDate}}</div></div>
</div>
<table><tr><th>{{.L.description}}</th><th>{{.L.quantity}}</th><th>{{.L.unit}}</th><th>{{.L.unitPrice}} ({{.Inv.Currency}})</th>
<th>{{.L.discount}}</th><th>{{.L.vat}}</th><th>{{.L.amount}} ({{.Inv.Currency}})</th></tr>
{{range .Inv.Lines}}<tr><td>{{.Description}}</td><td>{{call $.Num .Quantity}}</td><td>{{.Unit}}</td><td>{{call $.Amt .UnitPrice}}</td>
<td>{{if .DiscountRate}}{{call $.Pct .DiscountRate}}<br>-{{call $.Amt .Discount}}{{end}}</td><td>{{call $.Pct .TaxRate}}</td><td>{{call $.Amt .Amount}}</td></tr>
{{end}}</table>
<div class="row" style="margin-top:12pt">
 <table style="width:260pt"><tr><th>{{.L.vatRate}}</th><th>{{.L.taxBase}}</th><th>{{.L.vatAmount}}</th></tr>
 {{range .Inv.Taxes}}<tr><td>{{call $.Pct .Rate}}</td><td>{{call $.Money .Base}}</td><td>{{call $.Money .Amount}}</td></tr>{{end}}</table>
 <table class="totals" style="width:235pt">
 <tr><td>{{.L.subtotal}}</td><td>{{call .Money .Inv.Subtotal}}</td></tr>
 <tr><td>{{.L.vatTotal}}</td><td>{{call .Money .Inv.TaxTotal}}</td></tr>
 <tr class="total"><td>{{.L.total}}</td><td>{{call .Money .Inv.Total}}</td></tr>
 <tr><td>{{.L.paid}}</td><td>-{{call .Money .Inv.AmountPaid}}</td></tr>
 <tr class="total"><td>{{.L.amountDue}}</td><td>{{call .Money .Inv.AmountDue}}</td></tr></table>
</div>
<div class="row">
 <div><b>{{.L.paymentDetails}}</b><table>
 <tr><td class="muted">{{.L.iban}}</td><td><b>{{.IBAN}}</b></td></tr>
 <tr><td class="muted">{{.L.bic}}</td><td><b>{{.Doc.Bank.BIC}}</b></td></tr>
 <tr><td class="muted">{{.L.bank}}</td><td><b>{{.Doc.Bank.BankName}}</b></td></tr>
 <tr><td class="muted">{{.L.holder}}</td><td><b>{{.Doc.Bank.Holder}}</b></td></tr></table></div>
 <div style="width:235pt"><b>{{.L.payOnline}}</b><div style="display:flex"><a href="{{.Inv.PaymentLink}}">{{.QR}}</a>
 <div><span class="muted">{{.L.scanToPay}}</span><br><a href="{{.Inv.PaymentLink}}">{{.Inv.PaymentLink}}</a></div></div></div>
</div>
<div class="row"><div><b>{{.L.notes}}</b><br>{{.Inv.Notes}}</div><div style="width:235pt"><b>{{.L.terms}}</b><br>{{.Inv.Terms}}</div></div>
<footer>{{.L.title}} {{.Inv.Number}} · {{.Doc.Seller.Name}}</footer>
</body></html>`))
