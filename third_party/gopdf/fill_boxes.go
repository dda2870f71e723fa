package gopdf

import "io"

// FillBoxes fills the boxes, given in the document's units from the top
// left of the page, in the current fill colour as one path: a "re"
// operator for each and one fill, where RectFromUpperLeftWithStyle
// writes a saved and restored graphics state and a fill per rectangle.
// A QR code's few hundred rectangles become a tenth of the bytes.
// FillBoxes keeps boxes, converted to points in place: the caller must
// not change them afterwards.
func (gp *GoPdf) FillBoxes(boxes []Box) {
	if len(boxes) == 0 {
		return
	}
	for i := range boxes {
		b := &boxes[i]
		gp.UnitsToPointsVar(&b.Left, &b.Top, &b.Right, &b.Bottom)
	}
	gp.getContent().listCache.append(&cacheContentBoxes{pageHeight: gp.curr.pageSize.H, boxes: boxes})
}

type cacheContentBoxes struct {
	pageHeight float64
	boxes      []Box // in points
}

func (c *cacheContentBoxes) write(w io.Writer, protection *PDFProtection) error {
	b := append(scratchFor(w), "q\n"...)
	for _, box := range c.boxes {
		b = appendFixed2s(b, box.Left, c.pageHeight-box.Bottom, box.Right-box.Left, box.Bottom-box.Top)
		b = append(b, "re\n"...)
	}
	b = append(b, "f\nQ\n"...)
	return writeScratch(w, b)
}
