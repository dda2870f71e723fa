// Package qr encodes text, such as an invoice's payment link, as a QR code
// and describes the code as a few filled rectangles, so that a PDF or SVG
// can draw it as sharp vector graphics at any size.
package qr

import (
	"errors"
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// QuietZone is the width, in modules, of the light margin that readers
// need around a code. Code does not include it: whoever draws the code
// keeps that much space free around it.
const QuietZone = 4

// ErrEmpty is returned by Encode for empty content.
var ErrEmpty = errors.New("qr: nothing to encode")

// Code is a QR code: a square of dark and light modules.
type Code struct {
	size int
	dark []bool // row by row
}

// Encode returns the QR code for content at error-correction level M
// (15 % of the code may be damaged), the usual level for printed links.
// It fails for empty content and for content too long for a QR code
// (about 2,300 bytes).
func Encode(content string) (*Code, error) {
	if content == "" {
		return nil, ErrEmpty
	}
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	q.DisableBorder = true
	bitmap := q.Bitmap()
	c := &Code{size: len(bitmap), dark: make([]bool, 0, len(bitmap)*len(bitmap))}
	for _, row := range bitmap {
		c.dark = append(c.dark, row...)
	}
	return c, nil
}

// Size is the number of modules along each side, quiet zone excluded.
func (c *Code) Size() int { return c.size }

// Dark reports whether the module in column x of row y is dark. Modules
// outside the code are light.
func (c *Code) Dark(x, y int) bool {
	if x < 0 || y < 0 || x >= c.size || y >= c.size {
		return false
	}
	return c.dark[y*c.size+x]
}

// Rect is a rectangle of dark modules: X and Y are the column and row of
// its top left module, W and H its size in modules.
type Rect struct {
	X, Y, W, H int
}

// Rects covers the dark modules with rectangles that do not overlap: each
// row's runs of dark modules, with a run merged into the one above it when
// both span the same columns. That takes a typical code from about a
// thousand modules to a few hundred rectangles.
func (c *Code) Rects() []Rect {
	var rects []Rect
	// open maps a run's start column to its rectangle in rects while the
	// rectangle still reaches the row above.
	open := make(map[int]int)
	for y := range c.size {
		next := make(map[int]int, len(open))
		for x := 0; x < c.size; {
			if !c.Dark(x, y) {
				x++
				continue
			}
			start := x
			for x < c.size && c.Dark(x, y) {
				x++
			}
			if i, ok := open[start]; ok && rects[i].W == x-start {
				rects[i].H++
				next[start] = i
				continue
			}
			rects = append(rects, Rect{X: start, Y: y, W: x - start, H: 1})
			next[start] = len(rects) - 1
		}
		open = next
	}
	return rects
}
