package pdf

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/signintech/gopdf"
	"golang.org/x/text/unicode/norm"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/money"
)

// Page geometry, in points: A4 with 15 mm margins. Content stays between
// top and bottom; the footer sits in the bottom margin.
const (
	pageW    = 595.28
	pageH    = 841.89
	margin   = 42.52
	left     = margin
	right    = pageW - margin
	contentW = right - left
	top      = margin
	bottom   = pageH - margin - 8
	footerY  = pageH - margin + 6 // top of the footer text
)

// rgb is a colour as 0xRRGGBB.
type rgb uint32

// The palette: near-black text, grey for secondary text, hairline rules,
// a pale fill for table headers and boxes, and one accent.
const (
	ink      rgb = 0x1F2933
	muted    rgb = 0x616E7C
	rule     rgb = 0xD9DEE4
	hairline rgb = 0xE8EBEF
	panel    rgb = 0xF3F5F7
	accent   rgb = 0x1D4E89
	faint    rgb = 0xEEF0F3
	warning  rgb = 0xB54708
)

// split returns the red, green and blue parts of c.
func (c rgb) split() (r, g, b uint8) { return uint8(c >> 16), uint8(c >> 8), uint8(c) }

// style is a named text style: font, size and colour.
type style int

const (
	styleBody style = iota
	styleMuted
	styleStrong
	styleSmall
	styleLabel
	styleSeller
	styleCustomer
	styleTitle
	styleTableHead
	styleTotal
	styleDue
	styleBigAmount
	styleBadge
	styleLink
	styleWatermark
)

// spec is what a style stands for.
type spec struct {
	bold  bool
	size  float64
	color rgb
}

// spec returns the font, size and colour of s; styleBody is the default.
func (s style) spec() spec {
	switch s {
	case styleMuted:
		return spec{size: 8.5, color: muted}
	case styleStrong:
		return spec{bold: true, size: 8.5, color: ink}
	case styleSmall:
		return spec{size: 7.5, color: muted}
	case styleLabel:
		return spec{bold: true, size: 7, color: muted}
	case styleSeller:
		return spec{bold: true, size: 13, color: ink}
	case styleCustomer:
		return spec{bold: true, size: 10, color: ink}
	case styleTitle:
		return spec{bold: true, size: 20, color: accent}
	case styleTableHead:
		return spec{bold: true, size: 7.5, color: muted}
	case styleTotal:
		return spec{bold: true, size: 10, color: ink}
	case styleDue:
		return spec{bold: true, size: 10, color: accent}
	case styleBigAmount:
		return spec{bold: true, size: 16, color: accent}
	case styleBadge:
		return spec{bold: true, size: 8, color: warning}
	case styleLink:
		return spec{size: 8.5, color: accent}
	case styleWatermark:
		return spec{bold: true, size: 110, color: faint}
	default:
		return spec{size: 8.5, color: ink}
	}
}

// lineHeight is the distance between the tops of two lines in style s.
func (s style) lineHeight() float64 { return s.spec().size * 1.4 }

// baseline is how far below the top of its line a line's baseline sits:
// DejaVu's ascender (0.93 em) plus half of the leading above 1.16 em.
func (s style) baseline() float64 {
	size := s.spec().size
	return (s.lineHeight()-1.164*size)/2 + 0.928*size
}

// align places a line within its box.
type align int

const (
	alignLeft align = iota
	alignRight
	alignCenter
)

// glyphKey is a character in one of the two fonts.
type glyphKey struct {
	bold bool
	r    rune
}

// writer draws one document. Drawing methods do nothing once an error is
// recorded; finish reports the first one.
type writer struct {
	pdf *gopdf.GoPdf
	doc Document
	inv *invoice.Invoice
	cur money.Currency
	lb  labels

	// y is the top of the free space on the current page.
	y float64
	// active is the style the PDF is set to; activeSet is false before the
	// first.
	active    style
	activeSet bool

	// known caches whether a font has a glyph for a character; missing
	// collects the characters that have none, in order of appearance.
	known   map[glyphKey]bool
	missing []rune

	err error
}

// fail records err unless an earlier error is already recorded.
func (w *writer) fail(err error) {
	if w.err == nil && err != nil {
		w.err = err
	}
}

// finish lays the footers over every page and returns the PDF.
func (w *writer) finish() ([]byte, error) {
	w.footers()
	if w.err != nil {
		return nil, w.err
	}
	if len(w.missing) > 0 {
		return nil, &GlyphError{Runes: w.missing}
	}
	b, err := w.pdf.GetBytesPdfReturnErr()
	if err != nil {
		return nil, fmt.Errorf("pdf: write: %w", err)
	}
	return b, nil
}

// use switches the PDF to style s.
func (w *writer) use(s style) {
	if w.err != nil || (w.activeSet && w.active == s) {
		return
	}
	sp := s.spec()
	family := familyRegular
	if sp.bold {
		family = familyBold
	}
	if err := w.pdf.SetFontWithStyle(family, gopdf.Regular, sp.size); err != nil {
		w.fail(fmt.Errorf("pdf: set font %s: %w", family, err))
		return
	}
	w.pdf.SetTextColor(sp.color.split())
	w.active, w.activeSet = s, true
}

// measure returns the width of s in the current style. s must be clean.
func (w *writer) measure(s string) float64 {
	if w.err != nil || s == "" {
		return 0
	}
	width, err := w.pdf.MeasureTextWidth(s)
	w.fail(err)
	return width
}

// clean prepares text for the current style: it composes decomposed
// diacritics (NFC), turns tabs into spaces, keeps line breaks, and drops
// other control and formatting characters. Characters the font cannot draw
// are dropped too and reported by finish.
func (w *writer) clean(s string) string {
	s = norm.NFC.String(s)
	bold := w.active.spec().bold
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\t':
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return -1
		case !w.hasGlyph(bold, r):
			return -1
		}
		return r
	}, s)
}

// hasGlyph reports whether the bold or the regular font, as asked, can
// draw r, and records r as missing when it cannot. The font must be the
// current one.
func (w *writer) hasGlyph(bold bool, r rune) bool {
	key := glyphKey{bold, r}
	ok, seen := w.known[key]
	if !seen {
		ok, _ = w.pdf.IsCurrFontContainGlyph(r)
		w.known[key] = ok
	}
	if !ok && !slices.Contains(w.missing, r) {
		w.missing = append(w.missing, r)
	}
	return ok
}

// wrap breaks s into lines no wider than width in style st: at spaces
// where it can, inside a word where one word is wider than a line. Line
// breaks in s are kept; runs of spaces collapse. Empty text has no lines.
func (w *writer) wrap(s string, st style, width float64) []string {
	w.use(st)
	s = strings.TrimSpace(w.clean(s))
	if s == "" || w.err != nil {
		return nil
	}
	space := w.measure(" ")
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line, lineW := "", 0.0
		for _, word := range strings.Fields(para) {
			wordW := w.measure(word)
			if line != "" && lineW+space+wordW <= width {
				line, lineW = line+" "+word, lineW+space+wordW
				continue
			}
			if line != "" {
				lines = append(lines, line)
			}
			line, lineW = word, wordW
			if wordW > width {
				pieces := w.breakWord(word, width)
				lines = append(lines, pieces[:len(pieces)-1]...)
				line = pieces[len(pieces)-1]
				lineW = w.measure(line)
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// breakWord cuts word into pieces no wider than width, after a hyphen,
// slash or other separator where one is close enough to the edge, else
// between any two characters. A single character wider than width is a
// piece of its own.
func (w *writer) breakWord(word string, width float64) []string {
	var pieces []string
	start, used := 0, 0.0
	// soft is where the current piece may break after a separator, and
	// softUsed its width up to there; soft <= start means nowhere.
	soft, softUsed := 0, 0.0
	for i, r := range word {
		rw := w.measure(string(r))
		if used+rw > width && i > start {
			cut, rest := i, 0.0
			if soft > start && used-softUsed+rw <= width {
				cut, rest = soft, used-softUsed
			}
			pieces = append(pieces, word[start:cut])
			start, used = cut, rest
		}
		used += rw
		if strings.ContainsRune("-/_.,;:?&=", r) {
			soft, softUsed = i+utf8.RuneLen(r), used
		}
	}
	return append(pieces, word[start:])
}

// text draws one clean line in style st, aligned in the box that starts
// at x and is width wide, with the top of the line at y.
func (w *writer) text(s string, st style, x, y, width float64, a align) {
	if s == "" {
		return
	}
	w.use(st)
	switch a {
	case alignRight:
		x += width - w.measure(s)
	case alignCenter:
		x += (width - w.measure(s)) / 2
	}
	if w.err != nil {
		return
	}
	w.pdf.SetXY(x, y+st.baseline())
	w.fail(w.pdf.Text(s))
}

// lines draws lines in style st from y down and returns their height.
func (w *writer) lines(lines []string, st style, x, y, width float64, a align) float64 {
	for i, l := range lines {
		w.text(l, st, x, y+float64(i)*st.lineHeight(), width, a)
	}
	return float64(len(lines)) * st.lineHeight()
}

// fill paints a rectangle.
func (w *writer) fill(x, y, width, height float64, c rgb) {
	if w.err != nil {
		return
	}
	w.pdf.SetFillColor(c.split())
	w.pdf.RectFromUpperLeftWithStyle(x, y, width, height, "F")
}

// hline draws a horizontal rule.
func (w *writer) hline(x1, x2, y, thickness float64, c rgb) {
	if w.err != nil {
		return
	}
	w.pdf.SetStrokeColor(c.split())
	w.pdf.SetLineWidth(thickness)
	w.pdf.Line(x1, y, x2, y)
}

// newPage starts a page: the draft watermark, and on every page after the
// first a running header naming the seller and the invoice.
func (w *writer) newPage() {
	if w.err != nil {
		return
	}
	w.pdf.AddPage()
	w.y = top
	if w.inv.Status == invoice.StatusDraft {
		w.watermark()
	}
	if w.pdf.GetNumberOfPages() == 1 {
		return
	}
	st := styleSmall
	w.text(w.oneLine(w.doc.Seller.Name, st, contentW/2), st, left, w.y, contentW/2, alignLeft)
	ref := strings.TrimSpace(w.lb.title + " " + w.inv.Number)
	w.text(w.oneLine(ref, st, contentW/2), st, left+contentW/2, w.y, contentW/2, alignRight)
	w.y += st.lineHeight() + 2
	w.hline(left, right, w.y, 0.5, rule)
	w.y += 12
}

// watermark writes the draft word diagonally across the page, under
// everything else.
func (w *writer) watermark() {
	st := styleWatermark
	word := w.oneLine(w.lb.draft, st, pageH)
	w.use(st)
	width := w.measure(word)
	if w.err != nil {
		return
	}
	w.pdf.Rotate(45, pageW/2, pageH/2)
	w.pdf.SetXY(pageW/2-width/2, pageH/2+st.spec().size*0.35)
	w.fail(w.pdf.Text(word))
	w.pdf.RotateReset()
}

// oneLine returns the first line of s wrapped to width, for places with
// room for one line only.
func (w *writer) oneLine(s string, st style, width float64) string {
	if l := w.wrap(s, st, width); len(l) > 0 {
		return l[0]
	}
	return ""
}

// room reports whether height fits between w.y and the bottom of the page.
func (w *writer) room(height float64) bool { return w.y+height <= bottom }

// ensure starts a new page unless height fits on the current one.
func (w *writer) ensure(height float64) {
	if !w.room(height) {
		w.newPage()
	}
}

// footers writes "Page x of y" and the invoice number at the foot of
// every page, once the page count is known.
func (w *writer) footers() {
	if w.err != nil {
		return
	}
	n := w.pdf.GetNumberOfPages()
	st := styleSmall
	number := w.oneLine(w.inv.Number, st, contentW/2)
	for i := 1; i <= n; i++ {
		if err := w.pdf.SetPage(i); err != nil {
			w.fail(fmt.Errorf("pdf: footer on page %d: %w", i, err))
			return
		}
		w.hline(left, right, footerY-4, 0.5, rule)
		w.text(number, st, left, footerY, contentW/2, alignLeft)
		w.text(fmt.Sprintf(w.lb.page, i, n), st, left+contentW/2, footerY, contentW/2, alignRight)
	}
}
