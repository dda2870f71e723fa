package pdf

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/signintech/gopdf"
	"go.uber.org/zap"
	"golang.org/x/text/unicode/norm"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/money"
)

// contentCompression is how the page content streams are compressed:
// in one deflate block each, with Huffman codes made once per process
// from a sample of this package's pages (gopdf.TableCompression), which
// takes about half the time of zlib's level 1 for a few per cent more
// bytes. Building a block's own codes was a third of level 1's time for
// a page, which level 1 compresses nearly as well as the default level
// in a third of the time.
const contentCompression = gopdf.TableCompression

// margin is the page margin on every side, 15 mm.
const margin = 42.52

// rgb is a colour as 0xRRGGBB.
type rgb uint32

// The palette: near-black text, grey for secondary text, hairline rules,
// a pale fill for table headers and boxes, the default accent, and the
// colours of the status stamps and badges.
const (
	ink           rgb = 0x1F2933
	muted         rgb = 0x616E7C
	ruleColor     rgb = 0xD9DEE4
	hairline      rgb = 0xE8EBEF
	panel         rgb = 0xF3F5F7
	defaultAccent rgb = 0x1D4E89
	black         rgb = 0x000000
)

// split returns the red, green and blue parts of c.
func (c rgb) split() (r, g, b uint8) { return uint8(c >> 16), uint8(c >> 8), uint8(c) }

// style is a named text style.
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
	styleLink
)

// spec is what a style stands for: font, size and colour.
type spec struct {
	bold  bool
	size  float64
	color rgb
	// bill sets the text in the Swiss QR-bill's typeface.
	bill bool
}

// spec returns the font, size and colour of s, in the document's accent
// where s is accented.
func (w *writer) spec(s style) spec {
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
		return spec{bold: true, size: 20, color: w.accent}
	case styleTableHead:
		return spec{bold: true, size: 7.5, color: w.accent}
	case styleTotal:
		return spec{bold: true, size: 10, color: ink}
	case styleDue:
		return spec{bold: true, size: 10, color: w.accent}
	case styleBigAmount:
		return spec{bold: true, size: 16, color: w.accent}
	case styleLink:
		return spec{size: 8.5, color: w.accent}
	default:
		return spec{size: 8.5, color: ink}
	}
}

// lineHeight is the distance between the tops of two lines of sp.
func (sp spec) lineHeight() float64 { return sp.size * 1.4 }

// baseline is how far below the top of its line a line's baseline sits:
// DejaVu's ascender (0.93 em) plus half of the leading above 1.16 em.
func (sp spec) baseline() float64 {
	return (sp.lineHeight()-1.164*sp.size)/2 + 0.928*sp.size
}

// lineHeight is the line height of style s.
func (w *writer) lineHeight(s style) float64 { return w.spec(s).lineHeight() }

// align places a line within its box.
type align int

const (
	alignLeft align = iota
	alignRight
	alignCenter
)

// writer draws one document. Drawing methods do nothing once an error is
// recorded; finish reports the first one.
type writer struct {
	r     *Renderer
	pdf   *gopdf.GoPdf
	doc   Document
	inv   *invoice.Invoice
	cur   money.Currency
	lang  string
	lb    labels
	fonts *fontSet

	accent rgb
	paper  paper
	// The page's content box; the footer sits in the bottom margin.
	left, right, top, bottom, contentW float64

	// y is the top of the free space on the current page.
	y float64
	// active is the text style the PDF is set to, in activeFace (which
	// is a fallback font's for characters the style's own font lacks);
	// activeSet is false before the first.
	active     spec
	activeFace *face
	activeSet  bool
	// added holds the fallback fonts registered with this PDF; a
	// document registers only those it uses.
	added map[*face]bool
	// stroke is the colour and width rules are drawn with on the current
	// page; strokeSet is false before the first rule of a page.
	stroke    rule
	strokeSet bool

	// billPage is the page with the Swiss QR-bill, whose footer sits
	// above the bill's top, billTop; zero without a bill.
	billPage int
	billTop  float64

	// missing collects the characters the fonts cannot draw, in order of
	// appearance.
	missing []rune

	// scratch is the memory the writer's layout cuts its small slices
	// from, an earlier document's when one has finished.
	*scratch

	err error
}

// newWriter starts an empty PDF for doc: its paper, colours and document
// information, with the fonts it needs registered.
func newWriter(r *Renderer, doc Document) (*writer, error) {
	return newWriterWith(r, doc, r.fontsFor(doc))
}

// newWriterWith is newWriter with the fonts for doc, as fontsFor chooses
// them.
func newWriterWith(r *Renderer, doc Document, fonts *fontSet) (*writer, error) {
	inv := doc.Invoice
	cur, err := money.ParseCurrency(inv.Currency)
	if err != nil {
		return nil, fmt.Errorf("pdf: invoice currency: %w", err)
	}
	p, ok := parsePaper(doc.Paper)
	if !ok {
		r.logger.Warn("pdf: unknown paper size; printing on A4", zap.String("invoice_id", inv.ID), zap.String("paper", doc.Paper))
		p, _ = parsePaper("")
	}
	accent, ok := parseAccent(doc.Accent)
	if !ok {
		if doc.Accent != "" {
			r.logger.Warn("pdf: accent is not #RRGGBB; using the default", zap.String("invoice_id", inv.ID), zap.String("accent", doc.Accent))
		}
		accent = defaultAccent
	}
	lang := language(doc)
	lb := labelsFor(lang)
	if inv.IsCreditNote() {
		lb = lb.forCreditNote()
	}
	w := &writer{
		r: r, doc: doc, inv: inv, cur: cur, lang: lang, lb: lb,
		fonts: fonts, accent: accent, paper: p,
		left: margin, right: p.w - margin, top: margin, bottom: p.h - margin - 8,
		contentW: p.w - 2*margin,
		pdf:      &gopdf.GoPdf{},
		scratch:  scratches.Get().(*scratch),
	}
	w.pdf.Start(gopdf.Config{PageSize: *p.size, Unit: gopdf.UnitPT})
	w.pdf.SetCompressLevel(contentCompression)
	w.pdf.SetInfo(gopdf.PdfInfo{
		Title:   strings.TrimSpace(w.lb.title + " " + inv.Number),
		Author:  doc.Seller.Name,
		Subject: inv.Customer.Name,
		Creator: "invoiced",
	})
	for _, f := range []*face{&w.fonts.regular, &w.fonts.bold} {
		if err := w.pdf.AddTTFFontFromFontContainer(f.family, r.fonts); err != nil {
			return nil, fmt.Errorf("pdf: add font %s: %w", f.family, err)
		}
	}
	return w, nil
}

// fail records err unless an earlier error is already recorded.
func (w *writer) fail(err error) {
	if w.err == nil && err != nil {
		w.err = err
	}
}

// finish lays the footers over every page and returns the PDF. The
// writer's gopdf document is released: its memory goes to the next
// document.
func (w *writer) finish() ([]byte, error) {
	defer w.pdf.Release()
	defer w.releaseScratch()
	w.footers()
	if w.err != nil {
		return nil, w.err
	}
	buf := outputBuffers.Get().(*bytes.Buffer)
	defer outputBuffers.Put(buf)
	buf.Reset()
	if _, err := w.pdf.WriteTo(buf); err != nil {
		return nil, fmt.Errorf("pdf: write: %w", err)
	}
	return bytes.Clone(buf.Bytes()), nil
}

// releaseScratch hands the writer's scratch to the next document.
func (w *writer) releaseScratch() {
	w.scratch.reset()
	scratches.Put(w.scratch)
	w.scratch = nil
}

// outputBuffers keeps the buffers finish writes PDFs into, so that each
// render allocates its PDF once, at its size, rather than a buffer grown
// by doubling.
var outputBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// use switches the PDF to the text style sp set in f, registering f
// with the PDF first when it is a fallback font the document has not
// used yet.
func (w *writer) use(sp spec, f *face) {
	if w.err != nil || (w.activeSet && w.active == sp && w.activeFace == f) {
		return
	}
	if f != w.face(sp) && !w.added[f] {
		if err := w.pdf.AddTTFFontFromFontContainer(f.family, w.r.fonts); err != nil {
			w.fail(fmt.Errorf("pdf: add font %s: %w", f.family, err))
			return
		}
		if w.added == nil {
			w.added = map[*face]bool{}
		}
		w.added[f] = true
	}
	if !w.activeSet || w.activeFace != f {
		// The size is set apart: SetFontWithStyle takes it as an
		// interface, which a float64 is allocated for, and looks the
		// font up among all the document's objects.
		if err := w.pdf.SetFontWithStyle(f.family, gopdf.Regular, 0); err != nil {
			w.fail(fmt.Errorf("pdf: set font: %w", err))
			return
		}
	}
	w.pdf.SetFontSize(sp.size)
	if !w.activeSet || w.active.color != sp.color {
		w.pdf.SetTextColor(sp.color.split())
	}
	w.active, w.activeFace, w.activeSet = sp, f, true
}

// faceFor returns the font that draws c in sp: sp's own when it has c,
// else the first fallback font that has it, else sp's own.
func (w *writer) faceFor(sp spec, c rune) *face {
	f := w.face(sp)
	if len(w.r.fallback) == 0 || f.has(c) {
		return f
	}
	if fb := w.r.fallbackFor(c); fb != nil {
		return fb
	}
	return f
}

// face returns the font of sp.
func (w *writer) face(sp spec) *face {
	if sp.bill {
		return w.r.bill.face(sp.bold)
	}
	return w.fonts.face(sp.bold)
}

// measure returns the width of the clean text s in style sp.
func (w *writer) measure(s string, sp spec) float64 {
	f := w.face(sp)
	units := 0
	for _, c := range s {
		width, ok := f.width(c)
		if !ok && len(w.r.fallback) > 0 {
			if fb := w.r.fallbackFor(c); fb != nil {
				width, _ = fb.width(c)
			}
		}
		units += width
	}
	return float64(units) * sp.size / 1000
}

// printable reports whether c is text rather than a control or formatting
// character.
func printable(c rune) bool {
	return !unicode.IsControl(c) && !unicode.Is(unicode.Cf, c)
}

// clean prepares text for printing: it composes decomposed diacritics
// (NFC), turns tabs into spaces, keeps line breaks, drops other control
// and formatting characters, and replaces characters the fonts cannot
// draw with U+FFFD, noting them in w.missing.
func (w *writer) clean(s string) string {
	if w.fonts.asIs(s) {
		return s
	}
	return w.cleanAll(s)
}

// cleanAll is clean for a text with some character that asIs does not
// vouch for.
func (w *writer) cleanAll(s string) string {
	// QuickSpanString answers for nearly every text without the
	// allocation IsNormalString makes.
	if norm.NFC.QuickSpanString(s) < len(s) && !norm.NFC.IsNormalString(s) {
		s = norm.NFC.String(s)
	}
	return strings.Map(func(c rune) rune {
		switch {
		case c == '\n':
			return c
		case c == '\t':
			return ' '
		case !printable(c):
			return -1
		case !w.fonts.has(c) && w.r.fallbackFor(c) == nil:
			if !containsRune(w.missing, c) {
				w.missing = append(w.missing, c)
			}
			return replacement
		}
		return c
	}, s)
}

// isPlainASCII reports whether s is printable ASCII and line breaks only,
// which every font draws and clean leaves as it is.
func isPlainASCII(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < ' ' && c != '\n') || c > '~' {
			return false
		}
	}
	return true
}

// wrap breaks s into lines no wider than width in style st: at spaces
// where it can, inside a word where one word is wider than a line. Line
// breaks in s are kept; runs of spaces collapse. Empty text has no lines.
func (w *writer) wrap(s string, st style, width float64) []string {
	return w.wrapSpec(s, w.spec(st), width)
}

// wrapSpec is wrap for a spec.
func (w *writer) wrapSpec(s string, sp spec, width float64) []string {
	s = strings.TrimSpace(w.clean(s))
	if s == "" {
		return nil
	}
	if !strings.ContainsAny(s, "\n") && w.measure(s, sp) <= width && !strings.Contains(s, "  ") {
		one := w.lineBlocks.take(1)
		one[0] = s
		return one
	}
	space := w.measure(" ", sp)
	lines := w.wrapLines[:0]
	// line is the line being filled; buf holds it once it has two words
	// or more, joined by single spaces.
	buf := w.wrapBuf
	for para := range strings.SplitSeq(s, "\n") {
		line, lineW, joined := "", 0.0, false
		end := func() string {
			if joined {
				return string(buf)
			}
			return line
		}
		for word := range strings.FieldsSeq(para) {
			wordW := w.measure(word, sp)
			if line != "" && lineW+space+wordW <= width {
				if !joined {
					buf, joined = append(buf[:0], line...), true
				}
				buf = append(append(buf, ' '), word...)
				lineW += space + wordW
				continue
			}
			if line != "" {
				lines = append(lines, end())
			}
			line, lineW, joined = word, wordW, false
			if wordW > width {
				pieces := w.breakWord(word, sp, width)
				lines = append(lines, pieces[:len(pieces)-1]...)
				line = pieces[len(pieces)-1]
				lineW = w.measure(line, sp)
			}
		}
		lines = append(lines, end())
	}
	w.wrapLines, w.wrapBuf = lines, buf
	return append(w.lineBlocks.take(len(lines))[:0], lines...)
}

// scratch is what a writer's layout allocates for itself, handed from
// one document to the next (scratches) once the first has finished.
type scratch struct {
	// lineBlocks holds the lines wrapSpec returns, spanBlocks the spans
	// of table cells, cellBlocks the cells of table rows.
	lineBlocks blocks[string]
	spanBlocks blocks[span]
	cellBlocks blocks[[]span]
	// wrapLines and wrapBuf are wrapSpec's: the lines of the text it
	// wraps, and the line it fills.
	wrapLines []string
	wrapBuf   []byte
}

// scratches keeps the scratch of finished documents.
var scratches = sync.Pool{New: func() any { return new(scratch) }}

// reset readies s for another document, keeping no reference to this
// one's text.
func (s *scratch) reset() {
	s.lineBlocks.reset()
	s.spanBlocks.reset()
	s.cellBlocks.reset()
	clear(s.wrapLines)
	s.wrapLines = s.wrapLines[:0]
}

// blockSize is how many elements blocks allocates at a time.
const blockSize = 64

// keptBlocks is the most arrays of blockSize a blocks keeps for the
// next document: a 10-line invoice uses one to four of each kind.
const keptBlocks = 8

// blocks hands out short slices cut from arrays of blockSize elements,
// where a document would make a few hundred small allocations: the lines
// of its texts, most of them one, and the spans and cells of its tables.
// A slice's capacity is its length, so appending to it copies it, and no
// array is handed out twice before reset.
type blocks[T any] struct {
	free []T
	// chunks are the arrays cut from since reset, the first used of
	// them, and then those kept for reuse.
	chunks [][]T
	used   int
}

// take returns a slice of n zero values.
func (b *blocks[T]) take(n int) []T {
	if n > cap(b.free)-len(b.free) {
		if n > blockSize {
			return make([]T, n)
		}
		if b.used == len(b.chunks) {
			b.chunks = append(b.chunks, make([]T, 0, blockSize))
		}
		b.free = b.chunks[b.used][:0]
		b.used++
	}
	start := len(b.free)
	b.free = b.free[:start+n]
	return b.free[start : start+n : start+n]
}

// reset keeps up to keptBlocks of the arrays handed out to hand out
// again, zeroed, so that they keep nothing of the document alive.
func (b *blocks[T]) reset() {
	for _, c := range b.chunks[:min(b.used, keptBlocks)] {
		clear(c[:cap(c)])
	}
	if len(b.chunks) > keptBlocks {
		clear(b.chunks[keptBlocks:])
		b.chunks = b.chunks[:keptBlocks]
	}
	b.free, b.used = nil, 0
}

// breakWord cuts word into pieces no wider than width, after a hyphen,
// slash or other separator where one is close enough to the edge, else
// between any two characters. A single character wider than width is a
// piece of its own.
func (w *writer) breakWord(word string, sp spec, width float64) []string {
	var pieces []string
	start, used := 0, 0.0
	// soft is where the current piece may break after a separator, and
	// softUsed its width up to there; soft <= start means nowhere.
	soft, softUsed := 0, 0.0
	for i, r := range word {
		rw := w.measure(string(r), sp)
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

// oneLine returns the first line of s wrapped to width, for places with
// room for one line only.
func (w *writer) oneLine(s string, st style, width float64) string {
	if l := w.wrap(s, st, width); len(l) > 0 {
		return l[0]
	}
	return ""
}

// text draws one clean line in style st, aligned in the box that starts
// at x and is width wide, with the top of the line at y.
func (w *writer) text(s string, st style, x, y, width float64, a align) {
	w.textSpec(s, w.spec(st), x, y, width, a)
}

// textSpec is text for a spec.
func (w *writer) textSpec(s string, sp spec, x, y, width float64, a align) {
	if s == "" || w.err != nil {
		return
	}
	switch a {
	case alignRight:
		x += width - w.measure(s, sp)
	case alignCenter:
		x += (width - w.measure(s, sp)) / 2
	}
	own := w.face(sp)
	if len(w.r.fallback) == 0 || isPlainASCII(s) {
		w.use(sp, own)
		w.pdf.SetXY(x, y+sp.baseline())
		w.fail(w.pdf.Text(s))
		return
	}
	// Runs of characters in one font, each set where the one before
	// ends, on the same baseline.
	start, cur := 0, (*face)(nil)
	flush := func(end int) {
		if end > start && cur != nil {
			run := s[start:end]
			w.use(sp, cur)
			w.pdf.SetXY(x, y+sp.baseline())
			w.fail(w.pdf.Text(run))
			x += w.measure(run, sp)
		}
		start = end
	}
	for i, c := range s {
		if f := w.faceFor(sp, c); f != cur {
			flush(i)
			cur = f
		}
	}
	flush(len(s))
}

// lines draws lines in style st from y down and returns their height.
func (w *writer) lines(lines []string, st style, x, y, width float64, a align) float64 {
	lh := w.lineHeight(st)
	for i, l := range lines {
		w.text(l, st, x, y+float64(i)*lh, width, a)
	}
	return float64(len(lines)) * lh
}

// para wraps s to width, draws it and returns its height.
func (w *writer) para(s string, st style, x, y, width float64, a align) float64 {
	return w.lines(w.wrap(s, st, width), st, x, y, width, a)
}

// linesHeight is the height of lines in style st.
func (w *writer) linesHeight(lines []string, st style) float64 {
	return float64(len(lines)) * w.lineHeight(st)
}

// fill paints a rectangle.
func (w *writer) fill(x, y, width, height float64, c rgb) {
	if w.err != nil {
		return
	}
	w.pdf.SetFillColor(c.split())
	w.pdf.RectFromUpperLeftWithStyle(x, y, width, height, "F")
}

// rule is how a line is stroked.
type rule struct {
	width float64
	color rgb
}

// hline draws a horizontal rule. It sets the stroke only when it changes,
// since a table draws hundreds of identical rules.
func (w *writer) hline(x1, x2, y, thickness float64, c rgb) {
	if w.err != nil {
		return
	}
	if r := (rule{thickness, c}); !w.strokeSet || w.stroke != r {
		w.pdf.SetStrokeColor(c.split())
		w.pdf.SetLineWidth(thickness)
		w.stroke, w.strokeSet = r, true
	}
	w.pdf.Line(x1, y, x2, y)
}

// pageChanged forgets the text style and stroke, which every page's
// content stream starts without.
func (w *writer) pageChanged() {
	w.activeSet, w.strokeSet = false, false
}

// link makes the box at x, y (its top left) clickable when target is a
// web address.
func (w *writer) link(target string, x, y, width, height float64) {
	if w.err == nil && isWebURL(target) {
		w.pdf.AddExternalLink(target, x, y, width, height)
	}
}

// newPage starts a page: the status stamp, and on every page after the
// first a running header naming the seller and the invoice.
func (w *writer) newPage() {
	if w.err != nil {
		return
	}
	w.pdf.AddPage()
	w.pageChanged()
	w.y = w.top
	w.stamp()
	if w.pdf.GetNumberOfPages() == 1 {
		return
	}
	st, half := styleSmall, w.contentW/2
	w.text(w.oneLine(w.doc.Seller.Name, st, half), st, w.left, w.y, half, alignLeft)
	ref := strings.TrimSpace(w.lb.title + " " + w.inv.Number)
	w.text(w.oneLine(ref, st, half), st, w.left+half, w.y, half, alignRight)
	w.y += w.lineHeight(st) + 2
	w.hline(w.left, w.right, w.y, 0.5, ruleColor)
	w.y += 12
}

// continuationTop is where content starts on pages after the first,
// below the running header that newPage draws.
func (w *writer) continuationTop() float64 { return w.top + w.lineHeight(styleSmall) + 14 }

// status returns the word stamped on the invoice and its colours (the
// stamp's pale one and the badge's strong one), or "" for an open
// invoice.
func (w *writer) status() (word string, pale, strong rgb) {
	switch w.inv.Status {
	case invoice.StatusDraft:
		return w.lb.draft, 0xEEF0F3, 0xB54708
	case invoice.StatusPaid:
		return w.lb.paidStamp, 0xDCF2E3, 0x1E7B45
	case invoice.StatusVoid:
		return w.lb.void, 0xF9E0E0, 0xB42318
	}
	return "", 0, 0
}

// stamp writes the status word diagonally across the page, under
// everything else, as large as fits.
func (w *writer) stamp() {
	word, pale, _ := w.status()
	if word == "" {
		return
	}
	sp := spec{bold: true, size: 100, color: pale}
	word = w.clean(word)
	if width := w.measure(word, sp); width > 0.7*w.paper.h {
		sp.size *= 0.7 * w.paper.h / width
	}
	width := w.measure(word, sp)
	cx, cy := w.paper.w/2, w.paper.h/2
	w.pdf.Rotate(45, cx, cy)
	w.textSpec(word, sp, cx-width/2, cy-sp.lineHeight()/2, width, alignLeft)
	w.pdf.RotateReset()
}

// room reports whether height fits between w.y and the bottom of the page.
func (w *writer) room(height float64) bool { return w.y+height <= w.bottom }

// ensure starts a new page unless height fits on the current one.
func (w *writer) ensure(height float64) {
	if !w.room(height) {
		w.newPage()
	}
}

// footers writes the invoice number and "Page x of y" at the foot of
// every page, once the page count is known.
func (w *writer) footers() {
	if w.err != nil {
		return
	}
	n := w.pdf.GetNumberOfPages()
	st, half := styleSmall, w.contentW/2
	footerY := w.paper.h - margin + 6
	left := w.oneLine(joinNonEmpty(" · ", strings.TrimSpace(w.lb.title+" "+w.inv.Number), w.doc.Seller.Name), st, half)
	for i := 1; i <= n; i++ {
		if err := w.pdf.SetPage(i); err != nil {
			w.fail(fmt.Errorf("pdf: footer on page %d: %w", i, err))
			return
		}
		w.pageChanged()
		y := footerY
		if i == w.billPage {
			y = w.billTop - billFooterGap
		}
		w.hline(w.left, w.right, y-4, 0.5, ruleColor)
		w.text(left, st, w.left, y, half, alignLeft)
		w.text(fmt.Sprintf(w.lb.page, i, n), st, w.left+half, y, half, alignRight)
	}
}
