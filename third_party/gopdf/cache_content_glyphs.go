package gopdf

import (
	"errors"
	"io"
	"sync"
	"unicode/utf8"
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

// glyphMemory hands out a document's glyph items and glyph strings,
// cut from chunks it allocates, or reuses after Release.
type glyphMemory struct {
	// items and bytes are the chunks being filled.
	items []cacheContentGlyphs
	bytes []byte
	// itemChunks and byteChunks are the chunks of the document, in use
	// up to usedItems and usedBytes, and then those kept for reuse.
	itemChunks [][]cacheContentGlyphs
	byteChunks [][]byte
	usedItems  int
	usedBytes  int
}

// The most chunks a glyphMemory keeps for the next document, about
// 100 KB: enough for an invoice of a few pages. A longer document's
// other chunks are left to the garbage collector.
const (
	keptItemChunks = 12
	keptByteChunks = 8
)

// glyphMemories holds the glyph memory of released documents.
var glyphMemories = sync.Pool{New: func() any { return new(glyphMemory) }}

// ErrReleased is returned by WriteTo and the other output methods of a
// document after Release.
var ErrReleased = errors.New("gopdf: document released")

// Release hands the memory of the document's texts, its pages' lists of
// content and its fonts' character maps back for the next document to
// use. The document can be neither changed nor written after it: its
// output methods return ErrReleased. Releasing it again does nothing.
func (gp *GoPdf) Release() {
	if gp.released {
		return
	}
	gp.released = true
	for _, obj := range gp.pdfObjs {
		switch obj := obj.(type) {
		case *ContentObj:
			obj.listCache.release()
		case *SubsetFontObj:
			if m := obj.CharacterToGlyphIndex; m != nil {
				obj.CharacterToGlyphIndex = nil
				m.release()
			}
		}
	}
	m := gp.glyphMem
	if m == nil {
		return
	}
	gp.glyphMem = nil
	m.reset()
	glyphMemories.Put(m)
}

// glyphMemory returns the document's glyph memory, taken from the pool
// at its first text.
func (gp *GoPdf) glyphMemory() *glyphMemory {
	if gp.glyphMem == nil {
		gp.glyphMem = glyphMemories.Get().(*glyphMemory)
	}
	return gp.glyphMem
}

// reset makes every chunk free again, keeping up to the bounds above.
// The items are left as they are, overwritten as they are handed out
// again: what they point at, glyph strings in these chunks and colours,
// is small and bounded.
func (m *glyphMemory) reset() {
	if len(m.itemChunks) > keptItemChunks {
		clear(m.itemChunks[keptItemChunks:])
		m.itemChunks = m.itemChunks[:keptItemChunks]
	}
	if len(m.byteChunks) > keptByteChunks {
		clear(m.byteChunks[keptByteChunks:])
		m.byteChunks = m.byteChunks[:keptByteChunks]
	}
	m.items, m.bytes = nil, nil
	m.usedItems, m.usedBytes = 0, 0
}

// item returns a new item, a copy of key.
func (m *glyphMemory) item(key *cacheContentGlyphs) *cacheContentGlyphs {
	if len(m.items) == cap(m.items) {
		if m.usedItems == len(m.itemChunks) {
			m.itemChunks = append(m.itemChunks, make([]cacheContentGlyphs, 0, glyphsPerAlloc))
		}
		m.items = m.itemChunks[m.usedItems][:0]
		m.usedItems++
	}
	m.items = append(m.items, *key)
	return &m.items[len(m.items)-1]
}

// room returns a buffer with room for need more bytes of glyph
// strings: the chunk being filled, or a new one, or, for more than a
// chunk holds, a buffer of its own, and whether it is one of the
// chunks, to be handed back to keep.
func (m *glyphMemory) room(need int) ([]byte, bool) {
	if cap(m.bytes)-len(m.bytes) >= need {
		return m.bytes, true
	}
	if need > glyphChunk {
		return make([]byte, 0, need), false
	}
	if m.usedBytes == len(m.byteChunks) {
		m.byteChunks = append(m.byteChunks, make([]byte, 0, glyphChunk))
	}
	m.bytes = m.byteChunks[m.usedBytes][:0]
	m.usedBytes++
	return m.bytes, true
}

// appendGlyphs adds text as a glyph item at the current position, or to
// the last item where it continues it, and returns the position after
// it. Unless added is set, which says that subset has every character of
// text (AddChars), it adds those subset lacks, as AddChars does, where it
// meets one: most texts of a document have only characters met before.
func (l *listCacheContent) appendGlyphs(m *glyphMemory, curr *Current, subset *SubsetFontObj, text string, added bool) (float64, error) {
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

	// At most four bytes a glyph, each of its two bytes escaped.
	b, chunk := m.room(4 * len(text))
	start := len(b)
	unitsPerEm := int(subset.ttfp.UnitsPerEm())
	spacing := int32(convertTTFUnit2PDFUnit(int(float64(unitsPerEm)/key.fontSize*key.charSpacing), unitsPerEm))
	width := int32(0)
	for _, r := range text {
		glyph, ok := subset.CharacterToGlyphIndex.Val(r)
		if !ok || r == utf8.RuneError {
			if added {
				if !ok {
					continue
				}
			} else {
				// A character new to the document, or a byte that is
				// not UTF-8: the text again, as AddChars makes it.
				var err error
				if text, err = subset.AddChars(text); err != nil {
					return curr.X, err
				}
				return l.appendGlyphs(m, curr, subset, text, true)
			}
		}
		b = appendGlyphString(b, glyph)
		width += int32(subset.pdfWidth(glyph)) + spacing
	}
	if chunk {
		m.bytes = b
	}

	item, _ := l.last().(*cacheContentGlyphs)
	if item == nil || !item.continuedBy(&key) {
		item = m.item(&key)
		l.grow()
		l.caches = append(l.caches, item)
	}
	if item.glyphs == nil {
		item.glyphs = b[start:len(b):len(b)]
	} else {
		item.glyphs = append(item.glyphs, b[start:]...)
	}
	item.width += width
	return item.x + float64(item.width)*(item.fontSize/1000.0), nil
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
	b = appendTextFont(b, sw, int(c.fontCountIndex), c.fontSize, c.charSpacing)
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
