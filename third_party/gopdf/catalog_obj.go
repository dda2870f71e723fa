package gopdf

import (
	"io"
)

// CatalogObj : catalog dictionary
type CatalogObj struct { //impl IObj
	outlinesObjID int
}

func (c *CatalogObj) init(funcGetRoot func() *GoPdf) {
	c.outlinesObjID = -1

}

func (c *CatalogObj) getType() string {
	return "Catalog"
}

func (c *CatalogObj) write(w io.Writer, objID int) error {
	b := objectText(w)
	b = append(b, "<<\n  /Type /"...)
	b = append(b, c.getType()...)
	b = append(b, "\n  /Pages 2 0 R\n"...)
	if c.outlinesObjID >= 0 {
		b = append(b, "  /PageMode /UseOutlines\n  /Outlines "...)
		b = append(appendRef(b, c.outlinesObjID), '\n')
	}
	b = append(b, ">>\n"...)
	_, err := w.Write(b)
	return err
}

func (c *CatalogObj) SetIndexObjOutlines(index int) {
	c.outlinesObjID = index + 1
}
