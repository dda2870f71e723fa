package gopdf

import "io"

// FillBoxes fills the boxes, given in the document's units from the top
// left of the page, in the current fill colour as one path: a "re"
// operator for each and one fill, where RectFromUpperLeftWithStyle
// writes a saved and restored graphics state and a fill per rectangle.
// A QR code's few hundred rectangles become a tenth of the bytes.
func (gp *GoPdf) FillBoxes(boxes []Box) {
	if len(boxes) == 0 {
		return
	}
	cache := cacheContentBoxes{pageHeight: gp.curr.pageSize.H, boxes: make([]Box, len(boxes))}
	for i, b := range boxes {
		gp.UnitsToPointsVar(&b.Left, &b.Top, &b.Right, &b.Bottom)
		cache.boxes[i] = b
	}
	gp.getContent().listCache.append(&cache)
}

type cacheContentBoxes struct {
	pageHeight float64
	boxes      []Box // in points
}

func (c *cacheContentBoxes) write(w io.Writer, protection *PDFProtection) error {
	b := make([]byte, 0, 8+32*len(c.boxes))
	b = append(b, "q\n"...)
	for _, box := range c.boxes {
		b = appendFixed2s(b, box.Left, c.pageHeight-box.Bottom, box.Right-box.Left, box.Bottom-box.Top)
		b = append(b, "re\n"...)
	}
	b = append(b, "f\nQ\n"...)
	return writeBytes(w, b)
}
