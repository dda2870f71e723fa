package gopdf

import (
	_ "embed"
	"encoding/binary"
	"math/bits"
	"sort"
	"sync"
)

// TableCompression is a compression level for SetCompressLevel: each
// page content stream is one deflate block whose Huffman codes are made
// once per process, from a sample of content streams, rather than for
// each stream, with a simple LZ77 matcher. A content stream of a few
// kilobytes takes about half the time of level 1, where building the
// Huffman codes of its block was a third of the time, and comes out 5
// to 11 per cent larger. Content streams of other programs, with other
// numbers and operators, may come out larger than that.
const TableCompression = 10

// contentSample is the page content of two invoices, as this package
// writes them (a 10-line invoice in English and a 40-line one in German,
// both with QR codes): the Huffman codes of TableCompression are fitted
// to it.
//
//go:embed content_sample.bin
var contentSample []byte

// The LZ77 matcher's parameters: matches of 4 to 258 bytes at most 32 KB
// back, found by a hash of their first 4 bytes. The hash of a position
// is kept for every literal and for the last but one byte of a match.
const (
	contentHashBits = 14
	contentMinMatch = 4
	contentMaxMatch = 258
	contentMaxDist  = 32768
)

// hcode is a Huffman code, its bits reversed as deflate writes them.
type hcode struct {
	bits uint16
	len  uint8
}

// contentCodes are the Huffman codes of TableCompression: every literal,
// length and distance has one, so that any stream can be written.
type contentCodes struct {
	lit  [286]hcode
	dist [30]hcode
	// header is the block header that declares them, hbits bits long.
	header []byte
	hbits  int
}

var (
	contentCodesOnce sync.Once
	contentCodesMade *contentCodes
)

// theContentCodes returns the codes fitted to contentSample, made at
// the first call.
func theContentCodes() *contentCodes {
	contentCodesOnce.Do(func() { contentCodesMade = fitContentCodes(contentSample) })
	return contentCodesMade
}

// The lengths and distances of deflate: each code's base and extra bits
// (RFC 1951, 3.2.5).
var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint32{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// lengthCode returns the code, 0 to 28, of a match length, 3 to 258.
func lengthCode(length int) int {
	if length == 258 {
		return 28
	}
	return sort.Search(28, func(i int) bool { return int(lengthBase[i+1]) > length })
}

// distCode returns the code, 0 to 29, of a distance, 1 to 32768.
func distCode(d uint32) int {
	if d <= 4 {
		return int(d - 1)
	}
	l := 31 - bits.LeadingZeros32(d-1)
	return 2*l + int((d-1)>>(l-1)&1)
}

// lengthCodes is lengthCode of each length.
var lengthCodes = func() (c [contentMaxMatch + 1]uint8) {
	for l := 3; l <= contentMaxMatch; l++ {
		c[l] = uint8(lengthCode(l))
	}
	return c
}()

// contentEncoder is the matcher's hash table: for each hash, the last
// position i of the stream with it, as uint16(i+1), 0 for none. It is
// cleared for each stream. Written and read in order, the clearing
// brings the table into the processor's cache at the cost of a copy;
// among a worker's other work a table that was not cleared had gone
// from it by the next stream, and was read back a line at a time as
// the hashes fell, the most time of a stream. Positions 64 KB or more
// apart share a value, so that a stream over 64 KB may take a hint to
// a position 64 KB from the one it names: each hint is checked against
// the bytes, and one that does not match is a literal, as a collision
// is.
type contentEncoder struct {
	table [1 << contentHashBits]uint16
}

var contentEncoders = sync.Pool{New: func() any { return new(contentEncoder) }}

// candidate returns the position the table holds for hash h, at most
// contentMaxDist before i, and records i for h. ok is false for none.
func (e *contentEncoder) candidate(h uint32, i int) (cand int, ok bool) {
	d := int(uint16(i+1) - e.table[h])
	ok = e.table[h] != 0 && d != 0 && d <= contentMaxDist && d <= i
	e.table[h] = uint16(i + 1)
	return i - d, ok
}

// tokens calls lit for each literal and match for each match of src, in
// order.
func (e *contentEncoder) tokens(src []byte, lit func(byte), match func(length int, dist uint32)) {
	clear(e.table[:])
	i, n := 0, len(src)
	for i+contentMinMatch <= n {
		u := binary.LittleEndian.Uint32(src[i:])
		h := (u * 2654435761) >> (32 - contentHashBits)
		if cand, ok := e.candidate(h, i); ok && binary.LittleEndian.Uint32(src[cand:]) == u {
			l := contentMinMatch
			for i+l < n && l < contentMaxMatch && src[cand+l] == src[i+l] {
				l++
			}
			match(l, uint32(i-cand))
			i += l
			if i+contentMinMatch <= n {
				p := i - 2
				e.table[(binary.LittleEndian.Uint32(src[p:])*2654435761)>>(32-contentHashBits)] = uint16(p + 1)
			}
			continue
		}
		lit(src[i])
		i++
	}
	for ; i < n; i++ {
		lit(src[i])
	}
}

// matchLength is the length of the match of src at i with src at cand,
// before it, whose first contentMinMatch bytes are known to match: at
// most contentMaxMatch and the bytes left. It compares eight bytes at a
// time while eight are left.
func matchLength(src []byte, cand, i int) int {
	l, most := contentMinMatch, min(contentMaxMatch, len(src)-i)
	for l+8 <= most {
		if x := binary.LittleEndian.Uint64(src[cand+l:]) ^ binary.LittleEndian.Uint64(src[i+l:]); x != 0 {
			return l + bits.TrailingZeros64(x)/8
		}
		l += 8
	}
	for l < most && src[cand+l] == src[i+l] {
		l++
	}
	return l
}

// bitWriter appends bits to out, least significant first.
type bitWriter struct {
	out []byte
	acc uint64
	n   uint
}

// put writes the n low bits of v, n at most 32.
func (w *bitWriter) put(v uint64, n uint8) {
	w.acc |= v << w.n
	w.n += uint(n)
	if w.n >= 32 {
		w.out = binary.LittleEndian.AppendUint32(w.out, uint32(w.acc))
		w.acc >>= 32
		w.n -= 32
	}
}

// flush writes the bits left, padded to a byte.
func (w *bitWriter) flush() {
	for w.n > 0 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.n -= min(w.n, 8)
	}
}

// deflateContent appends src to dst as a zlib stream of one deflate
// block with the codes of TableCompression.
func deflateContent(dst, src []byte) []byte {
	codes := theContentCodes()
	e := contentEncoders.Get().(*contentEncoder)
	defer contentEncoders.Put(e)
	w := bitWriter{out: append(dst, 0x78, 0x01)}
	for i := 0; i < codes.hbits; i += 8 {
		w.put(uint64(codes.header[i/8]), uint8(min(8, codes.hbits-i)))
	}
	// The matcher's loop, as tokens has it, with the codes written in
	// place of the calls.
	clear(e.table[:])
	i, n := 0, len(src)
	for i+contentMinMatch <= n {
		u := binary.LittleEndian.Uint32(src[i:])
		h := (u * 2654435761) >> (32 - contentHashBits)
		if cand, ok := e.candidate(h, i); ok && binary.LittleEndian.Uint32(src[cand:]) == u {
			l := matchLength(src, cand, i)
			d := uint32(i - cand)
			// A code and its extra bits, at most 15 + 5 and 15 + 13,
			// written as one.
			lc := lengthCodes[l]
			c := codes.lit[257+int(lc)]
			w.put(uint64(c.bits)|uint64(l-int(lengthBase[lc]))<<c.len, c.len+lengthExtra[lc])
			dc := distCode(d)
			c = codes.dist[dc]
			w.put(uint64(c.bits)|uint64(d-distBase[dc])<<c.len, c.len+distExtra[dc])
			i += l
			if i+contentMinMatch <= n {
				p := i - 2
				e.table[(binary.LittleEndian.Uint32(src[p:])*2654435761)>>(32-contentHashBits)] = uint16(p + 1)
			}
			continue
		}
		c := codes.lit[src[i]]
		w.put(uint64(c.bits), c.len)
		i++
	}
	for ; i < n; i++ {
		c := codes.lit[src[i]]
		w.put(uint64(c.bits), c.len)
	}
	c := codes.lit[256]
	w.put(uint64(c.bits), c.len)
	w.flush()
	return binary.BigEndian.AppendUint32(w.out, adler32Sum(src))
}

// fitContentCodes makes codes for the literals, lengths and distances
// of sample, every one of them given a code, with the block header that
// declares them.
func fitContentCodes(sample []byte) *contentCodes {
	lit := make([]int, 286)
	dist := make([]int, 30)
	var e contentEncoder
	e.tokens(sample,
		func(b byte) { lit[b]++ },
		func(l int, d uint32) { lit[257+lengthCode(l)]++; dist[distCode(d)]++ })
	// Every symbol at least once, and those of the sample weighted, so
	// that a byte or distance the sample lacks still has a code.
	for i := range lit {
		lit[i] = 4*lit[i] + 1
	}
	for i := range dist {
		dist[i] = 4*dist[i] + 1
	}
	lit[256] = 1
	litLens := huffmanLengths(lit, 15)
	distLens := huffmanLengths(dist, 15)
	c := &contentCodes{}
	copy(c.lit[:], canonicalCodes(litLens))
	copy(c.dist[:], canonicalCodes(distLens))

	// The header: the last block (1), dynamic codes (2), 286 literal and
	// length codes, 30 distance codes, and their lengths, each written
	// with a code of the code lengths (RFC 1951, 3.2.7).
	all := append(append([]uint8{}, litLens...), distLens...)
	lenFreq := make([]int, 19)
	for _, l := range all {
		lenFreq[l]++
	}
	lenLens := huffmanLengths(lenFreq, 7)
	lenCodes := canonicalCodes(lenLens)
	var w bitWriter
	w.put(1, 1)
	w.put(2, 2)
	w.put(286-257, 5)
	w.put(30-1, 5)
	w.put(19-4, 4)
	for _, i := range [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15} {
		w.put(uint64(lenLens[i]), 3)
	}
	for _, l := range all {
		w.put(uint64(lenCodes[l].bits), lenCodes[l].len)
	}
	c.hbits = 8*len(w.out) + int(w.n)
	w.flush()
	c.header = w.out
	return c
}

// huffmanLengths returns the lengths of Huffman codes for freq, none
// longer than limit bits; a symbol of frequency zero gets none. Where the
// codes would be too long, the frequencies are flattened until they fit.
func huffmanLengths(freq []int, limit int) []uint8 {
	lens := make([]uint8, len(freq))
	f := append([]int(nil), freq...)
	for {
		type node struct{ weight, left, right, symbol int }
		var nodes []node
		var queue []int
		for s, x := range f {
			if x > 0 {
				nodes = append(nodes, node{x, -1, -1, s})
				queue = append(queue, len(nodes)-1)
			}
		}
		if len(queue) == 1 {
			lens[nodes[0].symbol] = 1
			return lens
		}
		// queue is sorted by weight; a merged node goes after those of
		// its weight.
		sort.SliceStable(queue, func(i, j int) bool { return nodes[queue[i]].weight < nodes[queue[j]].weight })
		for len(queue) > 1 {
			a, b := queue[0], queue[1]
			nodes = append(nodes, node{nodes[a].weight + nodes[b].weight, a, b, -1})
			queue = queue[2:]
			w := nodes[len(nodes)-1].weight
			at := sort.Search(len(queue), func(i int) bool { return nodes[queue[i]].weight > w })
			queue = append(queue, 0)
			copy(queue[at+1:], queue[at:])
			queue[at] = len(nodes) - 1
		}
		fits := true
		var walk func(i, depth int)
		walk = func(i, depth int) {
			if nodes[i].symbol >= 0 {
				lens[nodes[i].symbol] = uint8(depth)
				fits = fits && depth <= limit
				return
			}
			walk(nodes[i].left, depth+1)
			walk(nodes[i].right, depth+1)
		}
		walk(queue[0], 0)
		if fits {
			return lens
		}
		for s := range f {
			if f[s] > 0 {
				f[s] = f[s]/2 + 1
			}
		}
	}
}

// canonicalCodes returns the canonical Huffman codes of lens (RFC 1951,
// 3.2.2), bit-reversed for writing.
func canonicalCodes(lens []uint8) []hcode {
	var count [16]int
	for _, l := range lens {
		if l > 0 {
			count[l]++
		}
	}
	var next [16]int
	code := 0
	for b := 1; b < 16; b++ {
		code = (code + count[b-1]) << 1
		next[b] = code
	}
	out := make([]hcode, len(lens))
	for s, l := range lens {
		if l == 0 {
			continue
		}
		out[s] = hcode{bits: bits.Reverse16(uint16(next[l])) >> (16 - l), len: l}
		next[l]++
	}
	return out
}
