package gopdf

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestFillMask draws a mask of 10 × 3 cells, 10 pt each, on a page and
// reads the page back as pdftoppm draws it at 72 dpi, a pixel a point:
// every cell the mask marks, and only those, is black, in its place
// from the top left corner given. The mask's second byte of a row holds
// the last two cells and six bits past the grid, set, which must not
// show.
func TestFillMask(t *testing.T) {
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Skip("pdftoppm is not installed")
	}
	const left, top, cell, cols, rows = 20, 30, 10, 10, 3
	mask := []byte{
		0b10000000, 0b01111111,
		0b01010101, 0b10111111,
		0b11111111, 0b00111111,
	}
	var gp GoPdf
	gp.Start(Config{PageSize: Rect{W: 200, H: 100}, Unit: UnitPT})
	gp.AddPage()
	gp.SetFillColor(0, 0, 0)
	gp.FillMask(left, top, cell, cols, rows, mask)
	dir := t.TempDir()
	if err := gp.WritePdf(filepath.Join(dir, "mask.pdf")); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftoppm", "-r", "72", "-gray", "-png", "-singlefile",
		filepath.Join(dir, "mask.pdf"), filepath.Join(dir, "mask")).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "mask.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	dark := func(x, y int) bool {
		gray, _, _, _ := img.At(x, y).RGBA()
		return gray < 0x8000
	}
	// Every cell of the grid and a cell's width around it.
	for row := -1; row <= rows; row++ {
		for col := -1; col <= cols+6; col++ {
			want := row >= 0 && row < rows && col >= 0 && col < cols &&
				mask[row*2+col/8]&(0x80>>(col%8)) != 0
			x, y := left+col*cell+cell/2, top+row*cell+cell/2
			if got := dark(x, y); got != want {
				t.Errorf("cell %d,%d (pixel %d,%d): dark %v, want %v", col, row, x, y, got, want)
			}
		}
	}
	// The edges of the filled cell at the top left.
	for _, p := range []struct {
		x, y int
		want bool
	}{{left, top, true}, {left - 1, top, false}, {left, top - 1, false}, {left + cell - 1, top + cell - 1, true}, {left + cell, top, false}} {
		if got := dark(p.x, p.y); got != p.want {
			t.Errorf("pixel %d,%d: dark %v, want %v", p.x, p.y, got, p.want)
		}
	}
}

func TestAppendReal(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{2.27027027, "2.2703"}, {-2.27027027, "-2.2703"}, {42.52, "42.52"}, {741.89, "741.89"}, {10, "10"},
		{0, "0"}, {-0.00001, "0"}, {100.5, "100.5"}, {0.00004, "0"},
	} {
		if got := string(appendReal([]byte("x "), c.f)); got != "x "+c.want {
			t.Errorf("appendReal(%v) = %q, want %q", c.f, got, "x "+c.want)
		}
	}
}

// TestAppendGlyphString reads every glyph id back from the literal string
// appendGlyphString writes, by the rules of PDF literal strings: a
// backslash escapes the next character, \r is a carriage return, and an
// unescaped carriage return would read as a line feed.
func TestAppendGlyphString(t *testing.T) {
	for g := range uint(0x10000) {
		s := appendGlyphString(nil, g)
		var got []byte
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == '\\':
				i++
				if s[i] == 'r' {
					got = append(got, '\r')
				} else {
					got = append(got, s[i])
				}
			case c == '(' || c == ')' || c == '\r':
				t.Fatalf("glyph %04X: unescaped %q in %q", g, c, s)
			default:
				got = append(got, c)
			}
		}
		if want := []byte{byte(g >> 8), byte(g)}; !bytes.Equal(got, want) {
			t.Fatalf("glyph %04X: %q reads %x", g, s, got)
		}
	}
}

// TestScratchWriterTextState checks which items keep the text state a
// text item set, so that the next text item leaves out the font and
// colour: those that change neither, or restore them.
func TestScratchWriterTextState(t *testing.T) {
	black := cacheContentTextColorRGB{}
	for _, c := range []struct {
		item              ICacheContent
		keepFont, keepRGB bool
	}{
		{&cacheContentText{}, true, true},
		{&cacheContentLine{}, true, true},
		{&cacheContentLineWidth{}, true, true},
		{&cacheContentBoxes{}, true, true},
		{&cacheContentMask{}, true, true},
		{&cacheContentColorRGB{colorType: colorTypeStrokeRGB}, true, true},
		{&cacheContentColorRGB{colorType: colorTypeFillRGB}, true, false},
		{&cacheContentRotate{}, false, false},
		{&cacheContentRotate{isReset: true}, false, false},
		{&cacheContentImage{}, false, false},
		{&cacheContentGray{}, false, false},
	} {
		sw := &scratchWriter{textFont: []byte("/F1 8.5 Tf\n"), textColor: black}
		sw.wrote(c.item)
		if keep := len(sw.textFont) > 0; keep != c.keepFont {
			t.Errorf("%T: font kept %v, want %v", c.item, keep, c.keepFont)
		}
		if keep := sw.textColor != nil; keep != c.keepRGB {
			t.Errorf("%T: colour kept %v, want %v", c.item, keep, c.keepRGB)
		}
	}
}
