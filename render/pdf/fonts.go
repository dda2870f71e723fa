package pdf

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/signintech/gopdf"
	"github.com/signintech/gopdf/fontmaker/core"
	"golang.org/x/text/unicode/norm"
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
	// asIsRunes has bit c%64 of word c/64 set for the characters below
	// denseRunes that clean leaves as they are in any text: a line
	// break, and printable characters both faces draw that NFC neither
	// composes with a neighbour nor changes.
	asIsRunes [denseRunes / 64]uint64
}

// asIs reports whether clean leaves text as it is because each of its
// characters is one it leaves as it is anywhere (see asIsRunes): nearly
// every text of an invoice, which it then need not normalise or map.
func (s *fontSet) asIs(text string) bool {
	for i := 0; i < len(text); {
		if c := text[i]; c < utf8.RuneSelf {
			if (c < ' ' && c != '\n') || c > '~' {
				return false
			}
			i++
			continue
		}
		// Bytes that are not UTF-8 decode as U+FFFD, beyond denseRunes.
		c, n := utf8.DecodeRuneInString(text[i:])
		if c >= denseRunes || s.asIsRunes[c/64]&(1<<(c%64)) == 0 {
			return false
		}
		i += n
	}
	return true
}

// findAsIsRunes fills asIsRunes from the faces.
func (s *fontSet) findAsIsRunes() {
	for c := range rune(denseRunes) {
		if c == '\n' || (c != '\t' && printable(c) && s.has(c) && inertNFC(c)) {
			s.asIsRunes[c/64] |= 1 << (c % 64)
		}
	}
}

// inertNFC reports whether NFC leaves c as it is after any character
// that is inert too: c is in NFC and nothing before it composes with it
// or moves past it. (What follows c may, such as a combining accent; such
// a character is not inert.)
func inertNFC(c rune) bool {
	one := string(c)
	return norm.NFC.PropertiesString(one).BoundaryBefore() && norm.NFC.IsNormalString(one)
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
	s.findAsIsRunes()
	return s, nil
}

// ErrFontDir is wrapped by New's error for a fallback font folder that
// cannot be used: missing, without fonts, or with a font gopdf cannot
// embed.
var ErrFontDir = errors.New("pdf: fallback fonts")

// sfnt versions: TrueType outlines, which gopdf embeds, and the two it
// cannot take as they are: a collection, from which the first font is
// taken, and CFF (PostScript) outlines.
var (
	sfntTrueType   = []byte{0, 1, 0, 0}
	sfntCollection = []byte("ttcf")
	sfntCFF        = []byte("OTTO")
)

// loadFallbackFaces reads the fonts in dir, in the order of their file
// names, parses them and registers them with fonts: every .ttf and .otf
// file with TrueType outlines, and the first font of every .ttc
// collection. Other files are ignored. A font with CFF outlines (most
// .otf files, and Noto CJK's .ttc collections) is refused, as are an
// empty or missing folder.
func loadFallbackFaces(fonts *gopdf.FontContainer, opt gopdf.TtfOption, dir string) ([]*face, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFontDir, err)
	}
	var faces []*face
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".ttf" && ext != ".otf" && ext != ".ttc") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrFontDir, err)
		}
		if bytes.HasPrefix(data, sfntCollection) {
			if data, err = firstCollectionFont(data); err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrFontDir, path, err)
			}
		}
		switch {
		case bytes.HasPrefix(data, sfntCFF):
			return nil, fmt.Errorf("%w: %s has CFF (PostScript) outlines, which cannot be embedded; use a font with TrueType outlines, such as Debian's fonts-ipafont-gothic (ipag.ttf) or fonts-droid-fallback (DroidSansFallbackFull.ttf)", ErrFontDir, path)
		case !bytes.HasPrefix(data, sfntTrueType):
			return nil, fmt.Errorf("%w: %s is not a TrueType font", ErrFontDir, path)
		}
		f := &face{family: fallbackFamily(len(faces), e.Name()), ttf: data}
		if err := f.parse(); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrFontDir, path, err)
		}
		if err := fonts.AddTTFFontDataWithOption(f.family, f.ttf, opt); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrFontDir, path, err)
		}
		faces = append(faces, f)
	}
	if len(faces) == 0 {
		return nil, fmt.Errorf("%w: no .ttf, .otf or .ttc font in %s", ErrFontDir, dir)
	}
	return faces, nil
}

// fallbackFamily names the n-th fallback font after its file, with the
// letters and digits a PDF font name may hold.
func fallbackFamily(n int, file string) string {
	name := strings.Map(func(r rune) rune {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return -1
	}, strings.TrimSuffix(file, filepath.Ext(file)))
	return fmt.Sprintf("Fallback%d-%s", n+1, name)
}

// firstCollectionFont returns the first font of a TrueType collection
// (.ttc) as a font file of its own: its table directory, with the
// tables it names copied after it. The tables are left as they are, so
// the font's checksum adjustment no longer holds, which nothing that
// reads it for printing checks.
func firstCollectionFont(ttc []byte) ([]byte, error) {
	be := binary.BigEndian
	if len(ttc) < 16 || be.Uint32(ttc[8:]) == 0 {
		return nil, errors.New("font collection has no fonts")
	}
	off := int(be.Uint32(ttc[12:]))
	if off+12 > len(ttc) {
		return nil, errors.New("font collection is cut short")
	}
	numTables := int(be.Uint16(ttc[off+4:]))
	dir := off + 12
	if dir+16*numTables > len(ttc) {
		return nil, errors.New("font collection is cut short")
	}
	out := bytes.NewBuffer(make([]byte, 0, len(ttc)/2))
	out.Write(ttc[off : off+12])
	records := make([]byte, 16*numTables)
	out.Write(records)
	for i := range numTables {
		rec := ttc[dir+16*i : dir+16*i+16]
		tOff, tLen := int(be.Uint32(rec[8:])), int(be.Uint32(rec[12:]))
		if tOff < 0 || tLen < 0 || tOff+tLen > len(ttc) {
			return nil, fmt.Errorf("font collection table %q is cut short", rec[:4])
		}
		copy(records[16*i:], rec)
		be.PutUint32(records[16*i+8:], uint32(out.Len()))
		out.Write(ttc[tOff : tOff+tLen])
		for out.Len()%4 != 0 {
			out.WriteByte(0)
		}
	}
	b := out.Bytes()
	copy(b[12:], records)
	return b, nil
}

// fallbackFor returns the first fallback font that has c, or nil.
func (r *Renderer) fallbackFor(c rune) *face {
	for _, f := range r.fallback {
		if f.has(c) {
			return f
		}
	}
	return nil
}

// canDraw reports whether some font of the renderer draws c in any
// style: both full DejaVu faces, or a fallback font.
func (r *Renderer) canDraw(c rune) bool {
	return r.full.has(c) || r.fallbackFor(c) != nil
}
