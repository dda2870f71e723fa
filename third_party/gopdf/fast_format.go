package gopdf

import (
	"io"
	"math"
	"strconv"
	"strings"
)

// The content stream writers below format numbers with strconv into a
// small buffer and hand it over in one write, where fmt formatted each
// number through reflection and wrote each glyph separately. The output
// is byte for byte what the fmt verbs made.

// objectText returns the empty space after what w holds, for an object
// writer to append its text to with strconv and hand to w in one
// Write, as bytes.Buffer.AvailableBuffer does; nil where w offers none.
// The object writers wrote each line with fmt.Fprintf, some fifty a
// document.
func objectText(w io.Writer) []byte {
	if ab, ok := w.(interface{ AvailableBuffer() []byte }); ok {
		return ab.AvailableBuffer()
	}
	return nil
}

// appendRef appends a reference to object id, "id 0 R".
func appendRef(b []byte, id int) []byte {
	return append(strconv.AppendInt(b, int64(id), 10), " 0 R"...)
}

// appendFixed appends f with prec decimals (2 or 3), as fmt's
// "%.<prec>f" does but for the last digit of an exact tie and the sign
// of a value that rounds to zero: f is scaled and rounded half to even,
// then printed as an integer with a decimal point, several times faster
// than exact decimal conversion. Beyond ±1e12 it falls back to strconv.
func appendFixed(b []byte, f float64, prec int) []byte {
	scale := 100.0
	if prec == 3 {
		scale = 1000
	} else if prec != 2 {
		return strconv.AppendFloat(b, f, 'f', prec, 64)
	}
	if math.IsNaN(f) || math.Abs(f) >= 1e12 {
		return strconv.AppendFloat(b, f, 'f', prec, 64)
	}
	n := int64(math.RoundToEven(f * scale))
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	unit := int64(scale)
	b = strconv.AppendInt(b, n/unit, 10)
	b = append(b, '.')
	frac := n % unit
	if prec == 3 {
		b = append(b, byte('0'+frac/100))
		frac %= 100
	}
	return append(b, byte('0'+frac/10), byte('0'+frac%10))
}

// appendFixed2s appends each of fs as "%0.2f", separated by spaces and
// followed by one.
func appendFixed2s(b []byte, fs ...float64) []byte {
	for _, f := range fs {
		b = appendFixed(b, f, 2)
		b = append(b, ' ')
	}
	return b
}

// appendExact2s appends each of fs as "%0.2f" does, exactly, separated
// by spaces and followed by one, for the numbers of the objects.
func appendExact2s(b []byte, fs ...float64) []byte {
	for _, f := range fs {
		b = strconv.AppendFloat(b, f, 'f', 2, 64)
		b = append(b, ' ')
	}
	return b
}

// appendHex04 appends n as "%04X" does, a negative n as a minus and
// three digits.
func appendHex04(b []byte, n int) []byte {
	width := 4
	if n < 0 {
		b = append(b, '-')
		n, width = -n, 3
	}
	var digits [16]byte
	h := strconv.AppendUint(digits[:0], uint64(n), 16)
	for range width - len(h) {
		b = append(b, '0')
	}
	for _, c := range h {
		if c >= 'a' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// appendGlyphHex appends glyph as "%04X".
func appendGlyphHex(b []byte, glyph uint) []byte {
	const digits = "0123456789ABCDEF"
	if glyph > 0xFFFF {
		// TrueType glyph ids are 16 bits; as fmt would, print more unpadded.
		return append(b, strings.ToUpper(strconv.FormatUint(uint64(glyph), 16))...)
	}
	return append(b, digits[glyph>>12&0xF], digits[glyph>>8&0xF], digits[glyph>>4&0xF], digits[glyph&0xF])
}

// appendGlyphString appends glyph, a TrueType glyph id of 16 bits, as
// two bytes of a literal string, big-endian, escaping those that a
// literal string cannot hold as they are: parentheses, backslash, and
// carriage return, which a reader would take for a line feed.
func appendGlyphString(b []byte, glyph uint) []byte {
	for _, c := range [2]byte{byte(glyph >> 8), byte(glyph)} {
		switch c {
		case '(', ')', '\\':
			b = append(b, '\\', c)
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendGS appends the graphics state operators of extGStateIndexes.
func appendGS(b []byte, extGStateIndexes []int) []byte {
	for _, i := range extGStateIndexes {
		b = append(b, "/GS"...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, " gs\n"...)
	}
	return b
}

// appendRGB appends an RGB colour operator, as "%.3f %.3f %.3f %s\n".
func appendRGB(b []byte, r, g, bl uint8, op string) []byte {
	b = appendFixed(b, float64(r)/255, 3)
	b = append(b, ' ')
	b = appendFixed(b, float64(g)/255, 3)
	b = append(b, ' ')
	b = appendFixed(b, float64(bl)/255, 3)
	b = append(b, ' ')
	b = append(b, op...)
	return append(b, '\n')
}

// scratchWriter is the writer content items write to: it lends them one
// buffer to format into, in turn, so that formatting an item allocates
// nothing. An item's bytes are written before the next item formats.
type scratchWriter struct {
	io.Writer
	scratch []byte

	// textFont is the font, size and character spacing operators, as
	// the stream's last text item wrote them, and textColor its fill
	// colour; nil where an item since may have changed them. Text items
	// leave out what is already set: they are part of the graphics state
	// and outlast the text object.
	textFont  []byte
	textColor ICacheColorText
	// spaced is set once a text item of the stream sets a character
	// spacing other than zero. Until then text items leave out "0 Tc":
	// the text state starts with no spacing.
	spaced bool
}

// appendTextFont appends the font, size and character spacing operators
// of a text item, "/F1 8.5 Tf\n" or "/F1 8.5 Tf 0.5 Tc\n", unless they
// are what the stream of sw has already set; the spacing only where it
// is not zero or the stream has set another before.
func appendTextFont(b []byte, sw *scratchWriter, fontIndex int, size, spacing float64) []byte {
	font := len(b)
	b = append(b, "/F"...)
	b = strconv.AppendInt(b, int64(fontIndex), 10)
	b = append(b, ' ')
	b = appendFloatTrim(b, size)
	b = append(b, " Tf"...)
	tf := len(b)
	b = append(b, ' ')
	b = appendFloatTrim(b, spacing)
	zero := string(b[tf+1:]) == "0"
	if zero && sw != nil && !sw.spaced {
		b = b[:tf]
	} else {
		b = append(b, " Tc"...)
		if !zero && sw != nil {
			sw.spaced = true
		}
	}
	b = append(b, '\n')
	if sw != nil {
		if string(sw.textFont) == string(b[font:]) {
			return b[:font]
		}
		sw.textFont = append(sw.textFont[:0], b[font:]...)
	}
	return b
}

// wrote updates what sw knows of the text state after item is written:
// items that change neither the font nor the fill colour, or restore
// them (q … Q), keep it; an item setting the fill colour forgets the
// colour; any other item forgets both.
func (sw *scratchWriter) wrote(item ICacheContent) {
	switch item := item.(type) {
	case *cacheContentText, *cacheContentGlyphs:
	case *cacheContentLine, *cacheContentLineWidth, cacheContentRectangle, *cacheContentRectangle,
		*cacheContentBoxes, *cacheContentMask:
	case *cacheContentColorRGB:
		if item.colorType != colorTypeStrokeRGB {
			sw.textColor = nil
		}
	default:
		sw.textFont, sw.textColor = sw.textFont[:0], nil
	}
}

// scratchFor returns an empty buffer to format into before writing to w:
// w's own when it lends one.
func scratchFor(w io.Writer) []byte {
	if sw, ok := w.(*scratchWriter); ok {
		return sw.scratch[:0]
	}
	return make([]byte, 0, 128)
}

// writeScratch writes b, formatted into scratchFor(w)'s buffer, to w and
// keeps the buffer, grown as it may be, for the next item.
func writeScratch(w io.Writer, b []byte) error {
	if sw, ok := w.(*scratchWriter); ok {
		sw.scratch = b[:0]
	}
	_, err := w.Write(b)
	return err
}
