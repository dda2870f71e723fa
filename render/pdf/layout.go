package pdf

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/signintech/gopdf"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/money"
	"github.com/invoiced/invoiced/render/locale"
	"github.com/invoiced/invoiced/render/qr"
)

// The header's columns, where the totals and the payment link start (a
// little left of the right column, for the longer labels), and the space
// between sections.
const (
	leftColW   = 270.0
	rightColW  = 215.0
	totalsW    = 235.0
	sectionGap = 16.0
)

// The logo's box, top left on the first page.
const (
	logoMaxW = 180.0
	logoMaxH = 52.0
)

// qrSide is the printed size of the payment QR code, quiet zone included:
// about 2.8 cm, which phones read from arm's length.
const qrSide = 84.0

// epcSide is the printed size of the EPC QR code, quiet zone included:
// 30 mm.
const epcSide = 30 * mm

// mm is a millimetre in points.
const mm = 72 / 25.4

// Table cell padding.
const (
	cellPadX = 5.0
	cellPadY = 4.0
)

// document draws the whole invoice, top to bottom.
func (w *writer) document() {
	w.newPage()
	w.header()
	w.parties()
	w.lineTable()
	w.summary()
	w.vatNotes()
	w.payment()
	w.remarks()
	w.swissPaymentPart()
}

// rightColX is where the header's right column starts.
func (w *writer) rightColX() float64 { return w.right - rightColW }

// totalsX is where the totals and the payment link start.
func (w *writer) totalsX() float64 { return w.right - totalsW }

// money prints an amount with its currency, for the reader's language.
func (w *writer) money(amount string) string { return locale.Money(amount, w.cur.Code, w.lang) }

// amount prints an amount without its currency, for table columns.
func (w *writer) amount(amount string) string { return locale.Amount(amount, w.cur.Code, w.lang) }

// date prints an ISO date for the reader's language.
func (w *writer) date(iso string) string { return locale.Date(iso, w.lang) }

// header draws the logo and the seller on the left and the title with the
// invoice's number, dates and reference on the right.
func (w *writer) header() {
	h := w.logo(w.left, w.y)
	if h > 0 {
		h += 10
	}
	h += w.sellerBlock(w.left, w.y+h, leftColW)
	w.y += max(h, w.titleBlock(w.y)) + 18
}

// logo draws the document's logo scaled into its box and returns its
// height. A logo that cannot be read is left out with a warning.
func (w *writer) logo(x, y float64) float64 {
	if len(w.doc.Logo) == 0 || w.err != nil {
		return 0
	}
	l, err := w.r.logos.get(w.doc.Logo)
	if err != nil {
		w.r.logger.Warn("pdf: logo left out", zap.String("invoice_id", w.inv.ID), zap.Error(err))
		return 0
	}
	scale := min(logoMaxW/float64(l.w), logoMaxH/float64(l.h))
	width, height := float64(l.w)*scale, float64(l.h)*scale
	holder := imageHolder{id: l.id, Reader: bytes.NewReader(l.data)}
	if err := w.pdf.ImageByHolderWithOptions(holder, gopdf.ImageOptions{
		X: x, Y: y, Rect: &gopdf.Rect{W: width, H: height},
	}); err != nil {
		w.r.logger.Warn("pdf: logo left out", zap.String("invoice_id", w.inv.ID), zap.Error(err))
		return 0
	}
	return height
}

// sellerBlock draws the seller's name, address, identifiers and contact
// and returns their height.
func (w *writer) sellerBlock(x, y, width float64) float64 {
	s := w.doc.Seller
	h := w.para(s.Name, styleSeller, x, y, width, alignLeft)
	if h > 0 {
		h += 3
	}
	details := addressLines(s.Address)
	details = appendLabeled(details, w.lb.vatID, s.VATID)
	details = appendLabeled(details, w.lb.regNo, s.RegistrationNumber)
	details = appendNonEmpty(details, joinNonEmpty(" · ", s.Email, s.Phone), s.Website)
	for _, d := range details {
		h += w.para(d, styleMuted, x, y+h, width, alignLeft)
	}
	return h
}

// titleBlock draws the title with the status badge, and the number,
// dates and reference in the right column, and returns their height.
func (w *writer) titleBlock(y float64) float64 {
	x := w.rightColX()
	// A long title ("NOTĂ DE CREDITARE") is set smaller to stay on one
	// line.
	sp := w.spec(styleTitle)
	if tw := w.measure(w.clean(w.lb.title), sp); tw > rightColW {
		sp.size *= rightColW / tw
	}
	title := w.clean(w.lb.title)
	w.textSpec(title, sp, x, y, rightColW, alignRight)
	if word, _, strong := w.status(); word != "" {
		w.badge(word, strong, w.right-w.measure(title, sp)-8, y+sp.baseline()-0.36*sp.size)
	}
	h := w.lineHeight(styleTitle) + 8
	rows := [][2]string{
		{w.lb.number, w.inv.Number},
		{w.lb.issueDate, w.date(w.inv.IssueDate)},
		{w.lb.dueDate, w.date(w.inv.DueDate)},
		{w.lb.reference, w.inv.Reference},
	}
	rows = append(rows, w.referenceRows()...)
	labelW := 0.0
	for _, r := range rows {
		labelW = max(labelW, w.measure(w.clean(r[0]), w.spec(styleMuted)))
	}
	labelW = min(labelW, rightColW/2)
	cols := []column{
		{x: x - cellPadX, width: labelW + 2*cellPadX, a: alignLeft},
		{x: x + labelW + cellPadX, width: rightColW - labelW, a: alignRight},
	}
	for _, r := range rows {
		if strings.TrimSpace(r[1]) == "" {
			continue
		}
		row := tableRow{w.cell(r[0], styleMuted, cols[0].width), w.cell(r[1], styleStrong, cols[1].width)}
		w.drawCells(row, cols, y+h, 0)
		h += row.height(0) + 1
	}
	if c := w.inv.Corrects; c != nil {
		line := fmt.Sprintf(w.lb.corrects, c.Number, w.date(c.IssueDate))
		h += 3 + w.para(line, styleStrong, x, y+h+3, rightColW, alignRight)
	}
	return h
}

// badge draws word in a small box tinted with c, its right edge at x and
// its vertical middle at mid.
func (w *writer) badge(word string, c rgb, x, mid float64) {
	sp := spec{bold: true, size: 8, color: c}
	word = w.clean(word)
	width := w.measure(word, sp) + 10
	height := sp.lineHeight() + 2
	w.fill(x-width, mid-height/2, width, height, tint(c))
	w.textSpec(word, sp, x-width, mid-sp.lineHeight()/2, width, alignCenter)
}

// tint mixes c with seven parts of white, for a badge's background.
func tint(c rgb) rgb {
	r, g, b := c.split()
	mix := func(v uint8) rgb { return rgb((int(v) + 7*255) / 8) }
	return mix(r)<<16 | mix(g)<<8 | mix(b)
}

// parties draws the customer on the left and the amount due on the right.
func (w *writer) parties() {
	h := max(w.customerBlock(w.left, w.y, leftColW), w.dueBox(w.rightColX(), w.y, rightColW))
	w.y += h + 20
}

// customerBlock draws who the invoice is billed to and returns its height.
func (w *writer) customerBlock(x, y, width float64) float64 {
	c := w.inv.Customer
	h := w.para(strings.ToUpper(w.lb.billTo), styleLabel, x, y, width, alignLeft) + 2
	h += w.para(c.Name, styleCustomer, x, y+h, width, alignLeft) + 1
	details := addressLines(c.Address)
	details = appendLabeled(details, w.lb.vatID, c.VATID)
	details = appendNonEmpty(details, c.Email, c.Phone)
	for _, d := range details {
		h += w.para(d, styleBody, x, y+h, width, alignLeft)
	}
	return h
}

// dueBox draws the amount due and the due date on a pale panel with an
// accent edge, and returns its height.
func (w *writer) dueBox(x, y, width float64) float64 {
	const pad = 10.0
	inner := width - 2*pad
	label := w.wrap(w.lb.amountDue, styleMuted, inner)
	shown := w.inv.AmountDue
	if w.inv.IsCreditNote() {
		shown = w.inv.Total
	}
	amount, amountSpec := w.fitLine(w.money(shown), w.spec(styleBigAmount), inner)
	var due []string
	if w.inv.DueDate != "" && !w.inv.IsCreditNote() {
		due = w.wrap(fmt.Sprintf(w.lb.dueOn, w.date(w.inv.DueDate)), styleSmall, inner)
	}
	amountH := w.lineHeight(styleBigAmount)
	height := 2*pad + w.linesHeight(label, styleMuted) + 2 + amountH + w.linesHeight(due, styleSmall)
	w.fill(x, y, width, height, panel)
	w.fill(x, y, 2.5, height, w.accent)
	h := pad
	h += w.lines(label, styleMuted, x+pad, y+h, inner, alignRight) + 2
	full := w.spec(styleBigAmount)
	w.textSpec(amount, amountSpec, x+pad, y+h+full.baseline()-amountSpec.baseline(), inner, alignRight)
	h += amountH
	w.lines(due, styleSmall, x+pad, y+h, inner, alignRight)
	return height
}

// fitLine returns s cleaned, on one line, and the spec that sets it no
// wider than width: sp, or sp set smaller. It is for amounts, which never
// break.
func (w *writer) fitLine(s string, sp spec, width float64) (string, spec) {
	s = strings.TrimSpace(w.clean(s))
	if tw := w.measure(s, sp); tw > width && tw > 0 {
		sp.size *= width / tw
	}
	return s, sp
}

// totalLine is one line of the totals block.
type totalLine struct {
	label, value string
	st           style
	// ruleAbove separates the total; band highlights the amount due.
	ruleAbove, band bool
}

// summary draws the VAT breakdown on the left and the totals on the
// right. The block is never split: it moves to a new page when it does
// not fit.
func (w *writer) summary() {
	vatCols := w.vatColumns()
	vatHead := w.headRow(vatCols, w.lb.vatRate, w.lb.taxBase, w.lb.vatAmount)
	var vatRows []tableRow
	for _, t := range w.inv.Taxes {
		row := tableRow(w.cellBlocks.take(3))
		row[0] = w.cell(w.vatLabel(t), styleBody, vatCols[0].width)
		row[1] = w.numberCell(w.money(t.Base), styleBody, vatCols[1].width)
		row[2] = w.numberCell(w.money(t.Amount), styleBody, vatCols[2].width)
		vatRows = append(vatRows, row)
	}
	lines := w.totalLines()
	totalCols := w.totalColumns(lines)
	totalRows := make([]tableRow, len(lines))
	for i, t := range lines {
		row := tableRow(w.cellBlocks.take(2))
		row[0] = w.cell(t.label, t.st, totalCols[0].width)
		row[1] = w.numberCell(t.value, t.st, totalCols[1].width)
		totalRows[i] = row
	}

	vatH := 0.0
	if len(vatRows) > 0 {
		vatH = vatHead.height(cellPadY)
		for _, r := range vatRows {
			vatH += r.height(cellPadY)
		}
	}
	totalH := 0.0
	for _, r := range totalRows {
		totalH += r.height(cellPadY)
	}
	w.ensure(max(vatH, totalH))

	start := w.y
	if len(vatRows) > 0 {
		w.drawHead(vatHead, vatCols)
		for _, r := range vatRows {
			w.drawBodyRow(r, vatCols)
		}
	}
	w.y = start
	w.drawTotals(lines, totalRows, totalCols)
	w.y = start + max(vatH, totalH) + sectionGap
}

// vatColumns lays out the VAT breakdown left of the totals: the rate, and
// the taxable amount and the VAT as wide as their widest amounts, in the
// room the totals leave; amounts wider than that are set smaller.
func (w *writer) vatColumns() []column {
	// The first column names the rate or the category ("Reverse charge").
	widths := []float64{105, 95, 95}
	for _, t := range w.inv.Taxes {
		// A word of the label ("intracommunautaire") never breaks.
		for word := range strings.FieldsSeq(w.vatLabel(t)) {
			widths[0] = max(widths[0], w.numberWidth(word, styleBody))
		}
		widths[1] = max(widths[1], w.numberWidth(w.money(t.Base), styleBody))
		widths[2] = max(widths[2], w.numberWidth(w.money(t.Amount), styleBody))
	}
	if room, sum := w.totalsX()-2*cellPadX-w.left, widths[0]+widths[1]+widths[2]; sum > room {
		// The label keeps its words whole; the amounts take what is
		// left, set smaller where they must (numberCell).
		label := min(widths[0], 0.6*room)
		scale := (room - label) / (widths[1] + widths[2])
		widths[0], widths[1], widths[2] = label, widths[1]*scale, widths[2]*scale
	}
	return []column{
		{x: w.left, width: widths[0], a: alignLeft},
		{x: w.left + widths[0], width: widths[1], a: alignRight},
		{x: w.left + widths[0] + widths[1], width: widths[2], a: alignRight},
	}
}

// totalColumns lays out the totals: the amounts' column as wide as the
// widest of them, and the labels in what is left, at least minTotalLabelW.
func (w *writer) totalColumns(lines []totalLine) []column {
	const minTotalLabelW = 100.0
	x := w.totalsX()
	valueW := totalsW - 130
	for _, t := range lines {
		valueW = max(valueW, w.numberWidth(t.value, t.st))
	}
	valueW = min(valueW, totalsW-minTotalLabelW)
	return []column{
		{x: x, width: totalsW - valueW, a: alignLeft},
		{x: w.right - valueW, width: valueW, a: alignRight},
	}
}

// totalLines lists the totals from the lines' sum down to the amount due.
// With discounts, the sum before them comes first, so that the column adds
// up from top to bottom.
func (w *writer) totalLines() []totalLine {
	inv := w.inv
	var out []totalLine
	if !isZero(inv.DiscountTotal) {
		out = append(out,
			totalLine{label: w.lb.grossTotal, value: w.money(w.grossTotal()), st: styleBody},
			totalLine{label: w.lb.discounts, value: w.money(negate(inv.DiscountTotal)), st: styleBody},
		)
	}
	out = append(out, w.netLines()...)
	out = append(out,
		totalLine{label: w.lb.vatTotal, value: w.money(inv.TaxTotal), st: styleBody},
		totalLine{label: w.lb.total, value: w.money(inv.Total), st: styleTotal, ruleAbove: true},
	)
	if inv.IsCreditNote() {
		// The total is what is credited; nothing is paid or due.
		out[len(out)-1] = totalLine{label: w.lb.amountDue, value: w.money(inv.Total), st: styleDue, band: true, ruleAbove: true}
		return out
	}
	if !isZero(inv.AmountPaid) {
		out = append(out, totalLine{label: w.lb.paid, value: w.money(negate(inv.AmountPaid)), st: styleBody})
	}
	if inv.AmountCredited != "" && !isZero(inv.AmountCredited) {
		out = append(out, totalLine{label: w.lb.credited, value: w.money(negate(inv.AmountCredited)), st: styleBody})
	}
	return append(out, totalLine{label: w.lb.amountDue, value: w.money(inv.AmountDue), st: styleDue, band: true})
}

// drawTotals draws the totals block from w.y down.
func (w *writer) drawTotals(lines []totalLine, rows []tableRow, cols []column) {
	x1, x2 := cols[0].x, cols[1].x+cols[1].width
	for i, r := range rows {
		h := r.height(cellPadY)
		if lines[i].band {
			w.fill(x1, w.y, x2-x1, h, panel)
		}
		if lines[i].ruleAbove {
			w.hline(x1, x2, w.y, 0.8, ink)
		}
		w.drawCells(r, cols, w.y, cellPadY)
		w.y += h
	}
}

// grossTotal is the sum of the lines before their discounts.
func (w *writer) grossTotal() string {
	sub, err := money.ParseAmount(w.inv.Subtotal, w.cur)
	if err != nil {
		w.fail(fmt.Errorf("pdf: subtotal: %w", err))
		return ""
	}
	disc, err := money.ParseAmount(w.inv.DiscountTotal, w.cur)
	if err != nil {
		w.fail(fmt.Errorf("pdf: discountTotal: %w", err))
		return ""
	}
	return money.Format(sub+disc, w.cur.Digits)
}

// remarks draws the notes and the payment terms: side by side, in the
// columns of the payment block above, when both are short enough for one
// page, and otherwise one after the other across the full width, where
// long text continues on the next page.
func (w *writer) remarks() {
	notes, okNotes := w.textBlock(w.lb.notes, w.inv.Notes, leftColW)
	terms, okTerms := w.textBlock(w.lb.terms, w.inv.Terms, totalsW)
	if okNotes && okTerms && max(notes.height, terms.height) <= w.bottom-w.continuationTop() {
		w.ensure(max(notes.height, terms.height))
		notes.draw(w.left, w.y)
		terms.draw(w.totalsX(), w.y)
		w.y += max(notes.height, terms.height) + sectionGap
		return
	}
	w.textSection(w.lb.notes, w.inv.Notes)
	w.textSection(w.lb.terms, w.inv.Terms)
}

// textBlock lays out a titled block of free text width wide, and false
// when body is empty.
func (w *writer) textBlock(title, body string, width float64) (block, bool) {
	lines := w.wrap(body, styleBody, width)
	if len(lines) == 0 {
		return block{}, false
	}
	head := w.wrap(title, styleStrong, width)
	h := w.linesHeight(head, styleStrong) + 2 + w.linesHeight(lines, styleBody)
	return block{height: h, draw: func(x, y float64) {
		y += w.lines(head, styleStrong, x, y, width, alignLeft) + 2
		w.lines(lines, styleBody, x, y, width, alignLeft)
	}}, true
}

// textSection draws a titled block of free text across the page. Long
// text continues on the next page.
func (w *writer) textSection(title, body string) {
	lines := w.wrap(body, styleBody, w.contentW)
	if len(lines) == 0 {
		return
	}
	lh := w.lineHeight(styleBody)
	w.ensure(w.lineHeight(styleStrong) + 2 + lh)
	w.y += w.para(title, styleStrong, w.left, w.y, w.contentW, alignLeft) + 2
	for _, l := range lines {
		w.ensure(lh)
		w.text(l, styleBody, w.left, w.y, w.contentW, alignLeft)
		w.y += lh
	}
	w.y += sectionGap
}

// block is laid out but not drawn yet: its height is known, so it can be
// kept on one page.
type block struct {
	height float64
	draw   func(x, y float64)
}

// payment draws how to pay: the bank details on the left and the payment
// link with its QR code on the right, or whichever of them the invoice
// has on the left. The block is kept on one page.
func (w *writer) payment() {
	if w.inv.IsCreditNote() {
		// The seller owes the credit: nothing for the customer to pay.
		return
	}
	var blocks []block
	if b, ok := w.bankBlock(leftColW); ok {
		blocks = append(blocks, b)
	}
	linkW := leftColW
	if len(blocks) > 0 {
		linkW = totalsW
	}
	if b, ok := w.linkBlock(linkW); ok {
		blocks = append(blocks, b)
	}
	if len(blocks) == 0 {
		return
	}
	h := 0.0
	for _, b := range blocks {
		h = max(h, b.height)
	}
	w.ensure(h)
	for i, b := range blocks {
		x := w.left
		if i > 0 {
			x = w.totalsX()
		}
		b.draw(x, w.y)
	}
	w.y += h + sectionGap
}

// bankBlock lays out where to pay by transfer, when the seller has an IBAN:
// the IBAN, BIC, bank and holder, each label beside its value in two
// aligned columns. When the invoice takes an EPC QR code, the code goes on
// the left with its caption under it, and the details beside it, each
// label above its value, so that the block is little taller than the
// code. The IBAN never breaks: a column too narrow for it sets it smaller.
func (w *writer) bankBlock(width float64) (block, bool) {
	bank := w.doc.Bank
	if strings.TrimSpace(bank.IBAN) == "" {
		return block{}, false
	}
	const maxLabelW = 90.0
	details := [][2]string{{w.lb.iban, groupIBAN(bank.IBAN)}}
	for _, r := range [][2]string{
		{w.lb.bic, bank.BIC},
		{w.lb.bank, bank.BankName},
		{w.lb.holder, bank.Holder},
	} {
		if strings.TrimSpace(r[1]) != "" {
			details = append(details, r)
		}
	}
	code, _ := w.epcCode()
	// rowsX is where the details start: right of the code, whose quiet
	// zone reaches into the page margin so that its modules line up with
	// the text above.
	var quiet, rowsX, labelW float64
	var caption []string
	if code != nil {
		quiet = qr.QuietZone * epcSide / float64(code.Size()+2*qr.QuietZone)
		rowsX = epcSide - quiet + 8
		caption = w.wrap(w.lb.scanToTransfer, styleSmall, epcSide-quiet)
	} else {
		for _, d := range details {
			labelW = max(labelW, w.measure(w.clean(d[0]), w.spec(styleMuted))+8)
		}
		labelW = min(labelW, maxLabelW)
	}
	cols := func(x float64) []column {
		return []column{
			{x: x - cellPadX, width: labelW + 2*cellPadX, a: alignLeft},
			{x: x + labelW - cellPadX, width: width - rowsX - labelW + 2*cellPadX, a: alignLeft},
		}
	}
	grid := cols(0)
	rows := make([]tableRow, len(details))
	rowsH := 0.0
	for i, d := range details {
		value := w.cell(d[1], styleStrong, grid[1].width)
		if i == 0 {
			value = w.numberCell(d[1], styleStrong, grid[1].width)
		}
		if code != nil {
			// The label above the value, in one column.
			label := w.cell(d[0], styleSmall, grid[1].width)
			both := w.spanBlocks.take(len(label) + len(value))
			copy(both[copy(both, label):], value)
			rows[i] = tableRow(w.cellBlocks.take(1))
			rows[i][0] = both
		} else {
			rows[i] = tableRow(w.cellBlocks.take(2))
			rows[i][0], rows[i][1] = w.cell(d[0], styleMuted, grid[0].width), value
		}
		rowsH += rows[i].height(1)
	}
	bodyH := rowsH
	if code != nil {
		bodyH = max(rowsH, epcSide-quiet/2+w.linesHeight(caption, styleSmall))
	}
	title := w.wrap(w.lb.paymentDetails, styleStrong, width)
	h := w.linesHeight(title, styleStrong) + 4 + bodyH
	return block{height: h, draw: func(x, y float64) {
		y += w.lines(title, styleStrong, x, y, width, alignLeft)
		w.hline(x, x+width, y+1, 0.5, ruleColor)
		y += 4
		if code != nil {
			w.qrCode(code, x-quiet, y, epcSide)
			w.lines(caption, styleSmall, x, y+epcSide-quiet/2, epcSide-quiet, alignCenter)
		}
		rowCols := cols(x + rowsX)
		if code != nil {
			rowCols = rowCols[1:]
		}
		for _, r := range rows {
			w.drawCells(r, rowCols, y, 1)
			y += r.height(1)
		}
	}}, true
}

// linkBlock lays out the invoice's payment link: a QR code of it with its
// caption under it, and beside it the link. A web address is clickable
// (the code too) and, when it does not fit in two lines broken after a
// slash, is printed short, as its host and "/…", rather than broken
// inside its query; the whole address stays in the link and the code. A
// link too long for a QR code is printed whole, without one.
func (w *writer) linkBlock(width float64) (block, bool) {
	link := strings.TrimSpace(w.inv.PaymentLink)
	if link == "" || len(w.inv.CreditNotes) > 0 && !w.inv.Payable() {
		// A link of an invoice credited in full would ask for money
		// that is no longer owed.
		return block{}, false
	}
	code, err := qr.Encode(link)
	if err != nil {
		w.r.logger.Warn("pdf: payment link printed without a QR code", zap.String("invoice_id", w.inv.ID), zap.Error(err))
	}
	textX := 0.0
	var caption []string
	if code != nil {
		textX = qrSide + 8
		caption = w.wrap(w.lb.scanToPay, styleSmall, qrSide)
	}
	title := w.wrap(w.lb.payOnline, styleStrong, width)
	hint := w.wrap(w.lb.openLink, styleSmall, width-textX)
	if code == nil {
		hint = nil
	}
	var lines []string
	if code != nil && isWebURL(link) {
		lines = w.linkLines(link, w.spec(styleLink), width-textX)
	} else {
		lines = w.wrap(link, styleLink, width-textX)
	}
	textH := w.linesHeight(hint, styleSmall) + 2 + w.linesHeight(lines, styleLink)
	bodyH := textH
	if code != nil {
		bodyH = max(textH, qrSide+w.linesHeight(caption, styleSmall))
	}
	h := w.linesHeight(title, styleStrong) + 4 + bodyH
	return block{height: h, draw: func(x, y float64) {
		y += w.lines(title, styleStrong, x, y, width, alignLeft)
		w.hline(x, x+width, y+1, 0.5, ruleColor)
		y += 4
		ty := y
		if code != nil {
			w.qrCode(code, x, y, qrSide)
			w.link(link, x, y, qrSide, qrSide)
			quiet := qr.QuietZone * qrSide / float64(code.Size()+2*qr.QuietZone)
			w.lines(caption, styleSmall, x, y+qrSide-quiet/2, qrSide, alignCenter)
			ty = y + w.lines(hint, styleSmall, x+textX, y+4, width-textX, alignLeft) + 6
		}
		lh := w.lineHeight(styleLink)
		for _, l := range lines {
			w.text(l, styleLink, x+textX, ty, width-textX, alignLeft)
			w.link(link, x+textX, ty, w.measure(l, w.spec(styleLink)), lh)
			ty += lh
		}
	}}, true
}

// linkLines prints the web address link in at most two lines no wider
// than width, broken only after a slash before its query; when it does
// not fit so, it is printed short, as its host and "/…", or the end of
// its host that fits.
func (w *writer) linkLines(link string, sp spec, width float64) []string {
	s := w.clean(link)
	if w.measure(s, sp) <= width {
		return []string{s}
	}
	path, query, _ := strings.Cut(s, "?")
	if query == "" {
		// Break after the last slash that leaves a first line fitting.
		for i := len(path) - 1; i > 0; i-- {
			if path[i-1] != '/' {
				continue
			}
			first, second := path[:i], path[i:]
			if w.measure(first, sp) <= width && w.measure(second, sp) <= width {
				return []string{first, second}
			}
		}
	}
	u, err := url.Parse(link)
	if err != nil {
		return w.wrapSpec(s, sp, width)
	}
	// The host, or as much of its end as fits ("…stripe.com/…"): the
	// domain is what a reader recognizes.
	labels := strings.Split(w.clean(u.Host), ".")
	for i := range labels {
		short := strings.Join(labels[i:], ".") + "/…"
		if i > 0 {
			short = "…" + short
		}
		if i < len(labels)-1 && w.measure(short, sp) <= width {
			return []string{short}
		}
	}
	return []string{w.clean(w.lb.payOnline)}
}

// qrCode draws code as black modules in a side × side square whose top
// left corner is at x, y, with the quiet zone inside the square.
func (w *writer) qrCode(code *qr.Code, x, y, side float64) {
	if w.err != nil {
		return
	}
	module := side / float64(code.Size()+2*qr.QuietZone)
	w.pdf.SetFillColor(black.split())
	w.pdf.FillMask(x+qr.QuietZone*module, y+qr.QuietZone*module, module, code.Size(), code.Size(), code.AppendBits(nil))
}

// addressLines prints an address as its street lines and one line
// "postal code city, region, country".
func addressLines(a invoice.Address) []string {
	return appendNonEmpty(nil,
		a.Line1,
		a.Line2,
		joinNonEmpty(", ", joinNonEmpty(" ", a.PostalCode, a.City), a.Region, a.Country),
	)
}

// appendLabeled appends "label: value" when value is set.
func appendLabeled(lines []string, label, value string) []string {
	if strings.TrimSpace(value) == "" {
		return lines
	}
	return append(lines, label+": "+value)
}

// appendNonEmpty appends the values that are not blank.
func appendNonEmpty(lines []string, values ...string) []string {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			lines = append(lines, v)
		}
	}
	return lines
}

// joinNonEmpty joins the values that are not blank with sep.
func joinNonEmpty(sep string, values ...string) string {
	var room [8]string // on the stack for up to eight values
	return strings.Join(appendNonEmpty(room[:0], values...), sep)
}

// isZero reports whether a decimal string is empty or zero ("0.00").
func isZero(s string) bool {
	return strings.Trim(s, "0.-") == ""
}

// negate returns the negative of a positive decimal string.
func negate(s string) string {
	if isZero(s) || strings.HasPrefix(s, "-") {
		return strings.TrimPrefix(s, "-")
	}
	return "-" + s
}

// groupIBAN prints an IBAN in groups of four characters, its usual paper
// form.
func groupIBAN(iban string) string {
	compact := iban
	for i := 0; i < len(iban); i++ {
		// Spaces to drop, letters to upper-case or more than ASCII.
		if c := iban[i]; c <= ' ' || c >= 0x7F || ('a' <= c && c <= 'z') {
			compact = strings.ToUpper(strings.Join(strings.Fields(iban), ""))
			break
		}
	}
	var room [48]byte // an IBAN's 34 characters and their spaces
	b := room[:0]
	i := 0
	for _, r := range compact {
		if i > 0 && i%4 == 0 {
			b = append(b, ' ')
		}
		b = utf8.AppendRune(b, r)
		i++
	}
	return string(b)
}

// isWebURL reports whether s is an absolute http or https URL.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
