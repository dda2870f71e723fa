package gopdf

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

// mapsTestFont returns a subset of the test font drawing the characters
// of chars, with the glyphs given, in their order.
func mapsTestFont(t *testing.T, chars []rune, glyphs []uint) *SubsetFontObj {
	t.Helper()
	font, err := os.ReadFile(glyphsTestFont)
	if err != nil {
		t.Skipf("no test font: %v", err)
	}
	s := &SubsetFontObj{}
	s.init(func() *GoPdf { return nil })
	if err := s.SetTTFData(font); err != nil {
		t.Fatal(err)
	}
	for i, c := range chars {
		s.CharacterToGlyphIndex.Set(c, glyphs[i])
	}
	return s
}

// TestUnicodeMapWrite checks the ToUnicode CMap of a font's characters:
// one range per character in code point order, and a glyph that two
// characters share mapped to the first of them each time.
func TestUnicodeMapWrite(t *testing.T) {
	s := mapsTestFont(t,
		// OHM SIGN and GREEK CAPITAL LETTER OMEGA share a glyph.
		[]rune{'B', 'A', '\u2126', '\u03A9', '€'},
		[]uint{0x25, 0x24, 0x1F0, 0x1F0, 0x102})
	u := UnicodeMap{PtrToSubsetFontObj: s}
	var out bytes.Buffer
	if err := u.write(&out, 1); err != nil {
		t.Fatal(err)
	}
	body := "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe)/Ordering (UCS)/Supplement 0>> def\n" +
		"/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n" +
		"1 begincodespacerange\n<0024><01F0>\nendcodespacerange\n" +
		"5 beginbfrange\n" +
		"<0024><0024><0041>\n<0025><0025><0042>\n<01F0><01F0><03A9>\n<0102><0102><20AC>\n<01F0><01F0><03A9>\n" +
		"endbfrange\nendcmap CMapName currentdict /CMap defineresource pop end end\n"
	want := "<<\n/Length " + strconv.Itoa(len(body)) + "\n>>\nstream\n" + body + "endstream\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(out.String(), "<01F0><01F0><03A9>\n<0102><0102><20AC>\n<01F0><01F0><03A9>") {
		t.Error("the shared glyph does not map to the first character both times")
	}
}

// TestSubsetMapsKept checks that documents drawing the same characters
// in another order have the same ToUnicode map and widths, which the
// font keeps for them, and that a document with other characters has
// its own.
func TestSubsetMapsKept(t *testing.T) {
	glyphs := func(gp *GoPdf, s string) error { return gp.Text(s) }
	// maps returns a document's ToUnicode ranges and widths.
	maps := func(pdf []byte) string {
		t.Helper()
		s := string(pdf)
		from, to := strings.Index(s, "beginbfrange"), strings.Index(s, "endbfrange")
		w := strings.Index(s, "/W [")
		if from < 0 || to < from || w < 0 {
			t.Fatalf("no ToUnicode map or widths in\n%s", s)
		}
		return s[from:to] + s[w:w+strings.Index(s[w:], "]\n")]
	}
	first := maps(drawTexts(t, glyphs, "Invoice 2026-11 café", "Total"))
	again := maps(drawTexts(t, glyphs, "Total 1062-", "café Invoice"))
	if again != first {
		t.Errorf("the same characters in another order give\n%s\nthen\n%s", first, again)
	}
	other := maps(drawTexts(t, glyphs, "Invoice 2026-11 cafe", "Totál"))
	if other == first {
		t.Fatal("a document with other characters has the first one's maps")
	}
	for _, want := range []string{"><00E1>\n", "><0065>\n"} {
		if !strings.Contains(other, want) {
			t.Errorf("the other document's map has no %q:\n%s", want, other)
		}
	}
	if strings.Contains(other, "><00E9>\n") {
		t.Errorf("the other document's map has the first one's é:\n%s", other)
	}
}
