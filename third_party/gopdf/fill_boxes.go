package gopdf

import (
	"io"
	"strconv"
)

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

// GridRect is a rectangle of cells of a grid: the column and row of its
// top left cell, and its width and height in cells.
type GridRect struct {
	X, Y, W, H int
}

// FillGrid fills rects, cells of a grid whose top left corner is at left,
// top and whose cells are cell wide and high (all in the document's
// units), in the current fill colour as one path. The path is drawn in
// the grid's own coordinates, one "cm" operator mapping them onto the
// page, so that a rectangle is a few small integers: a QR code takes
// less than half the bytes FillBoxes takes, and no coordinate is rounded.
// FillGrid does not keep rects.
func (gp *GoPdf) FillGrid(left, top, cell float64, rects []GridRect) {
	if len(rects) == 0 {
		return
	}
	right, bottom := left+cell, top+cell
	gp.UnitsToPointsVar(&left, &top, &right, &bottom)
	cell = right - left
	b := make([]byte, 0, 48+14*len(rects))
	b = append(b, "q\n"...)
	// y grows downwards in the grid, as rows are numbered.
	b = appendReal(b, cell)
	b = append(b, " 0 0 "...)
	b = appendReal(b, -cell)
	b = append(b, ' ')
	b = appendReal(b, left)
	b = append(b, ' ')
	b = appendReal(b, gp.curr.pageSize.H-top)
	b = append(b, " cm\n"...)
	for _, r := range rects {
		b = strconv.AppendInt(b, int64(r.X), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.Y), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.W), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.H), 10)
		b = append(b, " re\n"...)
	}
	b = append(b, "f\nQ\n"...)
	gp.getContent().listCache.append(&cacheContentGrid{content: b})
}

// cacheContentGrid is the content FillGrid writes, formatted.
type cacheContentGrid struct {
	content []byte
}

func (c *cacheContentGrid) write(w io.Writer, protection *PDFProtection) error {
	_, err := w.Write(c.content)
	return err
}

// appendReal appends f with four decimals, less its trailing zeros: a
// grid's cell size is a fraction that two decimals would round by up to
// half a hundredth of a point per cell, a tenth of a point across a QR
// code.
func appendReal(b []byte, f float64) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', 4, 64)
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	if b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	if string(b[start:]) == "-0" {
		b = append(b[:start], '0')
	}
	return b
}
