package gopdf

import (
	"io"
	"strconv"

	"github.com/signintech/gopdf/fontmaker/core"
)

// SubfontDescriptorObj pdf subfont descriptorObj object
type SubfontDescriptorObj struct {
	PtrToSubsetFontObj    *SubsetFontObj
	indexObjPdfDictionary int
}

func (s *SubfontDescriptorObj) init(func() *GoPdf) {}

func (s *SubfontDescriptorObj) getType() string {
	return "SubFontDescriptor"
}

func (s *SubfontDescriptorObj) write(w io.Writer, objID int) error {
	ttfp := s.PtrToSubsetFontObj.GetTTFParser()
	//fmt.Printf("-->%d\n", ttfp.UnitsPerEm())
	em := ttfp.UnitsPerEm()
	b := objectText(w)
	b = append(b, "<<\n/Type /FontDescriptor\n/Ascent "...)
	b = strconv.AppendInt(b, int64(DesignUnitsToPdf(ttfp.Ascender(), em)), 10)
	b = append(b, "\n/CapHeight "...)
	b = strconv.AppendInt(b, int64(DesignUnitsToPdf(ttfp.CapHeight(), em)), 10)
	b = append(b, "\n/Descent "...)
	b = strconv.AppendInt(b, int64(DesignUnitsToPdf(ttfp.Descender(), em)), 10)
	b = append(b, "\n/Flags "...)
	b = strconv.AppendInt(b, int64(ttfp.Flag()), 10)
	b = append(b, "\n/FontBBox ["...)
	for i, v := range [...]int{ttfp.XMin(), ttfp.YMin(), ttfp.XMax(), ttfp.YMax()} {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(DesignUnitsToPdf(v, em)), 10)
	}
	b = append(b, "]\n/FontFile2 "...)
	b = appendRef(b, s.indexObjPdfDictionary+1)
	b = append(b, "\n/FontName /"...)
	b = append(b, CreateEmbeddedFontSubsetName(s.PtrToSubsetFontObj.GetFamily())...)
	b = append(b, "\n/ItalicAngle "...)
	b = strconv.AppendInt(b, int64(ttfp.ItalicAngle()), 10)
	b = append(b, "\n/StemV 0\n/XHeight "...)
	b = strconv.AppendInt(b, int64(DesignUnitsToPdf(ttfp.XHeight(), em)), 10)
	b = append(b, "\n>>\n"...)
	_, err := w.Write(b)
	return err
}

// SetIndexObjPdfDictionary set PdfDictionary pointer
func (s *SubfontDescriptorObj) SetIndexObjPdfDictionary(index int) {
	s.indexObjPdfDictionary = index
}

// SetPtrToSubsetFontObj set SubsetFont pointer
func (s *SubfontDescriptorObj) SetPtrToSubsetFontObj(ptr *SubsetFontObj) {
	s.PtrToSubsetFontObj = ptr
}

// DesignUnitsToPdf convert unit
func DesignUnitsToPdf(val int, unitsPerEm uint) int {
	return core.Round(float64(float64(val) * 1000.00 / float64(unitsPerEm)))
}
