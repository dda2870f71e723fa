package gopdf

import (
	"io"
)

// CIDFontObj is a CID-keyed font.
// cf. https://www.adobe.com/content/dam/acom/en/devnet/font/pdfs/5014.CIDFont_Spec.pdf
type CIDFontObj struct {
	PtrToSubsetFontObj        *SubsetFontObj
	indexObjSubfontDescriptor int
}

func (ci *CIDFontObj) init(funcGetRoot func() *GoPdf) {
}

// SetIndexObjSubfontDescriptor set  indexObjSubfontDescriptor
func (ci *CIDFontObj) SetIndexObjSubfontDescriptor(index int) {
	ci.indexObjSubfontDescriptor = index
}

func (ci *CIDFontObj) getType() string {
	return "CIDFont"
}

func (ci *CIDFontObj) write(w io.Writer, objID int) error {
	ws := objectText(w)
	ws = append(ws, "<<\n/BaseFont /"...)
	ws = append(ws, CreateEmbeddedFontSubsetName(ci.PtrToSubsetFontObj.GetFamily())...)
	ws = append(ws, "\n/CIDSystemInfo\n<<\n  /Ordering (Identity)\n  /Registry (Adobe)\n  /Supplement 0\n>>\n/FontDescriptor "...)
	ws = appendRef(ws, ci.indexObjSubfontDescriptor+1) //TODO fix
	ws = append(ws, "\n/Subtype /CIDFontType2\n/Type /Font\n/W ["...)
	ws = append(ws, ci.PtrToSubsetFontObj.maps().widths...)
	ws = append(ws, "]\n>>\n"...)
	_, err := w.Write(ws)
	return err
}

// SetPtrToSubsetFontObj set PtrToSubsetFontObj
func (ci *CIDFontObj) SetPtrToSubsetFontObj(ptr *SubsetFontObj) {
	ci.PtrToSubsetFontObj = ptr
}
