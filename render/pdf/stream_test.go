package pdf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/invoice"
)

// pdfStream is one stream object of a PDF as written: its dictionary
// and its data, still encoded.
type pdfStream struct {
	dict string
	data []byte
}

var streamLength = regexp.MustCompile(`/Length (\d+)`)

// streams returns the stream objects of pdf, found by their dictionaries'
// /Length (every stream gopdf writes states it directly).
func streams(t *testing.T, pdf []byte) []pdfStream {
	t.Helper()
	var out []pdfStream
	rest := pdf
	for {
		i := bytes.Index(rest, []byte(">>\nstream\n"))
		if i < 0 {
			return out
		}
		start := bytes.LastIndex(rest[:i], []byte("<<"))
		dict := string(rest[start:i])
		m := streamLength.FindStringSubmatch(dict)
		if m == nil {
			t.Fatalf("stream without a direct /Length: %q", dict)
		}
		n, _ := strconv.Atoi(m[1])
		data := rest[i+len(">>\nstream\n"):]
		out = append(out, pdfStream{dict: dict, data: data[:n]})
		rest = data[n:]
	}
}

// TestEmbeddedStreams reads back every compressed stream of a rendered
// invoice with Go's zlib reader, which checks each stream's Adler-32, and
// takes the embedded font files apart: the font subsets are assembled
// from a part compressed once per process and parts made per document,
// so the pieces must add up to a well-formed zlib stream and font file.
func TestEmbeddedStreams(t *testing.T) {
	r := newRenderer(t)
	fonts := 0
	for _, lines := range []int{1, 200} {
		pdf := render(t, r, sampleDoc(t, lines))
		for _, s := range streams(t, pdf) {
			if !bytes.Contains([]byte(s.dict), []byte("/FlateDecode")) {
				continue
			}
			zr, err := zlib.NewReader(bytes.NewReader(s.data))
			if err != nil {
				t.Fatalf("stream %q: %v", s.dict, err)
			}
			raw, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("stream %q: %v", s.dict, err)
			}
			m := regexp.MustCompile(`/Length1 (\d+)`).FindStringSubmatch(s.dict)
			if m == nil {
				continue
			}
			fonts++
			if want, _ := strconv.Atoi(m[1]); len(raw) != want {
				t.Errorf("font file is %d bytes, /Length1 says %d", len(raw), want)
			}
			checkFontFile(t, raw)
		}
	}
	if fonts != 4 {
		t.Errorf("found %d embedded fonts in two invoices, want 2 each", fonts)
	}
}

// checkFontFile checks the table directory of a TrueType file: every
// table inside the file, its checksum right, glyf not empty, and head's
// magic number in place.
func checkFontFile(t *testing.T, font []byte) {
	t.Helper()
	be := binary.BigEndian
	if be.Uint32(font) != 0x00010000 {
		t.Fatalf("font file starts with %x, want a TrueType version", font[:4])
	}
	tables := int(be.Uint16(font[4:]))
	seen := map[string][]byte{}
	for i := range tables {
		e := font[12+16*i:]
		tag, sum, off, n := string(e[:4]), be.Uint32(e[4:]), be.Uint32(e[8:]), be.Uint32(e[12:])
		if int(off+n) > len(font) {
			t.Fatalf("table %q [%d, +%d) beyond the file's %d bytes", tag, off, n, len(font))
		}
		data := font[off : off+n]
		seen[tag] = data
		if tag == "head" {
			continue // its checksum is taken with checkSumAdjustment as zero
		}
		var got uint32
		padded := append(append([]byte(nil), data...), make([]byte, (4-len(data)%4)%4)...)
		for j := 0; j < len(padded); j += 4 {
			got += be.Uint32(padded[j:])
		}
		if got != sum {
			t.Errorf("table %q: checksum %08x, directory says %08x", tag, got, sum)
		}
	}
	for _, tag := range []string{"glyf", "loca", "head", "hhea", "hmtx", "maxp"} {
		if len(seen[tag]) == 0 {
			t.Errorf("font file has no %q table", tag)
		}
	}
	if head := seen["head"]; len(head) >= 16 && be.Uint32(head[12:]) != 0x5F0F3CF5 {
		t.Errorf("head's magic number is %08x", be.Uint32(head[12:]))
	}
}

// pageContents returns the inflated page content streams of pdf.
func pageContents(t *testing.T, pdf []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for _, s := range streams(t, pdf) {
		if !bytes.Contains([]byte(s.dict), []byte("/FlateDecode")) || bytes.Contains([]byte(s.dict), []byte("/Length1")) {
			continue
		}
		zr, err := zlib.NewReader(bytes.NewReader(s.data))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

// contentTokens splits a content stream into its operands and operators,
// a literal string (whose bytes may be anything, line feeds included)
// one token.
func contentTokens(content []byte) []string {
	var tokens []string
	for i := 0; i < len(content); {
		switch c := content[i]; {
		case c == ' ' || c == '\n' || c == '\r':
			i++
		case c == '(':
			start, depth := i, 0
			for ; i < len(content); i++ {
				if content[i] == '\\' {
					i++
				} else if content[i] == '(' {
					depth++
				} else if content[i] == ')' {
					if depth--; depth == 0 {
						i++
						break
					}
				}
			}
			tokens = append(tokens, string(content[start:i]))
		default:
			start := i
			for i < len(content) && !bytes.ContainsRune([]byte(" \n\r("), rune(content[i])) {
				i++
			}
			tokens = append(tokens, string(content[start:i]))
		}
	}
	return tokens
}

// TestTextStateSetOnce follows the font and fill colour through each
// page's content, saved by q and restored by Q: every text is drawn with
// both set, and a run of texts in one style sets them once, so that the
// font is set for fewer than half of the texts.
func TestTextStateSetOnce(t *testing.T) {
	r := newRenderer(t)
	doc := sampleDoc(t, 40)
	doc.Invoice.Status = invoice.StatusPaid // a rotated stamp, drawn in q … Q
	texts, fonts := 0, 0
	for page, content := range pageContents(t, render(t, r, doc)) {
		type state struct{ font, fill string }
		var cur state
		var saved []state
		var prev []string // the operands before the operator
		for _, tok := range contentTokens(content) {
			switch tok {
			case "q":
				saved = append(saved, cur)
			case "Q":
				cur, saved = saved[len(saved)-1], saved[:len(saved)-1]
			case "Tf":
				cur.font = strings.Join(prev[len(prev)-2:], " ")
				fonts++
			case "rg":
				cur.fill = strings.Join(prev[len(prev)-3:], " ")
			case "TJ":
				texts++
				if cur.font == "" || cur.fill == "" {
					t.Fatalf("page %d: text %d drawn with font %q and fill %q", page+1, texts, cur.font, cur.fill)
				}
			}
			if len(tok) > 0 && (tok[0] >= 'a' && tok[0] <= 'z' || tok[0] >= 'A' && tok[0] <= 'Z') && tok != "TD" {
				prev = prev[:0]
			} else {
				prev = append(prev, tok)
			}
		}
	}
	if texts == 0 || fonts*2 > texts {
		t.Errorf("%d texts set the font %d times, want at most half as often", texts, fonts)
	}
}

// TestFontStreamsByGlyphs renders two documents with different glyphs
// in turn: each gets the font subsets of its own glyphs, the same each
// time, though subsets are kept and shared by their glyphs.
func TestFontStreamsByGlyphs(t *testing.T) {
	r := newRenderer(t)
	a := sampleDoc(t, 2)
	b := sampleDoc(t, 2)
	b.Invoice.Customer.Name = "Ζωή Ξυλουργού & Qvist"
	fonts := func(pdf []byte) (out []string) {
		for _, s := range streams(t, pdf) {
			if strings.Contains(s.dict, "/Length1") {
				out = append(out, string(s.data))
			}
		}
		return out
	}
	first := fonts(render(t, r, a))
	other := fonts(render(t, r, b))
	again := fonts(render(t, r, a))
	if len(first) != 2 || len(other) != 2 {
		t.Fatalf("found %d and %d embedded fonts, want 2 each", len(first), len(other))
	}
	if first[1] == other[1] {
		t.Error("a bold customer name with other glyphs has the same bold font subset")
	}
	for i := range first {
		if first[i] != again[i] {
			t.Errorf("font %d differs between two renders of one document", i)
		}
	}
}
