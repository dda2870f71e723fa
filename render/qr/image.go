package qr

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strconv"
	"strings"

	"github.com/signintech/gopdf"
)

// ParseColor reads "#RRGGBB" (the "#" optional).
func ParseColor(s string) (color.RGBA, error) {
	s = strings.TrimPrefix(s, "#")
	if len(s) != 6 {
		return color.RGBA{}, fmt.Errorf("qr: colour %q is not #RRGGBB", s)
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return color.RGBA{}, fmt.Errorf("qr: colour %q is not #RRGGBB", s)
	}
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 255}, nil
}

// modules is the side of the drawn square in modules, quiet zone included.
func (c *Code) modules() int { return c.size + 2*QuietZone }

// PNG draws the code, quiet zone included, as a size×size PNG.
func (c *Code) PNG(size int, fg, bg color.RGBA) ([]byte, error) {
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{bg, fg})
	n := c.modules()
	for py := range size {
		my := py*n/size - QuietZone
		for px := range size {
			if c.Dark(px*n/size-QuietZone, my) {
				img.SetColorIndex(px, py, 1)
			}
		}
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	return buf.Bytes(), nil
}

func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// SVG draws the code as a size×size SVG of one path.
func (c *Code) SVG(size int, fg, bg color.RGBA) []byte {
	var b bytes.Buffer
	n := c.modules()
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, size, size, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="%s"/><path fill="%s" d="`, n, n, hex(bg), hex(fg))
	for _, r := range c.Rects() {
		fmt.Fprintf(&b, "M%d %dh%dv%dh-%dz", r.X+QuietZone, r.Y+QuietZone, r.W, r.H, r.W)
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes()
}

// PDF draws the code on a one-page PDF size×size points large.
func (c *Code) PDF(size int, fg, bg color.RGBA) ([]byte, error) {
	pdf := &gopdf.GoPdf{}
	side := float64(size)
	pdf.Start(gopdf.Config{PageSize: gopdf.Rect{W: side, H: side}})
	pdf.AddPage()
	pdf.SetFillColor(bg.R, bg.G, bg.B)
	pdf.RectFromUpperLeftWithStyle(0, 0, side, side, "F")
	pdf.SetFillColor(fg.R, fg.G, fg.B)
	m := side / float64(c.modules())
	for _, r := range c.Rects() {
		pdf.RectFromUpperLeftWithStyle(float64(r.X+QuietZone)*m, float64(r.Y+QuietZone)*m, float64(r.W)*m, float64(r.H)*m, "F")
	}
	var buf bytes.Buffer
	if _, err := pdf.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	return buf.Bytes(), nil
}
