package gopdf

import (
	"io"
)

type cacheContentLineWidth struct {
	width float64
}

func (c *cacheContentLineWidth) write(w io.Writer, protection *PDFProtection) error {
	b := appendFixed(scratchFor(w), c.width, 2)
	return writeScratch(w, append(b, " w\n"...))
}
