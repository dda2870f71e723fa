package pdf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/invoiced/invoiced/internal/pdftest"
)

// cjkRenderer is shared by the tests that need the fallback fonts.
var cjkRenderer = sync.OnceValues(func() (*Renderer, error) { return New(WithFontDir(pdftest.CJKFontDir)) })

func newCJKRenderer(t testing.TB) *Renderer {
	t.Helper()
	pdftest.RequireCJKFonts(t)
	r, err := cjkRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// cjkDoc is the sample invoice to a Japanese customer, with a line in
// Japanese and one that mixes scripts.
func cjkDoc(t testing.TB) Document {
	doc := sampleDoc(t, 0)
	doc.Invoice.Customer.Name = "株式会社テスト"
	doc.Invoice.Lines[0].Description = "東京オフィス賃料"
	doc.Invoice.Lines[2].Description = "Support for 大阪 office, Q4"
	return doc
}

func TestRenderFallbackFont(t *testing.T) {
	t.Parallel()
	r := newCJKRenderer(t)
	doc := cjkDoc(t)
	pdf := render(t, r, doc)
	qpdfCheck(t, pdf)
	a4, _ := parsePaper("")
	requireInMargins(t, pdf, a4)
	text := pdfText(t, pdf)
	requireInOrder(t, text, "株式会社テスト", "東京オフィス賃料", "Support for 大阪 office, Q4", "Payment details")
	if strings.ContainsRune(text, replacement) {
		t.Errorf("a replacement character is printed:\n%s", text)
	}
	fonts := run(t, pdf, "pdffonts")
	if !strings.Contains(fonts, "Fallback1-ipag") || strings.Contains(fonts, "Fallback2") {
		t.Errorf("the first fallback font alone should set the Japanese text:\n%s", fonts)
	}
	if n := r.glyphMisses.Load(); n != 0 {
		t.Errorf("gopdf met %d characters without a glyph", n)
	}
	// An invoice without such characters does not embed the fallback
	// font.
	if fonts := run(t, render(t, r, sampleDoc(t, 0)), "pdffonts"); strings.Contains(fonts, "Fallback") {
		t.Errorf("a Latin invoice embeds a fallback font:\n%s", fonts)
	}
}

func TestRenderMissingGlyphs(t *testing.T) {
	t.Parallel()
	doc := cjkDoc(t)
	doc.Invoice.Lines[1].Description = "Pizza 🍕"
	_, err := newRenderer(t).Render(doc)
	var ge *GlyphError
	if !errors.As(err, &ge) {
		t.Fatalf("Render(CJK) without fallback fonts = %v, want a *GlyphError", err)
	}
	if string(ge.Runes[:2]) != "株式" || ge.Fields[0] != "customer.name" {
		t.Errorf("GlyphError = %+v, want 株 and 式 in customer.name first", ge)
	}
	for _, want := range []string{`U+682A '株' in customer.name`, "lines[0].description", `U+1F355 '🍕' in lines[1].description`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %s", err, want)
		}
	}
	if err := newRenderer(t).CheckGlyphs(sampleDoc(t, 0)); err != nil {
		t.Errorf("CheckGlyphs(sample) = %v", err)
	}

	// The fallback fonts draw the Japanese, not the emoji.
	_, err = newCJKRenderer(t).Render(doc)
	if !errors.As(err, &ge) || string(ge.Runes) != "🍕" || ge.Fields[0] != "lines[1].description" {
		t.Errorf("Render with fallback fonts = %v, want the emoji alone missing", err)
	}
}

// collection wraps a TrueType font into a collection (.ttc) of one font.
func collection(t *testing.T, ttf []byte) []byte {
	t.Helper()
	be := binary.BigEndian
	font := append([]byte(nil), ttf...)
	for i := range int(be.Uint16(font[4:])) {
		rec := font[12+16*i:]
		be.PutUint32(rec[8:], be.Uint32(rec[8:])+16)
	}
	head := []byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x10")
	return append(head, font...)
}

func TestFontDir(t *testing.T) {
	t.Parallel()
	ttf, err := os.ReadFile(filepath.Join(pdftest.RequireCJKFonts(t), "ipagp.ttf"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T, files map[string][]byte) string {
		dir := t.TempDir()
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	t.Run("collection", func(t *testing.T) {
		t.Parallel()
		r, err := New(WithFontDir(write(t, map[string][]byte{"ipagp.ttc": collection(t, ttf), "README": []byte("not a font")})))
		if err != nil {
			t.Fatal(err)
		}
		requireInOrder(t, pdfText(t, render(t, r, cjkDoc(t))), "株式会社テスト", "東京オフィス賃料")
	})
	for name, tc := range map[string]struct {
		files map[string][]byte
		want  string
	}{
		"missing": {nil, "no such file"},
		"empty":   {map[string][]byte{"notes.txt": []byte("x")}, "no .ttf, .otf or .ttc font"},
		"cff":     {map[string][]byte{"NotoSansCJK.otf": []byte("OTTO\x00\x0a rest of a CFF font")}, "CFF (PostScript) outlines"},
		"cff collection": {map[string][]byte{"NotoSansCJK-Regular.ttc": append([]byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x10"),
			[]byte("OTTO\x00\x00\x00\x00\x00\x00\x00\x00")...)}, "CFF (PostScript) outlines"},
		"not a font": {map[string][]byte{"broken.ttf": []byte("<html>")}, "broken.ttf is not a TrueType font"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "missing")
			if tc.files != nil {
				dir = write(t, tc.files)
			}
			_, err := New(WithFontDir(dir))
			if !errors.Is(err, ErrFontDir) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an ErrFontDir saying %q", err, tc.want)
			}
		})
	}
}

// TestRenderFallbackFontConcurrent renders the same Japanese invoice from
// many goroutines: the fallback fonts are shared read-only, so every PDF
// is the same.
func TestRenderFallbackFontConcurrent(t *testing.T) {
	t.Parallel()
	r := newCJKRenderer(t)
	want := render(t, r, cjkDoc(t))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			pdf, err := r.Render(cjkDoc(t))
			if err != nil || !bytes.Equal(pdf, want) {
				t.Errorf("a concurrent render differs (err %v)", err)
			}
		})
	}
	wg.Wait()
}
