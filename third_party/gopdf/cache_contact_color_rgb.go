package gopdf

import (
	"io"
)

const colorTypeStrokeRGB = "RG"

const colorTypeFillRGB = "rg"

type cacheContentColorRGB struct {
	colorType string
	r, g, b   uint8
}

func (c *cacheContentColorRGB) write(w io.Writer, protection *PDFProtection) error {
	var buf [48]byte
	return writeBytes(w, appendRGB(buf[:0], c.r, c.g, c.b, c.colorType))
}
