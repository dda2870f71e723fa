package gopdf

import (
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"sort"
	"sync"
	"unsafe"

	"github.com/klauspost/compress/flate"

	"github.com/signintech/gopdf/fontmaker/core"
)

// The embedded subset of a TrueType font is a font file with every glyph
// of the original at its original index, the unused ones empty. Of its
// nine tables only loca and glyf depend on the glyphs a document uses;
// cvt, fpgm, head, hhea, hmtx, maxp and prep are the original's. So the
// stream is put together from three pieces of one zlib stream:
//
//   - the table directory, made for each document, as a stored block;
//   - the seven fixed tables, compressed once per font and process at
//     the best level and ended with a sync flush, so that more blocks may
//     follow;
//   - loca, made for each document and compressed, and glyf, made for
//     each document and stored: glyph outlines shrink by a sixth at
//     best, not worth the time it takes.
//
// A deflate stream may be cut into blocks at any byte boundary, and the
// zlib checksum (Adler-32) of the whole is combined from the pieces'.

// subsetTags are the tables of a subset, in the directory's order.
var subsetTags = [...]string{"cvt ", "fpgm", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "prep"}

// subsetHeaderSize is the size of the offset table and the directory.
const subsetHeaderSize = 12 + 16*len(subsetTags)

// locaCompression is the level loca is compressed at for each document:
// runs of one offset, which the fastest level shrinks as well as any.
const locaCompression = flate.BestSpeed

// fixedTables is what the subsets of one font share.
type fixedTables struct {
	data     []byte                              // the fixed tables back to back, each padded to four bytes
	deflated []byte                              // data as deflate blocks, the last a sync flush
	adler    uint32                              // the Adler-32 of data
	entries  map[string]core.TableDirectoryEntry // each fixed table, its offset from the start of the file
	streams  subsetStreams                       // the latest subsets made of the font
	maps     keptSubsets[subsetMaps]             // the latest subsets' ToUnicode maps and widths
}

// subsetStreamsMax is how many subsets of one font subsetStreams keeps.
// The documents of one sender mostly use the same glyphs (their labels,
// the sender's name and address, the digits), so a few dozen cover most
// of them; a subset is 10 to 30 KB.
const subsetStreamsMax = 32

// subsetStreams keeps the streams of the subsets of one font last made,
// by the glyphs of the characters they draw (the glyphs of composites
// follow from those), so that a document with the same glyphs as an
// earlier one takes its stream as it is: a stream is the same for the
// same glyphs.
type subsetStreams = keptSubsets[subsetStream]

// keptSubsets keeps what the latest subsets of one font made, up to
// subsetStreamsMax, by a key that decides it. It is safe for concurrent
// use; what it keeps is shared and must not be changed.
type keptSubsets[T any] struct {
	mu   sync.Mutex
	kept map[string]T
}

// subsetStream is a subset's zlib stream and the size of the font file
// it holds.
type subsetStream struct {
	stream []byte
	size   int
}

// get returns what is kept under key, which it takes as bytes so that
// looking up allocates nothing.
func (s *keptSubsets[T]) get(key []byte) (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.kept[string(key)]
	return v, ok
}

// put keeps v under key, dropping an arbitrary other subset's when
// subsetStreamsMax are kept.
func (s *keptSubsets[T]) put(key string, v T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kept == nil {
		s.kept = map[string]T{}
	}
	if len(s.kept) >= subsetStreamsMax {
		for k := range s.kept {
			delete(s.kept, k)
			break
		}
	}
	s.kept[key] = v
}

// glyphsKey appends glyphs, TrueType glyph ids of 16 bits, to b in two
// bytes each.
func glyphsKey(b []byte, glyphs []int) []byte {
	for _, g := range glyphs {
		b = binary.BigEndian.AppendUint16(b, uint16(g))
	}
	return b
}

// fixedTablesCache holds a *fixedTables, or the error making it, per font,
// keyed by the font's data: every document's copy of a font from a
// FontContainer shares it.
var fixedTablesCache sync.Map

type fixedTablesKey struct {
	data *byte
	size int
}

type fixedTablesEntry struct {
	once   sync.Once
	tables *fixedTables
	err    error
}

// fixedTablesOf returns the fixed tables of the font ttfp parsed.
func fixedTablesOf(ttfp *core.TTFParser) (*fixedTables, error) {
	font := ttfp.FontData()
	key := fixedTablesKey{unsafe.SliceData(font), len(font)}
	v, ok := fixedTablesCache.Load(key)
	if !ok {
		// Not made at every call: each document's fonts look their
		// tables up twice or more.
		v, _ = fixedTablesCache.LoadOrStore(key, &fixedTablesEntry{})
	}
	e := v.(*fixedTablesEntry)
	e.once.Do(func() { e.tables, e.err = makeFixedTables(ttfp) })
	return e.tables, e.err
}

func makeFixedTables(ttfp *core.TTFParser) (*fixedTables, error) {
	font := ttfp.FontData()
	all := ttfp.GetTables()
	t := &fixedTables{entries: map[string]core.TableDirectoryEntry{}}
	for _, tag := range subsetTags {
		if tag == "glyf" || tag == "loca" {
			continue
		}
		src := all[tag]
		end := int(src.Offset) + int(src.Length)
		if end > len(font) {
			return nil, fmt.Errorf("font table %q lies beyond the end of the font", tag)
		}
		entry := core.TableDirectoryEntry{
			CheckSum: src.CheckSum,
			Offset:   uint(subsetHeaderSize + len(t.data)),
			Length:   src.Length,
		}
		t.data = append(t.data, font[src.Offset:end]...)
		t.data = append(t.data, make([]byte, entry.PaddedLength()-int(entry.Length))...)
		t.entries[tag] = entry
	}
	t.adler = adler32.Checksum(t.data)
	var out Buff
	fw, err := flate.NewWriter(&out, flate.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := fw.Write(t.data); err != nil {
		return nil, err
	}
	if err := fw.Flush(); err != nil {
		return nil, err
	}
	t.deflated = out.Bytes()
	return t, nil
}

// flatePool keeps deflate writers at locaCompression for reuse.
var flatePool sync.Pool

// fontStream returns the subset font of p as a zlib stream, and the size
// of the font file it holds.
func (p *PdfDictionaryObj) fontStream() ([]byte, int, error) {
	ttfp := p.PtrToSubsetFontObj.GetTTFParser()
	fixed, err := fixedTablesOf(ttfp)
	if err != nil {
		return nil, 0, err
	}
	// The subset is kept by the glyphs the document's characters map
	// to, which decide the glyphs of composites it adds: a document that
	// uses a kept subset need not look for them.
	used := p.PtrToSubsetFontObj.CharacterToGlyphIndex.AllVals()
	mapped := make([]int, len(used))
	for i, g := range used {
		mapped[i] = int(g)
	}
	sort.Ints(mapped)
	streams := &fixed.streams
	key := glyphsKey(make([]byte, 0, 2*len(mapped)), mapped)
	if s, ok := streams.get(key); ok {
		return s.stream, s.size, nil
	}
	glyphs := p.completeGlyphClosure(p.PtrToSubsetFontObj.CharacterToGlyphIndex)
	sort.Ints(glyphs)
	glyphs = p.distinctInts(glyphs)
	stream, size, err := p.makeFontStream(ttfp, fixed, glyphs)
	if err != nil {
		return nil, 0, err
	}
	streams.put(string(key), subsetStream{stream, size})
	return stream, size, nil
}

// makeFontStream returns the zlib stream of the subset of ttfp's font
// with glyphs, sorted and distinct, and the size of the font file.
func (p *PdfDictionaryObj) makeFontStream(ttfp *core.TTFParser, fixed *fixedTables, glyphs []int) ([]byte, int, error) {
	// loca and glyf follow the fixed tables, in that order, each padded.
	glyphData, locaPadded, glyfLength := p.locaAndGlyf(ttfp, glyphs)
	locaEntry := core.TableDirectoryEntry{
		CheckSum: CheckSum(glyphData[:locaPadded]),
		Offset:   uint(subsetHeaderSize + len(fixed.data)),
		Length:   uint(p.locaLength(ttfp)),
	}
	glyfEntry := core.TableDirectoryEntry{
		CheckSum: CheckSum(glyphData[locaPadded:]),
		Offset:   locaEntry.Offset + uint(locaPadded),
		Length:   uint(glyfLength),
	}

	header := make([]byte, 0, subsetHeaderSize)
	selector := EntrySelectors[len(subsetTags)]
	header = binary.BigEndian.AppendUint32(header, 0x00010000)
	header = binary.BigEndian.AppendUint16(header, uint16(len(subsetTags)))
	header = binary.BigEndian.AppendUint16(header, uint16((1<<selector)*16))
	header = binary.BigEndian.AppendUint16(header, uint16(selector))
	header = binary.BigEndian.AppendUint16(header, uint16((len(subsetTags)-(1<<selector))*16))
	for _, tag := range subsetTags {
		entry := fixed.entries[tag]
		switch tag {
		case "loca":
			entry = locaEntry
		case "glyf":
			entry = glyfEntry
		}
		header = append(header, tag...)
		header = binary.BigEndian.AppendUint32(header, uint32(entry.CheckSum))
		header = binary.BigEndian.AppendUint32(header, uint32(entry.Offset))
		header = binary.BigEndian.AppendUint32(header, uint32(entry.Length))
	}

	size := len(header) + len(fixed.data) + len(glyphData)
	// Room for the pieces, the block headers, and loca at its worst.
	out := Buff{datas: make([]byte, 0, 64+len(header)+len(fixed.deflated)+len(glyphData)+len(glyphData)/100)}
	// The zlib header: deflate with a 32 KB window, no dictionary.
	out.Write([]byte{0x78, 0xDA})
	writeStored(&out, header, false)
	out.Write(fixed.deflated)
	fw, _ := flatePool.Get().(*flate.Writer)
	if fw == nil {
		var err error
		if fw, err = flate.NewWriter(&out, locaCompression); err != nil {
			return nil, 0, err
		}
	} else {
		fw.Reset(&out)
	}
	if _, err := fw.Write(glyphData[:locaPadded]); err != nil {
		return nil, 0, err
	}
	if err := fw.Flush(); err != nil {
		return nil, 0, err
	}
	flatePool.Put(fw)
	writeStored(&out, glyphData[locaPadded:], true)
	sum := adler32Combine(adler32Sum(header), fixed.adler, len(fixed.data))
	sum = adler32Combine(sum, adler32Sum(glyphData), len(glyphData))
	out.Write(binary.BigEndian.AppendUint32(nil, sum))
	return out.Bytes(), size, nil
}

// locaLength is the size of the loca table of a subset of ttfp's font.
func (p *PdfDictionaryObj) locaLength(ttfp *core.TTFParser) int {
	if ttfp.IsShortIndex {
		return 2 * (int(ttfp.NumGlyphs()) + 1)
	}
	return 4 * (int(ttfp.NumGlyphs()) + 1)
}

// locaAndGlyf returns the loca and the glyf table of a subset with
// glyphs, sorted and distinct, each padded to four bytes, one after the
// other: every glyph of the font keeps its index, those not in glyphs
// empty. It also returns where glyf starts and its unpadded length.
func (p *PdfDictionaryObj) locaAndGlyf(ttfp *core.TTFParser, glyphs []int) (data []byte, glyfStart, glyfLength int) {
	font := ttfp.FontData()
	base := int(ttfp.GetTables()["glyf"].Offset)
	numGlyphs := int(ttfp.NumGlyphs())
	for _, g := range glyphs {
		glyfLength += int(ttfp.LocaTable[g+1] - ttfp.LocaTable[g])
	}
	glyfStart = (p.locaLength(ttfp) + 3) &^ 3
	data = make([]byte, glyfStart, glyfStart+(glyfLength+3)&^3)
	loca := data[:0]
	offset, next := 0, 0
	for g := 0; g <= numGlyphs; g++ {
		if ttfp.IsShortIndex {
			loca = binary.BigEndian.AppendUint16(loca, uint16(offset/2))
		} else {
			loca = binary.BigEndian.AppendUint32(loca, uint32(offset))
		}
		if g < numGlyphs && next < len(glyphs) && glyphs[next] == g {
			next++
			data = append(data, font[base+int(ttfp.LocaTable[g]):base+int(ttfp.LocaTable[g+1])]...)
			offset = len(data) - glyfStart
		}
	}
	return padded(data), glyfStart, glyfLength
}

// writeStored writes b to a deflate stream as stored blocks, the last of
// them final where final is set. The stream must be at a byte boundary.
func writeStored(out *Buff, b []byte, final bool) {
	for {
		n := min(len(b), 0xFFFF)
		last := byte(0)
		if final && n == len(b) {
			last = 1
		}
		l := uint16(n)
		out.Write([]byte{last, byte(l), byte(l >> 8), byte(^l), byte(^l >> 8)})
		out.Write(b[:n])
		b = b[n:]
		if len(b) == 0 {
			return
		}
	}
}

// padded returns b with zeros appended to a multiple of four bytes.
func padded(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// adler32Combine returns the Adler-32 of A followed by B from the
// checksum of A, that of B and B's length, as zlib's adler32_combine.
func adler32Combine(adlerA, adlerB uint32, lenB int) uint32 {
	const mod = 65521
	rem := uint32(lenB % mod)
	sum1 := adlerA & 0xffff
	sum2 := (rem * sum1) % mod
	sum1 += (adlerB & 0xffff) + mod - 1
	sum2 += (adlerA >> 16) + (adlerB >> 16) + mod - rem
	if sum1 >= mod {
		sum1 -= mod
	}
	if sum1 >= mod {
		sum1 -= mod
	}
	if sum2 >= mod<<1 {
		sum2 -= mod << 1
	}
	if sum2 >= mod {
		sum2 -= mod
	}
	return sum1 | sum2<<16
}
