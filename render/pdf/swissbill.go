package pdf

import (
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/invoiced/invoiced/render/qr"
)

// The Swiss QR-bill's parts, in points: 105 mm high across the foot of
// an A4 page, the receipt 62 mm wide on the left and the payment part
// the rest, each with 5 mm margins.
const (
	billH        = 105 * mm
	receiptW     = 62 * mm
	billMargin   = 5 * mm
	paymentPartW = 148 * mm
)

// billFooterGap is how far above the bill the page footer sits on the
// bill's page: room for the footer and the "separate" note.
const billFooterGap = 30.0

// white is the background of the Swiss QR-bill and the Swiss cross.
const white rgb = 0xFFFFFF

// The Swiss QR-bill's text: the titles, the headings and values of the
// payment part, and those of the receipt, in sans-serif at the sizes the
// guidelines give.
var (
	billTitle        = spec{bold: true, size: 11, color: black, bill: true}
	billHeading      = spec{bold: true, size: 8, color: black, bill: true}
	billValue        = spec{size: 10, color: black, bill: true}
	receiptHeading   = spec{bold: true, size: 6, color: black, bill: true}
	receiptValue     = spec{size: 8, color: black, bill: true}
	billSeparateNote = spec{size: 7, color: muted, bill: true}
)

// swissPaymentPart draws the Swiss QR-bill, the receipt and the payment
// part, across the foot of the last page, or of a new page when the last
// one has no room left for it.
func (w *writer) swissPaymentPart() {
	if w.err != nil {
		return
	}
	b, code, err := swissBill(w.doc)
	if err != nil {
		w.r.logger.Warn("pdf: Swiss QR-bill left out", zap.String("invoice_id", w.inv.ID), zap.Error(err))
		return
	}
	if code == nil {
		return
	}
	for _, f := range []*face{&w.r.bill.regular, &w.r.bill.bold} {
		if err := w.pdf.AddTTFFontFromFontContainer(f.family, w.r.fonts); err != nil {
			w.fail(fmt.Errorf("pdf: add font %s: %w", f.family, err))
			return
		}
	}
	top := w.paper.h - billH
	if w.y-sectionGap > top-billFooterGap-14 {
		w.newPage()
	}
	w.billPage = w.pdf.GetNumberOfPages()
	w.billTop = top

	w.fill(0, top, w.paper.w, billH, white)
	w.perforation(top)
	lb := w.lb.swiss
	w.textSpec(w.clean(lb.separate), billSeparateNote, 0, top-billSeparateNote.lineHeight()-1, w.paper.w, alignCenter)
	w.receipt(b, 0, top)
	w.paymentPart(b, code, receiptW, top)
}

// perforation draws the dashed lines to cut along: above the bill and
// between the receipt and the payment part.
func (w *writer) perforation(top float64) {
	if w.err != nil {
		return
	}
	w.pdf.SetStrokeColor(black.split())
	w.pdf.SetLineWidth(0.5)
	w.pdf.SetCustomLineType([]float64{3, 2}, 0)
	w.pdf.Line(0, top, w.paper.w, top)
	w.pdf.Line(receiptW, top, receiptW, w.paper.h)
	w.pdf.SetLineType("")
	w.strokeSet = false
}

// receipt draws the receipt with its top left corner at x, y.
func (w *writer) receipt(b qr.SwissBill, x, y float64) {
	lb := w.lb.swiss
	x += billMargin
	width := receiptW - 2*billMargin
	const leading = 9.0
	w.billText(lb.receipt, billTitle, x, y+billMargin, width, alignLeft)

	ty := y + billMargin + 7*mm
	ty += w.billField(lb.account, w.accountLines(b), receiptHeading, receiptValue, x, ty, width, leading) + leading
	if b.Reference != "" {
		ty += w.billField(lb.reference, []string{groupReference(b.Reference)}, receiptHeading, receiptValue, x, ty, width, leading) + leading
	}
	if b.Debtor != nil {
		w.billField(lb.payableBy, partyLines(*b.Debtor), receiptHeading, receiptValue, x, ty, width, leading)
	} else {
		ty += w.billField(lb.payableByBlank, nil, receiptHeading, receiptValue, x, ty, width, leading)
		w.cornerBox(x, ty+1, 52*mm, 20*mm)
	}

	ay := y + billMargin + 7*mm + 56*mm
	w.billAmount(b, receiptHeading, receiptValue, x, ay, 13*mm, leading)
	w.billText(lb.acceptance, receiptHeading, x, y+billMargin+7*mm+56*mm+14*mm, width, alignRight)
}

// paymentPart draws the payment part with its top left corner at x, y:
// the title, the QR code with the Swiss cross and the amount on the left,
// and the account, reference, message and payer on the right.
func (w *writer) paymentPart(b qr.SwissBill, code *qr.Code, x, y float64) {
	lb := w.lb.swiss
	x += billMargin
	w.billText(lb.paymentPart, billTitle, x, y+billMargin, 51*mm-billMargin, alignLeft)

	side := qr.SwissSideMM * mm
	qy := y + billMargin + 7*mm + billMargin
	module := side / float64(code.Size())
	quiet := qr.QuietZone * module
	w.qrCode(code, x-quiet, qy-quiet, side+2*quiet)
	w.swissCross(x+side/2, qy+side/2)

	const leading = 11.0
	w.billAmount(b, billHeading, billValue, x, y+billMargin+7*mm+56*mm, 22*mm, leading)

	ix := x + 51*mm
	width := receiptW + paymentPartW - billMargin - (ix)
	ty := y + billMargin
	ty += w.billField(lb.account, w.accountLines(b), billHeading, billValue, ix, ty, width, leading) + leading
	if b.Reference != "" {
		ty += w.billField(lb.reference, []string{groupReference(b.Reference)}, billHeading, billValue, ix, ty, width, leading) + leading
	}
	if b.Message != "" {
		ty += w.billField(lb.additionalInfo, []string{b.Message}, billHeading, billValue, ix, ty, width, leading) + leading
	}
	if b.Debtor != nil {
		w.billField(lb.payableBy, partyLines(*b.Debtor), billHeading, billValue, ix, ty, width, leading)
	} else {
		ty += w.billField(lb.payableByBlank, nil, billHeading, billValue, ix, ty, width, leading)
		w.cornerBox(ix, ty+1, 65*mm, 25*mm)
	}
}

// billField draws a heading and its values, each wrapped to width, with
// leading between lines, and returns their height.
func (w *writer) billField(heading string, values []string, hs, vs spec, x, y, width, leading float64) float64 {
	h := 0.0
	for i, s := range append([]string{heading}, values...) {
		sp := vs
		if i == 0 {
			sp = hs
		}
		sp = w.billSpec(s, sp)
		for _, l := range w.wrapSpec(s, sp, width) {
			w.textSpec(l, sp, x, y+h, width, alignLeft)
			h += leading
		}
	}
	return h
}

// billSpec returns sp for text s on the bill, set in the document's own
// typeface where Liberation Sans lacks one of its characters: the
// guidelines' character set is all Latin, which Liberation Sans covers,
// but names and labels may come from elsewhere.
func (w *writer) billSpec(s string, sp spec) spec {
	for _, c := range s {
		if printable(c) && !w.r.bill.has(c) {
			sp.bill = false
			return sp
		}
	}
	return sp
}

// billAmount draws the currency and the amount side by side, the amount
// amountX to the right of the currency.
func (w *writer) billAmount(b qr.SwissBill, hs, vs spec, x, y, amountX, leading float64) {
	lb := w.lb.swiss
	w.billText(lb.currency, hs, x, y, amountX, alignLeft)
	w.billText(b.Currency, vs, x, y+leading, amountX, alignLeft)
	w.billText(lb.amount, hs, x+amountX, y, 40*mm, alignLeft)
	w.billText(groupAmount(b.Amount), vs, x+amountX, y+leading, 40*mm, alignLeft)
}

// billText draws one line of bill text, cut to width.
func (w *writer) billText(s string, sp spec, x, y, width float64, a align) {
	sp = w.billSpec(s, sp)
	if l := w.wrapSpec(s, sp, width); len(l) > 0 {
		w.textSpec(l[0], sp, x, y, width, a)
	}
}

// accountLines are the creditor's IBAN, name and address as the bill
// prints them.
func (w *writer) accountLines(b qr.SwissBill) []string {
	iban, _ := qr.NormalizeIBAN(b.IBAN)
	return append([]string{groupIBAN(iban)}, partyLines(b.Creditor)...)
}

// partyLines prints a bill party as its name, street and town.
func partyLines(a qr.SwissAddress) []string {
	return appendNonEmpty(nil, a.Name,
		joinNonEmpty(" ", a.Street, a.BuildingNumber),
		joinNonEmpty(" ", a.PostalCode, a.Town))
}

// swissCross draws the Swiss cross centred on cx, cy: a white cross on a
// black square inside a white border, 7 mm in all, as the guidelines
// require over the QR code's centre.
func (w *writer) swissCross(cx, cy float64) {
	side := qr.SwissCrossMM * mm
	w.fill(cx-side/2, cy-side/2, side, side, white)
	inner := side * 0.9
	w.fill(cx-inner/2, cy-inner/2, inner, inner, black)
	// The flag's proportions: arms 6 units wide and 20 long across a
	// 32-unit square.
	long, wide := inner*20/32, inner*6/32
	w.fill(cx-wide/2, cy-long/2, wide, long, white)
	w.fill(cx-long/2, cy-wide/2, long, wide, white)
}

// cornerBox draws the corner marks of a field left blank for the payer.
func (w *writer) cornerBox(x, y, width, height float64) {
	if w.err != nil {
		return
	}
	const arm = 3 * mm
	w.pdf.SetStrokeColor(black.split())
	w.pdf.SetLineWidth(0.75)
	w.strokeSet = false
	for _, c := range [][4]float64{
		{x, y, 1, 1}, {x + width, y, -1, 1}, {x, y + height, 1, -1}, {x + width, y + height, -1, -1},
	} {
		w.pdf.Line(c[0], c[1], c[0]+c[2]*arm, c[1])
		w.pdf.Line(c[0], c[1], c[0], c[1]+c[3]*arm)
	}
}

// groupReference prints a QR reference in blocks of five digits from the
// right, "21 00000 00003 13947 14300 09017", and a creditor reference in
// blocks of four from the left, "RF18 5390 0754 7034", as the guidelines
// ask.
func groupReference(ref string) string {
	if strings.HasPrefix(ref, "RF") {
		var groups []string
		for len(ref) > 4 {
			groups = append(groups, ref[:4])
			ref = ref[4:]
		}
		return strings.Join(append(groups, ref), " ")
	}
	var groups []string
	for len(ref) > 5 {
		groups = append([]string{ref[len(ref)-5:]}, groups...)
		ref = ref[:len(ref)-5]
	}
	return strings.Join(append([]string{ref}, groups...), " ")
}

// groupAmount prints an amount as the bill does, with a space between
// thousands and two decimals: "1 949.75".
func groupAmount(amount string) string {
	whole, frac, _ := strings.Cut(amount, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}
