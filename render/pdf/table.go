package pdf

import (
	"strings"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/locale"
)

// column is one column of a table: where it starts, how wide it is and
// how its text is aligned. The padding is inside the width.
type column struct {
	x, width float64
	a        align
}

// span is one printed line of a cell and its line height. A number set
// smaller to fit its column has a scale below 1; zero means full size.
type span struct {
	text  string
	st    style
	h     float64
	scale float64
}

// tableRow holds the lines of each of its cells.
type tableRow [][]span

// height is the height of the row's tallest cell plus padY above and below.
func (r tableRow) height(padY float64) float64 {
	h := 0.0
	for _, c := range r {
		ch := 0.0
		for _, s := range c {
			ch += s.h
		}
		h = max(h, ch)
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

// cell wraps s to fit a column of the given width, padding included.
func (w *writer) cell(s string, st style, width float64) []span {
	lines := w.wrap(s, st, width-2*cellPadX)
	spans := w.spanBlocks.take(len(lines))
	h := w.lineHeight(st)
	for i, l := range lines {
		spans[i] = span{text: l, st: st, h: h}
	}
	return spans
}

// numberCell sets s, an amount, quantity or rate, on one line of a column
// of the given width, padding included: a number never breaks, and one
// wider than the column is set smaller to fit it.
func (w *writer) numberCell(s string, st style, width float64) []span {
	sp, ok := w.numberSpan(s, st, width)
	if !ok {
		return nil
	}
	one := w.spanBlocks.take(1)
	one[0] = sp
	return one
}

// numberSpan is numberCell's one line, and false for a blank s.
func (w *writer) numberSpan(s string, st style, width float64) (span, bool) {
	s = strings.TrimSpace(w.clean(s))
	if s == "" {
		return span{}, false
	}
	sp := span{text: s, st: st, h: w.lineHeight(st)}
	if tw, room := w.measure(s, w.spec(st)), width-2*cellPadX; tw > room && tw > 0 {
		sp.scale = room / tw
	}
	return sp, true
}

// numberWidth is the width of a column that sets s on one line at full
// size, padding included.
func (w *writer) numberWidth(s string, st style) float64 {
	return w.measure(w.clean(s), w.spec(st)) + 2*cellPadX + fitSlack
}

// fitSlack is added to a width computed to fit a text exactly, so that
// rounding never makes the text break or shrink in it.
const fitSlack = 0.25

// drawCells draws the row's text with its top at y.
func (w *writer) drawCells(r tableRow, cols []column, y, padY float64) {
	for i, c := range r {
		col := cols[i]
		top := y + padY
		for _, s := range c {
			sp := w.spec(s.st)
			if s.scale > 0 {
				// Keep the shrunk line's baseline where the full-size
				// one's would be.
				small := sp
				small.size *= s.scale
				w.textSpec(s.text, small, col.x+cellPadX, top+sp.baseline()-small.baseline(), col.width-2*cellPadX, col.a)
			} else {
				w.textSpec(s.text, sp, col.x+cellPadX, top, col.width-2*cellPadX, col.a)
			}
			top += s.h
		}
	}
}

// lineColumns are the columns of the line table and their titles:
// description, quantity, unit, unit price, the discount when some line
// has one, VAT rate and amount.
type lineColumns struct {
	cols     []column
	titles   []string
	discount bool
	// numbers holds what lineNumbers returns for each line, in order.
	numbers [][][]span
}

// maxLineColumns is the most columns the line table has.
const maxLineColumns = 7

// minDescriptionShare is the least part of the line table's width that
// the description keeps, however wide the numbers are.
const minDescriptionShare = 0.2

// lineTableColumns lays out the line table's columns across the page.
// Each numeric column is at least as wide as its widest number, so that
// no number breaks, and as its title's longest word, so that no title
// breaks inside a word; the description takes what the others leave.
// Only when the numbers would leave the description less than
// minDescriptionShare of the width do the numeric columns narrow in
// proportion, and their numbers are set smaller (see numberCell).
func (w *writer) lineTableColumns() lineColumns {
	lc := lineColumns{}
	for _, l := range w.inv.Lines {
		if !isZero(l.Discount) || !isZero(l.DiscountRate) {
			lc.discount = true
			break
		}
	}
	const qty, unit, price, disc, vat, amount = 38.0, 38.0, 64.0, 50.0, 38.0, 72.0
	inCurrency := " (" + w.cur.Code + ")"
	// At most seven columns: their titles in one array, the rest on the
	// stack.
	lc.titles = append(make([]string, 0, maxLineColumns), w.lb.description, w.lb.quantity, w.lb.unit, w.lb.unitPrice+inCurrency)
	var widthsRoom, needRoom [maxLineColumns]float64
	var alignsRoom [maxLineColumns]align
	widths := append(widthsRoom[:0], 0, qty, unit, price)
	aligns := append(alignsRoom[:0], alignLeft, alignRight, alignLeft, alignRight)
	if lc.discount {
		lc.titles = append(lc.titles, w.lb.discount)
		widths = append(widths, disc)
		aligns = append(aligns, alignRight)
	}
	lc.titles = append(lc.titles, w.lb.vat, w.lb.amount+inCurrency)
	widths = append(widths, vat, amount)
	aligns = append(aligns, alignRight, alignRight)

	// need is what each column needs so that nothing in it breaks: its
	// widest number and its title's longest word. The columns are as wide
	// as their usual width where there is room for it, else as they need.
	need := needRoom[:len(widths)]
	lc.numbers = make([][][]span, len(w.inv.Lines))
	for j, l := range w.inv.Lines {
		lc.numbers[j] = w.lineNumbers(l, lc)
		for i, n := range lc.numbers[j] {
			for _, s := range n {
				need[i] = max(need[i], w.numberWidth(s.text, s.st))
			}
		}
	}
	head := w.spec(styleTableHead)
	for i := 1; i < len(widths); i++ {
		for word := range strings.FieldsSeq(w.clean(lc.titles[i])) {
			need[i] = max(need[i], w.measure(word, head)+2*cellPadX+fitSlack)
		}
	}
	most := w.contentW * (1 - minDescriptionShare)
	numeric := 0.0
	for i := 1; i < len(widths); i++ {
		widths[i] = max(widths[i], need[i])
		numeric += widths[i]
	}
	if numeric > most {
		numeric = 0
		for i := 1; i < len(widths); i++ {
			widths[i] = need[i]
			numeric += widths[i]
		}
	}
	if numeric > most {
		for i := 1; i < len(widths); i++ {
			widths[i] *= most / numeric
		}
		numeric = most
	}
	widths[0] = w.contentW - numeric
	x := w.left
	lc.cols = make([]column, 0, len(widths))
	for i, cw := range widths {
		lc.cols = append(lc.cols, column{x: x, width: cw, a: aligns[i]})
		x += cw
	}
	return lc
}

// lineNumbers returns the numbers one line prints in each column of lc,
// nil for the columns of text (description and unit): the quantity, the
// unit price, the discount rate and the amount taken off, the VAT rate
// and the amount. Each is one unbreakable span.
func (w *writer) lineNumbers(l invoice.Line, lc lineColumns) [][]span {
	// The columns' spans share one array, of room for the most a line
	// has (six).
	spans := w.spanBlocks.take(7)[:0]
	cell := func(parts ...span) []span {
		start := len(spans)
		for _, p := range parts {
			if p.text = strings.TrimSpace(p.text); p.text != "" {
				p.h = w.lineHeight(p.st)
				spans = append(spans, p)
			}
		}
		if len(spans) == start {
			return nil
		}
		return spans[start:len(spans):len(spans)]
	}
	out := w.cellBlocks.take(7)[:0]
	out = append(out, nil, cell(span{text: locale.Number(l.Quantity, w.lang), st: styleBody}),
		nil, cell(span{text: w.amount(l.UnitPrice), st: styleBody}))
	if lc.discount {
		var rate, off span
		if !isZero(l.DiscountRate) {
			rate = span{text: locale.Percent(l.DiscountRate, w.lang), st: styleBody}
		}
		if !isZero(l.Discount) {
			off = span{text: w.amount(negate(l.Discount)), st: styleMuted}
		}
		out = append(out, cell(rate, off))
	}
	return append(out, cell(span{text: locale.Percent(l.TaxRate, w.lang), st: styleBody}),
		cell(span{text: w.amount(l.Amount), st: styleBody}))
}

// lineTable draws the invoice lines. Rows continue on new pages under a
// repeated header; a row taller than a whole page is split between pages.
func (w *writer) lineTable() {
	lc := w.lineTableColumns()
	head := w.headRow(lc.cols, lc.titles...)
	var first tableRow
	if len(w.inv.Lines) > 0 {
		first = w.lineRow(0, lc)
	}
	// Keep the header with the first row, or with the first line of a row
	// that is split between pages anyway.
	need := first.height(cellPadY)
	if need > w.pageRoom(head) {
		need = first.heightOf(1)
	}
	w.ensure(head.height(cellPadY) + need)
	w.drawHead(head, lc.cols)
	for i := range w.inv.Lines {
		row := first
		if i > 0 {
			row = w.lineRow(i, lc)
		}
		w.placeRow(row, head, lc.cols)
		if w.err != nil {
			return
		}
	}
	w.y += 12
}

// headRow builds a table header row from the column titles.
func (w *writer) headRow(cols []column, titles ...string) tableRow {
	row := tableRow(w.cellBlocks.take(len(titles)))
	for i, t := range titles {
		row[i] = w.cell(t, styleTableHead, cols[i].width)
	}
	return row
}

// drawHead draws a table header row on a pale band with an accent rule
// under it.
func (w *writer) drawHead(head tableRow, cols []column) {
	h := head.height(cellPadY)
	last := cols[len(cols)-1]
	x1, x2 := cols[0].x, last.x+last.width
	w.fill(x1, w.y, x2-x1, h, panel)
	w.hline(x1, x2, w.y+h, 0.8, w.accent)
	w.drawCells(head, cols, w.y, cellPadY)
	w.y += h
}

// lineRow builds the row for invoice line n. The discount column shows
// the rate and, under it, the amount taken off, since the line's amount
// is net of it. The numbers never break (see numberCell).
func (w *writer) lineRow(n int, lc lineColumns) tableRow {
	l, numbers := w.inv.Lines[n], lc.numbers[n]
	row := tableRow(w.cellBlocks.take(len(lc.cols)))
	// The numeric cells' spans share one array.
	count := 0
	for _, c := range numbers {
		count += len(c)
	}
	spans := w.spanBlocks.take(count)[:0]
	for i, c := range numbers {
		start := len(spans)
		for _, s := range c {
			if sp, ok := w.numberSpan(s.text, s.st, lc.cols[i].width); ok {
				spans = append(spans, sp)
			}
		}
		if len(spans) > start {
			row[i] = spans[start:len(spans):len(spans)]
		}
	}
	row[0] = w.cell(l.Description, styleBody, lc.cols[0].width)
	row[2] = w.cell(l.Unit, styleBody, lc.cols[2].width)
	return row
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
		if fresh || h > w.pageRoom(head) {
			n := row.linesFitting(w.bottom - w.y)
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
func (w *writer) pageRoom(head tableRow) float64 {
	return w.bottom - w.continuationTop() - head.height(cellPadY)
}

// drawBodyRow draws a table row with a hairline under it.
func (w *writer) drawBodyRow(row tableRow, cols []column) {
	h := row.height(cellPadY)
	w.drawCells(row, cols, w.y, cellPadY)
	w.y += h
	last := cols[len(cols)-1]
	w.hline(cols[0].x, last.x+last.width, w.y, 0.5, hairline)
}
