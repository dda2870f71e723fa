package gopdf

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// TestUnicodeMapWrite checks the ToUnicode CMap of a font's characters:
// one range per character in the order the characters were added, and a
// glyph that two characters share mapped to the first of them each time.
func TestUnicodeMapWrite(t *testing.T) {
	m := NewMapOfCharacterToGlyphIndex()
	m.Set('A', 0x24)
	m.Set('B', 0x25)
	m.Set('\u2126', 0x1F0) // OHM SIGN
	m.Set('\u03A9', 0x1F0) // GREEK CAPITAL LETTER OMEGA, the same glyph
	m.Set('€', 0x102)
	u := UnicodeMap{PtrToSubsetFontObj: &SubsetFontObj{CharacterToGlyphIndex: m}}
	var out bytes.Buffer
	if err := u.write(&out, 1); err != nil {
		t.Fatal(err)
	}
	body := "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe)/Ordering (UCS)/Supplement 0>> def\n" +
		"/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n" +
		"1 begincodespacerange\n<0024><01F0>\nendcodespacerange\n" +
		"5 beginbfrange\n" +
		"<0024><0024><0041>\n<0025><0025><0042>\n<01F0><01F0><2126>\n<01F0><01F0><2126>\n<0102><0102><20AC>\n" +
		"endbfrange\nendcmap CMapName currentdict /CMap defineresource pop end end\n"
	want := "<<\n/Length " + strconv.Itoa(len(body)) + "\n>>\nstream\n" + body + "endstream\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(out.String(), "<01F0><01F0><2126>\n<01F0><01F0><2126>") {
		t.Error("the shared glyph does not map to the first character both times")
	}
}
