package gopdf

import (
	"io"
)

type cacheContentTextColorRGB struct {
	r, g, b uint8
}

func (c cacheContentTextColorRGB) write(w io.Writer, protection *PDFProtection) error {
	return writeScratch(w, appendRGB(scratchFor(w), c.r, c.g, c.b, colorTypeFillRGB))
}

func (c cacheContentTextColorRGB) equal(obj ICacheColorText) bool {
	rgb, ok := obj.(cacheContentTextColorRGB)
	if !ok {
		return false
	}

	return c.r == rgb.r && c.g == rgb.g && c.b == rgb.b
}
