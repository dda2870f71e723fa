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

// FillMask fills the cells of a grid of cols × rows that mask marks, in
// the current fill colour, as one inline image mask scaled onto the
// grid, its top left corner at left, top and its cells cell wide and
// high (all in the document's units). mask holds the rows from the top,
// (cols+7)/8 bytes each, a cell's bit set, the first cell in the most
// significant bit, where it is filled. A QR code is an eighth of a byte
// a module this way, where a path takes a few bytes per rectangle, and
// an image mask is drawn without anti-aliasing at its cells' edges.
// FillMask keeps mask: the caller must not change it afterwards.
func (gp *GoPdf) FillMask(left, top, cell float64, cols, rows int, mask []byte) {
	if cols <= 0 || rows <= 0 || len(mask) < (cols+7)/8*rows {
		return
	}
	right, bottom := left+cell*float64(cols), top+cell*float64(rows)
	gp.UnitsToPointsVar(&left, &top, &right, &bottom)
	gp.getContent().listCache.append(&cacheContentMask{
		left: left, bottom: gp.curr.pageSize.H - bottom, width: right - left, height: bottom - top,
		cols: cols, rows: rows, mask: mask,
	})
}

// cacheContentMask is an image mask FillMask draws: its box in points
// from the bottom left of the page and its cells.
type cacheContentMask struct {
	left, bottom, width, height float64
	cols, rows                  int
	mask                        []byte
}

func (c *cacheContentMask) write(w io.Writer, protection *PDFProtection) error {
	const hexDigits = "0123456789ABCDEF"
	b := append(scratchFor(w), "q\n"...)
	b = appendReal(b, c.width)
	b = append(b, " 0 0 "...)
	b = appendReal(b, c.height)
	b = append(b, ' ')
	b = appendReal(b, c.left)
	b = append(b, ' ')
	b = appendReal(b, c.bottom)
	// The image's first row is drawn at the top of the unit square cm
	// maps onto the box; /D [1 0] paints the set bits, not the clear ones.
	b = append(b, " cm\nBI /IM true /W "...)
	b = strconv.AppendInt(b, int64(c.cols), 10)
	b = append(b, " /H "...)
	b = strconv.AppendInt(b, int64(c.rows), 10)
	b = append(b, " /D [1 0] /F /AHx ID\n"...)
	stride := (c.cols + 7) / 8
	for y := range c.rows {
		for _, v := range c.mask[y*stride : (y+1)*stride] {
			b = append(b, hexDigits[v>>4], hexDigits[v&0xF])
		}
		b = append(b, '\n')
	}
	b = append(b, ">\nEI\nQ\n"...)
	return writeScratch(w, b)
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
