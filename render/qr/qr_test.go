package qr

import (
	"errors"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
)

// picture draws the code from its rectangles, with scale pixels a module
// and the quiet zone around it, as a reader would see it printed.
func picture(c *Code, scale int) *image.Gray {
	side := (c.Size() + 2*QuietZone) * scale
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for _, r := range c.Rects() {
		for y := (QuietZone + r.Y) * scale; y < (QuietZone+r.Y+r.H)*scale; y++ {
			for x := (QuietZone + r.X) * scale; x < (QuietZone+r.X+r.W)*scale; x++ {
				img.SetGray(x, y, color.Gray{})
			}
		}
	}
	return img
}

// decode reads the QR code in img.
func decode(t testing.TB, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return res.GetText()
}

func TestEncodeDecodes(t *testing.T) {
	t.Parallel()
	for _, content := range []string{
		"https://pay.invoiced.test/i/tok_8f3a9c2e71b44d0c",
		"https://checkout.stripe.com/c/pay/cs_live_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ#fidkdWxOYHwnPyd1blpxYHZxWjA0",
		"x",
		"Plată factura FACT-2026/0042 — 1.190,00 RON",
	} {
		c, err := Encode(content)
		if err != nil {
			t.Fatalf("Encode(%q): %v", content, err)
		}
		if got := decode(t, picture(c, 4)); got != content {
			t.Errorf("decoded %q, want %q", got, content)
		}
	}
}

func TestRectsCoverDarkModulesOnce(t *testing.T) {
	t.Parallel()
	c, err := Encode("https://pay.invoiced.test/i/tok_8f3a9c2e71b44d0c")
	if err != nil {
		t.Fatal(err)
	}
	covered := make([]int, c.Size()*c.Size())
	rects := c.Rects()
	for _, r := range rects {
		for y := r.Y; y < r.Y+r.H; y++ {
			for x := r.X; x < r.X+r.W; x++ {
				covered[y*c.Size()+x]++
			}
		}
	}
	dark := 0
	for y := range c.Size() {
		for x := range c.Size() {
			want := 0
			if c.Dark(x, y) {
				want = 1
				dark++
			}
			if got := covered[y*c.Size()+x]; got != want {
				t.Fatalf("module (%d,%d) covered %d times, want %d", x, y, got, want)
			}
		}
	}
	if len(rects) >= dark/2 {
		t.Errorf("%d rectangles for %d dark modules; merging does not work", len(rects), dark)
	}
	// Version 3 (29 modules) or 4 (33) for a link this long at level M.
	if c.Size() != 29 && c.Size() != 33 {
		t.Errorf("size = %d", c.Size())
	}
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()
	if _, err := Encode(""); !errors.Is(err, ErrEmpty) {
		t.Errorf("Encode(\"\") = %v, want ErrEmpty", err)
	}
	if _, err := Encode(strings.Repeat("x", 5000)); err == nil {
		t.Error("Encode(5000 bytes) succeeded")
	}
	c, _ := Encode("x")
	if c.Dark(-1, 0) || c.Dark(0, c.Size()) {
		t.Error("a module outside the code is dark")
	}
}

func BenchmarkEncode(b *testing.B) {
	for b.Loop() {
		c, err := Encode("https://pay.invoiced.test/i/tok_8f3a9c2e71b44d0c")
		if err != nil {
			b.Fatal(err)
		}
		c.Rects()
	}
}
