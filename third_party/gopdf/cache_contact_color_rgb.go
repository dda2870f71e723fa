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
	return writeScratch(w, appendRGB(scratchFor(w), c.r, c.g, c.b, c.colorType))
}
