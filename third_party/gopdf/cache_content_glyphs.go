package gopdf

import (
	"io"
	"strconv"
)

// cacheContentGlyphs is the text item Text makes when the font is set
// without kerning and underline, which is nearly every text: its glyph
// ids are looked up, escaped and measured once, as the text is added,
// where a cacheContentText keeps the text and looks every character up
// again to measure it and again to write it. It writes the same bytes
// as a cacheContentText of the same text would.
type cacheContentGlyphs struct {
	// x and y are where the text starts, y from the foot of the page.
	x, y        float64
	fontSize    float64
	charSpacing float64
	// textColor is written, when the stream has not set it already,
	// only with color set (the text colour mode "color"), as
	// cacheContentText does.
	textColor ICacheColorText
	// glyphs is the body of the literal string of glyph ids.
	glyphs []byte
	// width is the text's advance in thousandths of the font size.
	width          int32
	fontCountIndex int32
	color          bool

	// The rest tell whether a text added next continues this one, as
	// cacheContentText.isSame does.
	fontStyle int32
	setXCount int32
	grayFill  float64
	top       float64
}

// glyphChunk is how many bytes of glyph strings are allocated at once,
// enough for the texts of a page of an invoice.
const glyphChunk = 4096

// glyphsPerAlloc is how many glyph items are allocated at once.
const glyphsPerAlloc = 64

// appendGlyphs adds text, whose characters subset has (AddChars), as a
// glyph item at the current position, or to the last item where it
// continues it, and returns the position after it.
func (l *listCacheContent) appendGlyphs(curr *Current, subset *SubsetFontObj, text string) float64 {
	key := cacheContentGlyphs{
		x:              curr.X,
		y:              curr.pageSize.H - curr.Y,
		fontCountIndex: int32(curr.FontFontCount + 1),
		fontSize:       curr.FontSize,
		charSpacing:    curr.CharSpacing,
		textColor:      curr.textColor(),
		color:          curr.txtColorMode == "color",
		grayFill:       curr.grayFill,
		fontStyle:      int32(curr.FontStyle),
		setXCount:      int32(curr.setXCount),
		top:            curr.Y,
	}
	item, _ := l.last().(*cacheContentGlyphs)
	if item == nil || !item.continuedBy(&key) {
		if len(l.glyphItems) == cap(l.glyphItems) {
			l.glyphItems = make([]cacheContentGlyphs, 0, glyphsPerAlloc)
		}
		l.glyphItems = append(l.glyphItems, key)
		item = &l.glyphItems[len(l.glyphItems)-1]
		l.grow()
		l.caches = append(l.caches, item)
	}

	// At most four bytes a glyph, each of its two bytes escaped.
	if need := 4 * len(text); cap(l.glyphBytes)-len(l.glyphBytes) < need {
		l.glyphBytes = make([]byte, 0, max(glyphChunk, need))
	}
	start := len(l.glyphBytes)
	b := l.glyphBytes
	unitsPerEm := int(subset.ttfp.UnitsPerEm())
	spacing := int32(convertTTFUnit2PDFUnit(int(float64(unitsPerEm)/item.fontSize*item.charSpacing), unitsPerEm))
	width := int32(0)
	for _, r := range text {
		glyph, ok := subset.CharacterToGlyphIndex.Val(r)
		if !ok {
			continue
		}
		b = appendGlyphString(b, glyph)
		width += int32(subset.GlyphIndexToPdfWidth(glyph)) + spacing
	}
	l.glyphBytes = b
	if item.glyphs == nil {
		item.glyphs = b[start:len(b):len(b)]
	} else {
		item.glyphs = append(item.glyphs, b[start:]...)
	}
	item.width += width
	return item.x + float64(item.width)*(item.fontSize/1000.0)
}

// continuedBy reports whether next, an item not yet added, continues
// c: the same font, colour and line, with no SetX in between.
func (c *cacheContentGlyphs) continuedBy(next *cacheContentGlyphs) bool {
	return ((c.textColor == nil && next.textColor == nil) ||
		(c.textColor != nil && c.textColor.equal(next.textColor))) &&
		c.color == next.color &&
		c.grayFill == next.grayFill &&
		c.fontCountIndex == next.fontCountIndex &&
		c.fontSize == next.fontSize &&
		c.fontStyle == next.fontStyle &&
		c.charSpacing == next.charSpacing &&
		c.setXCount == next.setXCount &&
		c.top == next.top
}

func (c *cacheContentGlyphs) write(w io.Writer, protection *PDFProtection) error {
	sw, _ := w.(*scratchWriter)
	b := append(scratchFor(w), "BT\n"...)
	b = appendFixed2s(b, c.x, c.y)
	b = append(b, "TD\n"...)
	font := len(b)
	b = append(b, "/F"...)
	b = strconv.AppendInt(b, int64(c.fontCountIndex), 10)
	b = append(b, ' ')
	b = appendFloatTrim(b, c.fontSize)
	b = append(b, " Tf "...)
	b = appendFloatTrim(b, c.charSpacing)
	b = append(b, " Tc\n"...)
	if sw != nil {
		if string(sw.textFont) == string(b[font:]) {
			b = b[:font]
		} else {
			sw.textFont = append(sw.textFont[:0], b[font:]...)
		}
	}
	if c.color && (sw == nil || sw.textColor == nil || !sw.textColor.equal(c.textColor)) {
		if err := writeScratch(w, b); err != nil {
			return err
		}
		if err := c.textColor.write(w, protection); err != nil {
			return err
		}
		if sw != nil {
			sw.textColor = c.textColor
		}
		b = scratchFor(w)
	}
	b = append(b, "[("...)
	b = append(b, c.glyphs...)
	b = append(b, ")] TJ\nET\n"...)
	return writeScratch(w, b)
}
