package pdf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
	"regexp"
	"strconv"
	"testing"
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
