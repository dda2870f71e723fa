package gopdf

import (
	"bytes"
	"errors"
	"io"
	"strconv"
)

// EntrySelectors entry selectors
var EntrySelectors = []int{
	0, 0, 1, 1, 2, 2,
	2, 2, 3, 3, 3, 3,
	3, 3, 3, 3, 4, 4,
	4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4,
}

// ErrNotSupportShortIndexYet not support none short index yet
var ErrNotSupportShortIndexYet = errors.New("not support none short index yet")

// PdfDictionaryObj pdf dictionary object
type PdfDictionaryObj struct {
	PtrToSubsetFontObj *SubsetFontObj
	//getRoot            func() *GoPdf
	pdfProtection *PDFProtection
}

func (p *PdfDictionaryObj) init(funcGetRoot func() *GoPdf) {
	//p.getRoot = funcGetRoot
}

func (p *PdfDictionaryObj) setProtection(pr *PDFProtection) {
	p.pdfProtection = pr
}

func (p *PdfDictionaryObj) protection() *PDFProtection {
	return p.pdfProtection
}

func (p *PdfDictionaryObj) write(w io.Writer, objID int) error {
	stream, size, err := p.fontStream()
	if err != nil {
		return err
	}
	zbuff := bytes.NewBuffer(stream)

	b := append(objectText(w), "<</Length "...)
	b = strconv.AppendInt(b, int64(zbuff.Len()), 10)
	b = append(b, "\n/Filter /FlateDecode\n/Length1 "...)
	b = strconv.AppendInt(b, int64(size), 10)
	b = append(b, "\n>>\nstream\n"...)
	w.Write(b)
	if p.protection() != nil {
		tmp, err := rc4Cip(p.protection().objectkey(objID), zbuff.Bytes())
		if err != nil {
			return err
		}
		w.Write(tmp)
		//p.buffer.WriteString("\n")
	} else {
		w.Write(zbuff.Bytes())
	}
	io.WriteString(w, "\nendstream\n")

	return nil
}

func (p *PdfDictionaryObj) getType() string {
	return "PdfDictionary"
}

// SetPtrToSubsetFontObj set subsetFontObj pointer
func (p *PdfDictionaryObj) SetPtrToSubsetFontObj(ptr *SubsetFontObj) {
	p.PtrToSubsetFontObj = ptr
}

// distinctInts distinct number in nn ( value in nn must sorted )
func (p *PdfDictionaryObj) distinctInts(nn []int) []int {
	var buff []int
	var prev = -1
	for _, g := range nn {
		if g == prev {
			continue
		}
		buff = append(buff, g)
		prev = g
	}
	return buff
}

func (p *PdfDictionaryObj) completeGlyphClosure(mapOfglyphs *MapOfCharacterToGlyphIndex) []int {
	var glyphArray []int
	//copy
	isContainZero := false
	glyphs := mapOfglyphs.AllVals()
	for _, v := range glyphs {
		glyphArray = append(glyphArray, int(v))
		if v == 0 {
			isContainZero = true
		}
	}
	if !isContainZero {
		glyphArray = append(glyphArray, 0)
	}

	i := 0
	count := len(glyphs)
	for i < count {
		p.AddCompositeGlyphs(&glyphArray, glyphArray[i])
		i++
	}
	return glyphArray
}

// AddCompositeGlyphs add composite glyph
// composite glyph is a Unicode entity that can be defined as a sequence of one or more other characters.
func (p *PdfDictionaryObj) AddCompositeGlyphs(glyphArray *[]int, glyph int) {
	start := p.GetOffset(int(glyph))
	if start == p.GetOffset(int(glyph)+1) {
		return
	}

	offset := start
	ttfp := p.PtrToSubsetFontObj.GetTTFParser()
	fontData := ttfp.FontData()
	numContours, step := ReadShortFromByte(fontData, offset)
	offset += step
	if numContours >= 0 {
		return
	}

	offset += 8
	for {
		flags, step1 := ReadUShortFromByte(fontData, offset)
		offset += step1
		cGlyph, step2 := ReadUShortFromByte(fontData, offset)
		offset += step2
		//check cGlyph is contain in glyphArray?
		glyphContainsKey := false
		for _, g := range *glyphArray {
			if g == int(cGlyph) {
				glyphContainsKey = true
				break
			}
		}
		if !glyphContainsKey {
			*glyphArray = append(*glyphArray, int(cGlyph))
		}

		if (flags & moreComponents) == 0 {
			return
		}
		offsetAppend := 4
		if (flags & arg1and2areWords) == 0 {
			offsetAppend = 2
		}
		if (flags & hasScale) != 0 {
			offsetAppend += 2
		} else if (flags & xAndYScale) != 0 {
			offsetAppend += 4
		}
		if (flags & twoByTwo) != 0 {
			offsetAppend += 8
		}
		offset += offsetAppend
	}
}

const hasScale = 8
const moreComponents = 32
const arg1and2areWords = 1
const xAndYScale = 64
const twoByTwo = 128

// GetOffset get offset from glyf table
func (p *PdfDictionaryObj) GetOffset(glyph int) int {
	ttfp := p.PtrToSubsetFontObj.GetTTFParser()
	glyf := ttfp.GetTables()["glyf"]
	offset := int(glyf.Offset + ttfp.LocaTable[glyph])
	return offset
}

// CheckSum check sum
func CheckSum(data []byte) uint {

	var byte3, byte2, byte1, byte0 uint64
	byte3 = 0
	byte2 = 0
	byte1 = 0
	byte0 = 0
	length := len(data)
	i := 0
	for i < length {
		byte3 += uint64(data[i])
		i++
		byte2 += uint64(data[i])
		i++
		byte1 += uint64(data[i])
		i++
		byte0 += uint64(data[i])
		i++
	}
	//var result uint32
	result := uint32(byte3<<24) + uint32(byte2<<16) + uint32(byte1<<8) + uint32(byte0)
	return uint(result)
}
