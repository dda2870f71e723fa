package pdf

import (
	"fmt"
	"testing"

	"github.com/invoiced/invoiced/render/locale"
)

// TestCoreFontsCover checks that the core fonts draw every label, every
// formatted number and currency sign, and the scripts they are cut for,
// so that only text from outside ever needs the full fonts.
func TestCoreFontsCover(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	var text []string
	for _, lang := range []string{"en", "ro", "de", "fr"} {
		text = append(text, fmt.Sprintf("%+v", labelsFor(lang)))
		for _, cur := range []string{"EUR", "USD", "GBP", "JPY", "INR", "KRW", "ILS", "UAH", "TRY", "RUB", "KZT", "NGN", "VND", "PHP"} {
			text = append(text, locale.Money("-1234567.89", cur, lang), locale.Percent("5.5", lang))
		}
	}
	text = append(text,
		"ăâîșțĂÂÎȘȚşţ äöüßÄÖÜ àâæçéèêëïîôœùûüÿÀÇÉÈ ąćęłńóśźż čďěňřšťůž őű ñ ø å",
		"αβγδεζηθικλμνξοπρστυφχψω ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ άέήίόύώ",
		"абвгдежзийклмнопрстуфхцчшщъыьэюя АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ ёіїєґў",
		"Tiếng Việt ẩ ẫ ậ ổ ợ", "–—‘’“”„…•№™→ ﬁﬂ ✓", string(replacement),
	)
	for _, s := range text {
		for _, c := range s {
			if printable(c) && !r.core.has(c) {
				t.Errorf("the core fonts lack %q (%U), from %q", c, c, s)
			}
		}
	}
	// The full fonts have glyphs the core ones leave out.
	if c := 'Հ'; r.core.has(c) || !r.full.has(c) {
		t.Errorf("Armenian %q: core %v, full %v", c, r.core.has(c), r.full.has(c))
	}
}

// TestWidthsMatchGopdf checks the width tables against gopdf's own
// measurement, which decides where the glyphs land.
func TestWidthsMatchGopdf(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	w, err := newWriter(r, sampleDoc(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	w.pdf.AddPage()
	for _, st := range []style{styleBody, styleStrong, styleBigAmount} {
		sp := w.spec(st)
		w.use(sp, w.face(sp))
		for _, s := range []string{"Consultanță în arhitectură", "€2,714.89", "Λογισμικό Программное", "WAVE fiï"} {
			want, err := w.pdf.MeasureTextWidth(s)
			if err != nil {
				t.Fatal(err)
			}
			if got := w.measure(s, sp); fmt.Sprintf("%.4f", got) != fmt.Sprintf("%.4f", want) {
				t.Errorf("width of %q in %+v = %.4f, gopdf says %.4f", s, sp, got, want)
			}
		}
	}
}
