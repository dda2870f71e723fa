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
	body := u.PtrToSubsetFontObj.maps().toUnicode
	line := append(objectText(w), "<<\n/Length "...)
	line = strconv.AppendInt(line, int64(len(body)), 10)
	line = append(line, "\n>>\nstream\n"...)
	if _, err := w.Write(line); err != nil {
		return err
	}
	if u.protection() != nil {
		tmp, err := rc4Cip(u.protection().objectkey(objID), body)
		if err != nil {
			return err
		}
		body = tmp
	}
	w.Write(body)
	_, err := io.WriteString(w, "endstream\n")
	return err
}
