package pdf

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/money"
)

// The two header columns, where the totals and the payment link start
// (a little left of the right column, for the longer labels), and the
// space between sections.
const (
	leftColW   = 285.0
	rightColW  = 215.0
	rightColX  = right - rightColW
	totalsX    = rightColX - 20
	sectionGap = 18.0
)

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
	w.textSection(w.lb.notes, w.inv.Notes)
	w.textSection(w.lb.terms, w.inv.Terms)
	w.payment()
}

// header draws the seller on the left and the title with the invoice's
// number and dates on the right.
func (w *writer) header() {
	h := max(w.sellerBlock(left, w.y, leftColW), w.titleBlock(w.y))
	w.y += h + 22
}

// sellerBlock draws the seller's name, address and identifiers and
// returns their height.
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

// titleBlock draws the title, a badge on drafts, and the number, dates and
// reference in the right column, and returns their height.
func (w *writer) titleBlock(y float64) float64 {
	title := w.oneLine(w.lb.title, styleTitle, rightColW)
	w.text(title, styleTitle, rightColX, y, rightColW, alignRight)
	if w.inv.Status == invoice.StatusDraft {
		w.use(styleTitle)
		w.badge(w.lb.draft, right-w.measure(title)-8, y+styleTitle.baseline()-0.36*styleTitle.spec().size)
	}
	h := styleTitle.lineHeight() + 8
	rows := [][2]string{
		{w.lb.number, w.inv.Number},
		{w.lb.issueDate, w.inv.IssueDate},
		{w.lb.dueDate, w.inv.DueDate},
		{w.lb.reference, w.inv.Reference},
	}
	labelW := 0.0
	w.use(styleMuted)
	for _, r := range rows {
		labelW = max(labelW, w.measure(r[0]))
	}
	labelW = min(labelW, rightColW/2)
	cols := []column{
		{x: rightColX - cellPadX, width: labelW + 2*cellPadX, a: alignLeft},
		{x: rightColX + labelW + cellPadX, width: rightColW - labelW, a: alignRight},
	}
	for _, r := range rows {
		if strings.TrimSpace(r[1]) == "" {
			continue
		}
		row := tableRow{w.cell(r[0], styleMuted, cols[0].width), w.cell(r[1], styleStrong, cols[1].width)}
		w.drawCells(row, cols, y+h, 0)
		h += row.height(0) + 1
	}
	return h
}

// badge draws word in a small pale box whose right edge is at x and whose
// vertical middle is at mid.
func (w *writer) badge(word string, x, mid float64) {
	st := styleBadge
	word = w.oneLine(word, st, rightColW)
	width := w.measure(word) + 10
	height := st.lineHeight() + 2
	w.fill(x-width, mid-height/2, width, height, 0xFEF0C7)
	w.text(word, st, x-width, mid-st.lineHeight()/2, width, alignCenter)
}

// parties draws the customer on the left and the amount due on the right.
func (w *writer) parties() {
	h := max(w.customerBlock(left, w.y, leftColW), w.dueBox(rightColX, w.y, rightColW))
	w.y += h + 22
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

// dueBox draws the amount due and the due date on a pale panel and
// returns its height.
func (w *writer) dueBox(x, y, width float64) float64 {
	const pad = 10.0
	inner := width - 2*pad
	label := w.wrap(w.lb.amountDue, styleMuted, inner)
	amount := w.wrap(w.amount(w.inv.AmountDue), styleBigAmount, inner)
	var due []string
	if w.inv.DueDate != "" {
		due = w.wrap(w.lb.dueDate+": "+w.inv.DueDate, styleSmall, inner)
	}
	height := 2*pad + linesHeight(label, styleMuted) + 2 + linesHeight(amount, styleBigAmount) + linesHeight(due, styleSmall)
	w.fill(x, y, width, height, panel)
	h := pad
	h += w.lines(label, styleMuted, x+pad, y+h, inner, alignRight) + 2
	h += w.lines(amount, styleBigAmount, x+pad, y+h, inner, alignRight)
	w.lines(due, styleSmall, x+pad, y+h, inner, alignRight)
	return height
}

// column is one column of a table: where it starts, how wide it is and
// how its text is aligned. The padding is inside the width.
type column struct {
	x, width float64
	a        align
}

// span is one printed line of a cell.
type span struct {
	text string
	st   style
}

// tableRow holds the lines of each of its cells.
type tableRow [][]span

// height is the height of the row's tallest cell plus padY above and below.
func (r tableRow) height(padY float64) float64 {
	h := 0.0
	for _, c := range r {
		h = max(h, spansHeight(c))
	}
	return h + 2*padY
}

// split returns the first n lines of every cell, and the rest.
func (r tableRow) split(n int) (first, rest tableRow) {
	for _, c := range r {
		k := min(n, len(c))
		first = append(first, c[:k])
		rest = append(rest, c[k:])
	}
	return first, rest
}

// maxLines is the number of lines of the row's longest cell.
func (r tableRow) maxLines() int {
	n := 0
	for _, c := range r {
		n = max(n, len(c))
	}
	return n
}

// heightOf is the height of the row's first n lines, padding included.
func (r tableRow) heightOf(n int) float64 {
	first, _ := r.split(n)
	return first.height(cellPadY)
}

// linesFitting is how many of the row's lines fit in height, padding
// included.
func (r tableRow) linesFitting(height float64) int {
	n := 0
	for n < r.maxLines() && r.heightOf(n+1) <= height {
		n++
	}
	return n
}

// spansHeight is the height of a cell's lines.
func spansHeight(spans []span) float64 {
	h := 0.0
	for _, s := range spans {
		h += s.st.lineHeight()
	}
	return h
}

// linesHeight is the height of lines in style st.
func linesHeight(lines []string, st style) float64 {
	return float64(len(lines)) * st.lineHeight()
}

// cell wraps s to fit a column of the given width, padding included.
func (w *writer) cell(s string, st style, width float64) []span {
	lines := w.wrap(s, st, width-2*cellPadX)
	spans := make([]span, len(lines))
	for i, l := range lines {
		spans[i] = span{l, st}
	}
	return spans
}

// drawCells draws the row's text with its top at y.
func (w *writer) drawCells(r tableRow, cols []column, y, padY float64) {
	for i, c := range r {
		col := cols[i]
		top := y + padY
		for _, s := range c {
			w.text(s.text, s.st, col.x+cellPadX, top, col.width-2*cellPadX, col.a)
			top += s.st.lineHeight()
		}
	}
}

// tableColumns are the columns of the line table: description, quantity,
// unit price, VAT rate and amount.
func tableColumns() []column {
	const desc, qty, price, vat = 230.0, 66.0, 80.0, 46.0
	x := left
	cols := make([]column, 0, 5)
	for _, c := range []column{
		{width: desc, a: alignLeft},
		{width: qty, a: alignRight},
		{width: price, a: alignRight},
		{width: vat, a: alignRight},
		{width: contentW - desc - qty - price - vat, a: alignRight},
	} {
		c.x = x
		x += c.width
		cols = append(cols, c)
	}
	return cols
}

// lineTable draws the invoice lines. Rows continue on new pages under a
// repeated header; a row taller than a whole page is split between pages.
func (w *writer) lineTable() {
	cols := tableColumns()
	inCurrency := " (" + w.inv.Currency + ")"
	head := w.headRow(cols, w.lb.description, w.lb.quantity, w.lb.unitPrice+inCurrency, w.lb.vat, w.lb.amount+inCurrency)
	var first tableRow
	if len(w.inv.Lines) > 0 {
		first = w.lineRow(w.inv.Lines[0], cols)
	}
	// Keep the header with the first row, or with the first line of a row
	// that is split between pages anyway.
	need := first.height(cellPadY)
	if need > pageRoom(head) {
		need = first.heightOf(1)
	}
	w.ensure(head.height(cellPadY) + need)
	w.drawHead(head, cols)
	for i, l := range w.inv.Lines {
		row := first
		if i > 0 {
			row = w.lineRow(l, cols)
		}
		w.placeRow(row, head, cols)
		if w.err != nil {
			return
		}
	}
	w.y += 14
}

// headRow builds a table header row from the column titles.
func (w *writer) headRow(cols []column, titles ...string) tableRow {
	row := make(tableRow, len(titles))
	for i, t := range titles {
		row[i] = w.cell(t, styleTableHead, cols[i].width)
	}
	return row
}

// drawHead draws a table header row on a pale band.
func (w *writer) drawHead(head tableRow, cols []column) {
	h := head.height(cellPadY)
	last := cols[len(cols)-1]
	w.fill(cols[0].x, w.y, last.x+last.width-cols[0].x, h, panel)
	w.drawCells(head, cols, w.y, cellPadY)
	w.y += h
}

// lineRow builds the row for one invoice line. A discounted line shows
// its discount under the description, since the amount is net of it.
func (w *writer) lineRow(l invoice.Line, cols []column) tableRow {
	desc := w.cell(l.Description, styleBody, cols[0].width)
	if !isZero(l.Discount) {
		text := fmt.Sprintf("%s %s%%: -%s", w.lb.discount, l.DiscountRate, l.Discount)
		desc = append(desc, w.cell(text, styleMuted, cols[0].width)...)
	}
	return tableRow{
		desc,
		w.cell(joinNonEmpty(" ", l.Quantity, l.Unit), styleBody, cols[1].width),
		w.cell(w.price(l.UnitPrice), styleBody, cols[2].width),
		w.cell(l.TaxRate+"%", styleBody, cols[3].width),
		w.cell(l.Amount, styleBody, cols[4].width),
	}
}

// placeRow draws row at w.y. A row that does not fit moves to the next
// page, under a repeated header; a row taller than a page fills this one
// and continues on the next.
func (w *writer) placeRow(row, head tableRow, cols []column) {
	fresh := false // whether w.y is just below the header of a new page
	for w.err == nil {
		h := row.height(cellPadY)
		if w.room(h) {
			w.drawBodyRow(row, cols)
			return
		}
		if fresh || h > pageRoom(head) {
			n := row.linesFitting(bottom - w.y)
			if fresh {
				n = max(n, 1) // always progress, whatever the styles
			}
			if n > 0 {
				var part tableRow
				part, row = row.split(n)
				w.drawBodyRow(part, cols)
			}
		}
		w.newPage()
		w.drawHead(head, cols)
		fresh = true
	}
}

// pageRoom is the height a continuation page has for rows below head.
func pageRoom(head tableRow) float64 {
	return bottom - continuationTop() - head.height(cellPadY)
}

// drawBodyRow draws a table row with a hairline under it.
func (w *writer) drawBodyRow(row tableRow, cols []column) {
	h := row.height(cellPadY)
	w.drawCells(row, cols, w.y, cellPadY)
	w.y += h
	last := cols[len(cols)-1]
	w.hline(cols[0].x, last.x+last.width, w.y, 0.5, hairline)
}

// continuationTop is where content starts on pages after the first,
// below the running header that newPage draws.
func continuationTop() float64 { return top + styleSmall.lineHeight() + 14 }

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
	vatCols := []column{
		{x: left, width: 70, a: alignLeft},
		{x: left + 70, width: 95, a: alignRight},
		{x: left + 165, width: 95, a: alignRight},
	}
	vatHead := w.headRow(vatCols, w.lb.vatRate, w.lb.taxBase, w.lb.vatAmount)
	var vatRows []tableRow
	for _, t := range w.inv.Taxes {
		vatRows = append(vatRows, tableRow{
			w.cell(t.Rate+"%", styleBody, vatCols[0].width),
			w.cell(w.amount(t.Base), styleBody, vatCols[1].width),
			w.cell(w.amount(t.Amount), styleBody, vatCols[2].width),
		})
	}
	totalCols := []column{
		{x: totalsX, width: 125, a: alignLeft},
		{x: totalsX + 125, width: right - totalsX - 125, a: alignRight},
	}
	var totalRows []tableRow
	lines := w.totalLines()
	for _, t := range lines {
		totalRows = append(totalRows, tableRow{
			w.cell(t.label, t.st, totalCols[0].width),
			w.cell(t.value, t.st, totalCols[1].width),
		})
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

// totalLines lists the totals from the lines' sum down to the amount due.
// With discounts, the sum before them comes first, so that the column adds
// up from top to bottom.
func (w *writer) totalLines() []totalLine {
	inv := w.inv
	var out []totalLine
	if !isZero(inv.DiscountTotal) {
		out = append(out,
			totalLine{label: w.lb.grossTotal, value: w.amount(w.grossTotal()), st: styleBody},
			totalLine{label: w.lb.discounts, value: "-" + w.amount(inv.DiscountTotal), st: styleBody},
		)
	}
	out = append(out,
		totalLine{label: w.lb.subtotal, value: w.amount(inv.Subtotal), st: styleBody},
		totalLine{label: w.lb.vatTotal, value: w.amount(inv.TaxTotal), st: styleBody},
		totalLine{label: w.lb.total, value: w.amount(inv.Total), st: styleTotal, ruleAbove: true},
	)
	if !isZero(inv.AmountPaid) {
		out = append(out, totalLine{label: w.lb.paid, value: "-" + w.amount(inv.AmountPaid), st: styleBody})
	}
	return append(out, totalLine{label: w.lb.amountDue, value: w.amount(inv.AmountDue), st: styleDue, band: true})
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

// textSection draws a titled block of free text, such as the notes. Long
// text continues on the next page.
func (w *writer) textSection(title, body string) {
	lines := w.wrap(body, styleBody, contentW)
	if len(lines) == 0 {
		return
	}
	headH := styleStrong.lineHeight() + 2
	w.ensure(headH + styleBody.lineHeight())
	w.y += w.para(title, styleStrong, left, w.y, contentW, alignLeft) + 2
	for _, l := range lines {
		w.ensure(styleBody.lineHeight())
		w.text(l, styleBody, left, w.y, contentW, alignLeft)
		w.y += styleBody.lineHeight()
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
// link on the right, or whichever of them the invoice has on the left.
// The block is kept on one page.
func (w *writer) payment() {
	var blocks []block
	if b, ok := w.bankBlock(leftColW); ok {
		blocks = append(blocks, b)
	}
	linkW := leftColW
	if len(blocks) > 0 {
		linkW = right - totalsX
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
		x := left
		if i > 0 {
			x = totalsX
		}
		b.draw(x, w.y)
	}
	w.y += h + sectionGap
}

// bankBlock lays out where to pay by transfer, when the seller has an IBAN.
func (w *writer) bankBlock(width float64) (block, bool) {
	bank := w.doc.Bank
	if strings.TrimSpace(bank.IBAN) == "" {
		return block{}, false
	}
	const labelW = 90.0
	var rows []tableRow
	for _, r := range [][2]string{
		{w.lb.iban, groupIBAN(bank.IBAN)},
		{w.lb.bic, bank.BIC},
		{w.lb.bank, bank.BankName},
		{w.lb.holder, bank.Holder},
	} {
		if strings.TrimSpace(r[1]) != "" {
			rows = append(rows, tableRow{
				w.cell(r[0], styleMuted, labelW+2*cellPadX),
				w.cell(r[1], styleStrong, width-labelW+cellPadX),
			})
		}
	}
	title := w.wrap(w.lb.paymentDetails, styleStrong, width)
	h := linesHeight(title, styleStrong) + 2
	for _, r := range rows {
		h += r.height(1)
	}
	return block{height: h, draw: func(x, y float64) {
		y += w.lines(title, styleStrong, x, y, width, alignLeft) + 2
		cols := []column{
			{x: x - cellPadX, width: labelW + 2*cellPadX, a: alignLeft},
			{x: x + labelW, width: width - labelW + cellPadX, a: alignLeft},
		}
		for _, r := range rows {
			w.drawCells(r, cols, y, 1)
			y += r.height(1)
		}
	}}, true
}

// linkBlock lays out the invoice's payment link; an http(s) link is
// clickable.
func (w *writer) linkBlock(width float64) (block, bool) {
	link := strings.TrimSpace(w.inv.PaymentLink)
	if link == "" {
		return block{}, false
	}
	title := w.wrap(w.lb.payOnline, styleStrong, width)
	lines := w.wrap(link, styleLink, width)
	h := linesHeight(title, styleStrong) + 2 + linesHeight(lines, styleLink)
	return block{height: h, draw: func(x, y float64) {
		y += w.lines(title, styleStrong, x, y, width, alignLeft) + 2
		clickable := isWebURL(link)
		for _, l := range lines {
			w.text(l, styleLink, x, y, width, alignLeft)
			if clickable && w.err == nil {
				w.pdf.AddExternalLink(link, x, y, w.measure(l), styleLink.lineHeight())
			}
			y += styleLink.lineHeight()
		}
	}}, true
}

// para wraps s to width, draws it and returns its height.
func (w *writer) para(s string, st style, x, y, width float64, a align) float64 {
	return w.lines(w.wrap(s, st, width), st, x, y, width, a)
}

// amount prints a decimal amount with its currency code. Locale-specific
// number formats are not applied yet.
func (w *writer) amount(s string) string {
	return s + " " + w.inv.Currency
}

// price pads a unit price to the currency's minor unit, "1200" to
// "1200.00", so the column lines up; longer fractions such as "0.3333"
// stay as they are.
func (w *writer) price(s string) string {
	whole, frac, _ := strings.Cut(s, ".")
	if s == "" || len(frac) >= w.cur.Digits {
		return s
	}
	return whole + "." + frac + strings.Repeat("0", w.cur.Digits-len(frac))
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
	return strings.Join(appendNonEmpty(nil, values...), sep)
}

// isZero reports whether a decimal string is empty or zero ("0.00").
func isZero(s string) bool {
	return strings.Trim(s, "0.-") == ""
}

// groupIBAN prints an IBAN in groups of four characters, its usual paper
// form.
func groupIBAN(iban string) string {
	compact := strings.ToUpper(strings.Join(strings.Fields(iban), ""))
	var b strings.Builder
	for i, r := range []rune(compact) {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isWebURL reports whether s is an absolute http or https URL.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
