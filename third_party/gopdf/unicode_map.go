package gopdf

import (
	"io"
	"strconv"
)

// UnicodeMap unicode map
type UnicodeMap struct {
	PtrToSubsetFontObj *SubsetFontObj
	//getRoot            func() *GoPdf
	pdfProtection *PDFProtection
}

func (u *UnicodeMap) init(funcGetRoot func() *GoPdf) {
	//u.getRoot = funcGetRoot
}

func (u *UnicodeMap) setProtection(p *PDFProtection) {
	u.pdfProtection = p
}

func (u *UnicodeMap) protection() *PDFProtection {
	return u.pdfProtection
}

// SetPtrToSubsetFontObj set pointer to SubsetFontObj
func (u *UnicodeMap) SetPtrToSubsetFontObj(ptr *SubsetFontObj) {
	u.PtrToSubsetFontObj = ptr
}

func (u *UnicodeMap) getType() string {
	return "Unicode"
}

func (u *UnicodeMap) write(w io.Writer, objID int) error {
	//stream
	//characterToGlyphIndex := u.PtrToSubsetFontObj.CharacterToGlyphIndex
	prefix :=
		"/CIDInit /ProcSet findresource begin\n" +
			"12 dict begin\n" +
			"begincmap\n" +
			"/CIDSystemInfo << /Registry (Adobe)/Ordering (UCS)/Supplement 0>> def\n" +
			"/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
	suffix := "endcmap CMapName currentdict /CMap defineresource pop end end"

	keys := u.PtrToSubsetFontObj.CharacterToGlyphIndex.AllKeys()
	glyphIndexToCharacter := &mapGlyphIndexToCharacter{
		runes:  make([]rune, 0, len(keys)),
		indexs: make([]int, 0, len(keys)),
	}
	lowIndex := 65536
	hiIndex := -1

	for _, k := range keys {
		v, _ := u.PtrToSubsetFontObj.CharacterToGlyphIndex.Val(k)
		index := int(v)
		if index < lowIndex {
			lowIndex = index
		}
		if index > hiIndex {
			hiIndex = index
		}
		//glyphIndexToCharacter[index] = k
		glyphIndexToCharacter.set(index, k)
	}

	buff := GetBuffer()
	defer PutBuffer(buff)

	buff.WriteString(prefix)
	line := make([]byte, 0, 32)
	line = append(line, "1 begincodespacerange\n<"...)
	line = appendHex04(line, lowIndex)
	line = append(line, "><"...)
	line = appendHex04(line, hiIndex)
	line = append(line, ">\nendcodespacerange\n"...)
	line = strconv.AppendInt(line, int64(glyphIndexToCharacter.size()), 10)
	line = append(line, " beginbfrange\n"...)
	buff.Write(line)
	// seen marks the glyphs met so far. A glyph that two characters
	// share maps to the first of them, which runeByIndex finds; the
	// others are at their own position, found without a search.
	var seen [1 << 16 / 64]uint64
	for i, k := range glyphIndexToCharacter.allIndexs() {
		v := glyphIndexToCharacter.runes[i]
		if k < 0 || k >= 1<<16 || seen[k/64]&(1<<(k%64)) != 0 {
			v, _ = glyphIndexToCharacter.runeByIndex(k)
		} else {
			seen[k/64] |= 1 << (k % 64)
		}
		line = append(line[:0], '<')
		line = appendGlyphHex(line, uint(k))
		line = append(line, "><"...)
		line = appendGlyphHex(line, uint(k))
		line = append(line, "><"...)
		line = appendGlyphHex(line, uint(v))
		line = append(line, ">\n"...)
		buff.Write(line)
	}
	buff.WriteString("endbfrange\n")
	buff.WriteString(suffix)
	buff.WriteString("\n")

	line = append(line[:0], "<<\n/Length "...)
	line = strconv.AppendInt(line, int64(buff.Len()), 10)
	line = append(line, "\n>>\nstream\n"...)
	w.Write(line)
	if u.protection() != nil {
		tmp, err := rc4Cip(u.protection().objectkey(objID), buff.Bytes())
		if err != nil {
			return err
		}
		w.Write(tmp)
		//streambuff.WriteString("\n")
	} else {
		buff.WriteTo(w)
	}
	io.WriteString(w, "endstream\n")

	return nil
}

type mapGlyphIndexToCharacter struct {
	runes  []rune
	indexs []int
}

func newMapGlyphIndexToCharacter() *mapGlyphIndexToCharacter {
	var m mapGlyphIndexToCharacter
	return &m
}

func (m *mapGlyphIndexToCharacter) set(index int, r rune) {
	m.runes = append(m.runes, r)
	m.indexs = append(m.indexs, index)
}

func (m *mapGlyphIndexToCharacter) size() int {
	return len(m.indexs)
}

func (m *mapGlyphIndexToCharacter) allIndexs() []int {
	return m.indexs
}

func (m *mapGlyphIndexToCharacter) runeByIndex(index int) (rune, bool) {
	var r rune
	ok := false
	for i, idx := range m.indexs {
		if idx == index {
			r = m.runes[i]
			ok = true
			break
		}
	}
	return r, ok
}
