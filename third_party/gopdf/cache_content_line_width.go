package gopdf

import (
	"io"
)

type cacheContentLineWidth struct {
	width float64
}

func (c *cacheContentLineWidth) write(w io.Writer, protection *PDFProtection) error {
	var buf [32]byte
	b := appendFixed(buf[:0], c.width, 2)
	return writeBytes(w, append(b, " w\n"...))
}
