package gopdf

import (
	"bytes"
	"testing"
)

// TestFillGrid checks the content FillGrid writes: the grid mapped onto
// the page by one cm, its top left corner at the given point, rows
// downwards, and each rectangle in cells.
func TestFillGrid(t *testing.T) {
	var gp GoPdf
	gp.Start(Config{PageSize: *PageSizeA4, Unit: UnitPT})
	gp.SetNoCompression()
	gp.AddPage()
	gp.FillGrid(42.52, 100, 84.0/37, []GridRect{{0, 0, 7, 1}, {3, 2, 1, 4}})
	var out bytes.Buffer
	if _, err := gp.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	want := "q\n2.2703 0 0 -2.2703 42.52 742 cm\n0 0 7 1 re\n3 2 1 4 re\nf\nQ\n"
	if !bytes.Contains(out.Bytes(), []byte(want)) {
		t.Errorf("page content lacks %q:\n%s", want, out.Bytes())
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
		{&cacheContentGrid{}, true, true},
		{&cacheContentColorRGB{colorType: colorTypeStrokeRGB}, true, true},
		{&cacheContentColorRGB{colorType: colorTypeFillRGB}, true, false},
		{&cacheContentRotate{}, false, false},
		{&cacheContentRotate{isReset: true}, false, false},
		{&cacheContentImage{}, false, false},
		{&cacheContentGray{}, false, false},
	} {
		sw := &scratchWriter{textFont: []byte("/F1 8.5 Tf 0 Tc\n"), textColor: black}
		sw.wrote(c.item)
		if keep := len(sw.textFont) > 0; keep != c.keepFont {
			t.Errorf("%T: font kept %v, want %v", c.item, keep, c.keepFont)
		}
		if keep := sw.textColor != nil; keep != c.keepRGB {
			t.Errorf("%T: colour kept %v, want %v", c.item, keep, c.keepRGB)
		}
	}
}
