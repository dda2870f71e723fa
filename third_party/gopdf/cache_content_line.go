package gopdf

import (
	"io"
)

type cacheContentLine struct {
	pageHeight float64
	x1         float64
	y1         float64
	x2         float64
	y2         float64
	opts       lineOptions
}

func (c *cacheContentLine) write(w io.Writer, protection *PDFProtection) error {
	b := append(scratchFor(w), "q\n"...)
	b = appendGS(b, c.opts.extGStateIndexes)
	b = appendFixed2s(b, c.x1, c.pageHeight-c.y1)
	b = append(b, "m "...)
	b = appendFixed2s(b, c.x2, c.pageHeight-c.y2)
	b = append(b, "l S\nQ\n"...)
	return writeScratch(w, b)
}
