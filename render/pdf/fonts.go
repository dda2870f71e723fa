package pdf

import (
	_ "embed"
	"fmt"

	"github.com/signintech/gopdf"
	"github.com/signintech/gopdf/fontmaker/core"
)

// The embedded fonts: DejaVu Sans for invoices, whose license is
// fonts/LICENSE and whose core subsets fonts/core.sh makes from the full
// fonts, and Liberation Sans, unmodified, for the Swiss QR-bill, whose
// guidelines allow only Arial, Frutiger, Helvetica and Liberation Sans
// (SIL Open Font License 1.1, fonts/LICENSE-Liberation).
var (
	//go:embed fonts/DejaVuSans-Core.ttf
	coreRegularTTF []byte
	//go:embed fonts/DejaVuSans-Bold-Core.ttf
	coreBoldTTF []byte
	//go:embed fonts/DejaVuSans.ttf
	fullRegularTTF []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fullBoldTTF []byte
	//go:embed fonts/LiberationSans-Regular.ttf
	billRegularTTF []byte
	//go:embed fonts/LiberationSans-Bold.ttf
	billBoldTTF []byte
)

// replacement is printed for a character that the fonts cannot draw.
const replacement = '\uFFFD'

// denseRunes is how many of the first code points a face keeps widths for
// in a slice rather than a map: up to U+2200 holds all the core fonts'
// letters and punctuation.
const denseRunes = 0x2200

// face is one font: the family it is registered as with gopdf, which is
// also its /BaseFont in the PDF, and the advance width of each character
// it has, in thousandths of the font size, as gopdf writes them in the
// PDF's /W array.
type face struct {
	family string
	ttf    []byte
	// dense holds the widths of characters below denseRunes, -1 for
	// those the font lacks; sparse those above.
	dense  []int16
	sparse map[rune]int16
}

// coreFaces returns the core subsets, unparsed.
func coreFaces() [2]face {
	return [2]face{
		{family: "DejaVuSans", ttf: coreRegularTTF},
		{family: "DejaVuSans-Bold", ttf: coreBoldTTF},
	}
}

// fullFaces returns the full fonts, unparsed.
func fullFaces() [2]face {
	return [2]face{
		{family: "DejaVuSans-Full", ttf: fullRegularTTF},
		{family: "DejaVuSans-Bold-Full", ttf: fullBoldTTF},
	}
}

// billFaces returns Liberation Sans, unparsed.
func billFaces() [2]face {
	return [2]face{
		{family: "LiberationSans", ttf: billRegularTTF},
		{family: "LiberationSans-Bold", ttf: billBoldTTF},
	}
}

// width returns the advance width of c, and false when the font has no
// glyph for it.
func (f *face) width(c rune) (int, bool) {
	if c >= 0 && c < denseRunes {
		w := f.dense[c]
		return int(w), w >= 0
	}
	w, ok := f.sparse[c]
	return int(w), ok
}

// has reports whether the font can draw c.
func (f *face) has(c rune) bool {
	_, ok := f.width(c)
	return ok
}

// parse reads the font's character map and widths.
func (f *face) parse() error {
	var p core.TTFParser
	if err := p.ParseFontData(f.ttf); err != nil {
		return fmt.Errorf("pdf: parse %s: %w", f.family, err)
	}
	widths, perEm := p.Widths(), p.UnitsPerEm()
	if len(widths) == 0 || perEm == 0 {
		return fmt.Errorf("pdf: parse %s: no glyph widths", f.family)
	}
	f.dense = make([]int16, denseRunes)
	for i := range f.dense {
		f.dense[i] = -1
	}
	f.sparse = map[rune]int16{}
	for c, glyph := range p.Chars() {
		if glyph == 0 {
			continue // .notdef: the font has no glyph for c
		}
		// As gopdf's GlyphIndexToPdfWidth: the last width repeats.
		w := int16(widths[min(glyph, uint(len(widths))-1)] * 1000 / perEm)
		if c < denseRunes {
			f.dense[c] = w
		} else {
			f.sparse[rune(c)] = w
		}
	}
	return nil
}

// fontSet is the regular and the bold face that set one document.
type fontSet struct {
	regular, bold face
}

// has reports whether both faces can draw c, so that it prints in any
// style.
func (s *fontSet) has(c rune) bool {
	return s.regular.has(c) && s.bold.has(c)
}

// face returns the bold or the regular face.
func (s *fontSet) face(bold bool) *face {
	if bold {
		return &s.bold
	}
	return &s.regular
}

// loadFontSet parses faces for their metrics and registers them with
// fonts, where every document finds them. Faces that set whole documents
// must have the replacement character; the bill's typeface need not, as
// text it cannot draw is set in the document's.
func loadFontSet(fonts *gopdf.FontContainer, opt gopdf.TtfOption, faces [2]face, needReplacement bool) (*fontSet, error) {
	s := &fontSet{regular: faces[0], bold: faces[1]}
	for _, f := range []*face{&s.regular, &s.bold} {
		if err := f.parse(); err != nil {
			return nil, err
		}
		if err := fonts.AddTTFFontDataWithOption(f.family, f.ttf, opt); err != nil {
			return nil, fmt.Errorf("pdf: parse %s: %w", f.family, err)
		}
		if needReplacement && !f.has(replacement) {
			return nil, fmt.Errorf("pdf: %s has no replacement character", f.family)
		}
	}
	return s, nil
}
