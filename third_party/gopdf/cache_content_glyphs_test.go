package gopdf

import (
	"bytes"
	"errors"
	"os"
	"sync"
	"testing"
)

// glyphsTestFont is a TrueType font the tests below draw with.
const glyphsTestFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

// sampleTexts are the texts drawTexts draws unless told others.
var sampleTexts = []string{"Invoice (INV-1001)", "Ţară \\ Größe", "Λογισμικό", "", "Total: 1.130,50 €"}

// drawTexts makes an uncompressed one-page document of texts in two
// colours and sizes, drawn with text, releases it and returns it.
func drawTexts(t *testing.T, text func(gp *GoPdf, s string) error, texts ...string) []byte {
	t.Helper()
	font, err := os.ReadFile(glyphsTestFont)
	if err != nil {
		t.Skipf("no test font: %v", err)
	}
	var gp GoPdf
	gp.Start(Config{PageSize: *PageSizeA4, Unit: UnitPT})
	gp.SetNoCompression()
	if err := gp.AddTTFFontData("sans", font); err != nil {
		t.Fatal(err)
	}
	gp.AddPage()
	if texts == nil {
		texts = sampleTexts
	}
	for i, s := range texts {
		if err := gp.SetFont("sans", "", 8.5+float64(i%2)*3); err != nil {
			t.Fatal(err)
		}
		gp.SetTextColor(uint8(40*i), 0, 0)
		gp.SetXY(40, 40+float64(i)*20)
		if err := text(&gp, s); err != nil {
			t.Fatal(err)
		}
		// A second text continuing the first on its line.
		if err := text(&gp, " +"+s); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := gp.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	gp.Release()
	if _, err := gp.WriteTo(&buf); !errors.Is(err, ErrReleased) {
		t.Errorf("WriteTo after Release: %v, want ErrReleased", err)
	}
	return buf.Bytes()
}

// TestGlyphItems checks that a text drawn as a glyph item, as Text draws
// it, gives the same document as one drawn as a cacheContentText, and
// that a document made with the glyph memory a released one handed back
// is the same again.
func TestGlyphItems(t *testing.T) {
	glyphs := func(gp *GoPdf, s string) error { return gp.Text(s) }
	items := func(gp *GoPdf, s string) error {
		s, err := gp.curr.FontISubset.AddChars(s)
		if err != nil {
			return err
		}
		return gp.getContent().appendTextItem(s)
	}
	want := drawTexts(t, items)
	if got := drawTexts(t, glyphs); !bytes.Equal(got, want) {
		t.Errorf("glyph items give\n%q\nwant\n%q", got, want)
	}
	if got := drawTexts(t, glyphs); !bytes.Equal(got, want) {
		t.Error("a document on released glyph memory differs")
	}
}

// TestAppendTextFont checks the font operators of a run of text items:
// no "0 Tc" until a spacing is set in the stream, and what the stream
// has set already left out.
func TestAppendTextFont(t *testing.T) {
	sw := &scratchWriter{}
	for _, c := range []struct {
		size, spacing float64
		want          string
	}{
		{8.5, 0, "/F1 8.5 Tf\n"},
		{8.5, 0, ""},
		{10, 0, "/F1 10 Tf\n"},
		{10, 0.5, "/F1 10 Tf 0.5 Tc\n"},
		{10, 0.5, ""},
		{10, 0, "/F1 10 Tf 0 Tc\n"},
		{8.5, 0, "/F1 8.5 Tf 0 Tc\n"},
	} {
		if got := string(appendTextFont(nil, sw, 1, c.size, c.spacing)); got != c.want {
			t.Errorf("size %v, spacing %v: %q, want %q", c.size, c.spacing, got, c.want)
		}
	}
	if got := string(appendTextFont(nil, nil, 2, 7, 0)); got != "/F2 7 Tf 0 Tc\n" {
		t.Errorf("without a scratchWriter: %q", got)
	}
}

// TestReleaseReuse checks that a document made with the memory, lists
// and character maps of a released document with other texts is the
// same as one made with none.
func TestReleaseReuse(t *testing.T) {
	glyphs := func(gp *GoPdf, s string) error { return gp.Text(s) }
	glyphMemories, contentLists, glyphIndexMaps = sync.Pool{New: glyphMemories.New}, sync.Pool{}, sync.Pool{}
	fresh := drawTexts(t, glyphs)
	for range 3 {
		drawTexts(t, glyphs, "Ζωή Ξυλουργού", "ACME SRL · Str. Memorandumului 28", "0123456789 xyz")
		if got := drawTexts(t, glyphs); !bytes.Equal(got, fresh) {
			t.Fatal("a document made after another was released differs from one made first")
		}
	}
}

// TestPdfWidths checks the widths a font keeps in thousandths of its
// size against GlyphIndexToPdfWidth for every glyph, and one beyond.
func TestPdfWidths(t *testing.T) {
	font, err := os.ReadFile(glyphsTestFont)
	if err != nil {
		t.Skipf("no test font: %v", err)
	}
	var s SubsetFontObj
	if err := s.SetTTFData(font); err != nil {
		t.Fatal(err)
	}
	if len(s.pdfWidths) != int(s.ttfp.NumberOfHMetrics()) {
		t.Fatalf("%d widths for %d metrics", len(s.pdfWidths), s.ttfp.NumberOfHMetrics())
	}
	for g := range uint(s.ttfp.NumGlyphs()) + 1 {
		if got, want := s.pdfWidth(g), s.GlyphIndexToPdfWidth(g); got != want {
			t.Fatalf("glyph %d: width %d, want %d", g, got, want)
		}
	}
}
