package gopdf

import (
	"slices"
	"strconv"
)

// subsetMaps are the parts of a subset's objects that follow from the
// characters it draws alone: the content of its ToUnicode CMap stream
// and its CIDFont's widths (the inside of the /W array), each character
// in code point order.
type subsetMaps struct {
	toUnicode []byte
	widths    []byte
}

// maps returns the subsetMaps of s's characters. They are made once for
// the same characters of one font and kept with its subsets' streams,
// shared and never changed: a sender's invoices draw mostly the same
// characters, in another order from one invoice to the next, and the
// CMap and widths were a tenth of writing a document out. A font whose
// fixed tables cannot be made has its maps made for each document.
func (s *SubsetFontObj) maps() subsetMaps {
	m := s.CharacterToGlyphIndex
	if s.keptMapsSet && s.keptMapsChars == len(m.Keys) {
		return s.keptMaps
	}
	// The key: a bit for each ASCII character, then the others, sorted,
	// in three bytes each.
	var ascii [16]byte
	var othersBuf [64]rune
	others := othersBuf[:0]
	for c := range m.ascii {
		if m.ascii[c] != 0 {
			ascii[c/8] |= 1 << (c % 8)
		}
	}
	for _, k := range m.Keys {
		if k < 0 || k >= 128 {
			others = append(others, k)
		}
	}
	slices.Sort(others)
	var keyBuf [128]byte
	key := append(keyBuf[:0], ascii[:]...)
	for _, r := range others {
		key = append(key, byte(r>>16), byte(r>>8), byte(r))
	}

	fixed, err := fixedTablesOf(&s.ttfp)
	if err == nil {
		if kept, ok := fixed.maps.get(key); ok {
			s.keptMaps, s.keptMapsChars, s.keptMapsSet = kept, len(m.Keys), true
			return kept
		}
	}
	made := s.makeMaps(others)
	if err == nil {
		fixed.maps.put(string(key), made)
	}
	s.keptMaps, s.keptMapsChars, s.keptMapsSet = made, len(m.Keys), true
	return made
}

// makeMaps makes the subsetMaps of s's characters, others those of them
// beyond ASCII in code point order. A glyph that two characters share
// maps to the first of them each time it is listed.
func (s *SubsetFontObj) makeMaps(others []rune) subsetMaps {
	m := s.CharacterToGlyphIndex
	type char struct {
		r     rune
		glyph uint
	}
	chars := make([]char, 0, len(m.Keys))
	for c, i := range m.ascii {
		if i != 0 {
			chars = append(chars, char{rune(c), m.Vals[i-1]})
		}
	}
	for _, r := range others {
		g, _ := m.Val(r)
		chars = append(chars, char{r, g})
	}
	low, high := 65536, -1
	for _, c := range chars {
		low, high = min(low, int(c.glyph)), max(high, int(c.glyph))
	}

	u := make([]byte, 0, 256+30*len(chars))
	u = append(u, "/CIDInit /ProcSet findresource begin\n"+
		"12 dict begin\n"+
		"begincmap\n"+
		"/CIDSystemInfo << /Registry (Adobe)/Ordering (UCS)/Supplement 0>> def\n"+
		"/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"+
		"1 begincodespacerange\n<"...)
	u = appendHex04(u, low)
	u = append(u, "><"...)
	u = appendHex04(u, high)
	u = append(u, ">\nendcodespacerange\n"...)
	u = strconv.AppendInt(u, int64(len(chars)), 10)
	u = append(u, " beginbfrange\n"...)
	first := make(map[uint]rune, len(chars))
	for _, c := range chars {
		r, ok := first[c.glyph]
		if !ok {
			r = c.r
			first[c.glyph] = r
		}
		u = append(u, '<')
		u = appendGlyphHex(u, c.glyph)
		u = append(u, "><"...)
		u = appendGlyphHex(u, c.glyph)
		u = append(u, "><"...)
		u = appendGlyphHex(u, uint(r))
		u = append(u, ">\n"...)
	}
	u = append(u, "endbfrange\nendcmap CMapName currentdict /CMap defineresource pop end end\n"...)

	// The widths as Fprintf("%d[%d]") wrote them.
	ws := make([]byte, 0, 12*len(chars))
	for _, c := range chars {
		ws = strconv.AppendUint(ws, uint64(c.glyph), 10)
		ws = append(ws, '[')
		ws = strconv.AppendUint(ws, uint64(s.GlyphIndexToPdfWidth(c.glyph)), 10)
		ws = append(ws, ']')
	}
	return subsetMaps{toUnicode: u, widths: ws}
}
