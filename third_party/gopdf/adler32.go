package gopdf

import "encoding/binary"

// adler32Mod is the Adler-32 modulus, the largest prime below 65536.
const adler32Mod = 65521

// adler32Block is the most bytes the sums of adler32Sum take before they
// are reduced: the largest multiple of 32 up to zlib's NMAX, 5,552,
// after which s2 could pass 2³² − 1.
const adler32Block = 5536

// adler32Sum returns the Adler-32 checksum of p, as hash/adler32's
// Checksum does, where each of s2's additions had waited for the one
// before: the zlib checksum of a page's content stream took a fifth of
// the time its compression took. Over n bytes s1 grows by their sum and
// s2 by n·s1 and by n, n−1, … 1 times the bytes in order. adler32Sum
// takes 32 bytes a step, as four words of eight, each split into its
// even and its odd bytes in four 16-bit lanes: the lanes of the four
// words are added, and one multiplication adds a word's lanes up, with
// or without the weights 8, 6, 4, 2 (even) and 7, 5, 3, 1 (odd) of a
// byte's place in its word; the words before the last weigh 8, 16 and
// 24 more for the words after them. No lane passes 65,535.
func adler32Sum(p []byte) uint32 {
	const (
		lanes = 0x00FF00FF00FF00FF
		ones  = 0x0001000100010001
		// The weights of bytes 0, 2, 4, 6 and of 1, 3, 5, 7, in the
		// lanes that bring each byte's product to the top lane.
		evenWeights = 0x0008000600040002
		oddWeights  = 0x0007000500030001
	)
	s1, s2 := uint32(1), uint32(0)
	for len(p) > 0 {
		n := min(len(p), adler32Block)
		q := p[:n]
		p = p[n:]
		for len(q) >= 32 {
			w0, w1 := binary.LittleEndian.Uint64(q), binary.LittleEndian.Uint64(q[8:])
			w2, w3 := binary.LittleEndian.Uint64(q[16:]), binary.LittleEndian.Uint64(q[24:])
			b0, b1, b2, b3 := w0&lanes+w0>>8&lanes, w1&lanes+w1>>8&lanes, w2&lanes+w2>>8&lanes, w3&lanes+w3>>8&lanes
			even := w0&lanes + w1&lanes + w2&lanes + w3&lanes
			odd := w0>>8&lanes + w1>>8&lanes + w2>>8&lanes + w3>>8&lanes
			later := 3*b0 + 2*b1 + b2
			s2 += 32*s1 + 8*uint32(later*ones>>48) + uint32((even*evenWeights+odd*oddWeights)>>48)
			s1 += uint32((b0 + b1 + b2 + b3) * ones >> 48)
			q = q[32:]
		}
		for len(q) >= 8 {
			w := binary.LittleEndian.Uint64(q)
			even, odd := w&lanes, w>>8&lanes
			s2 += 8*s1 + uint32((even*evenWeights+odd*oddWeights)>>48)
			s1 += uint32((even + odd) * ones >> 48)
			q = q[8:]
		}
		for _, b := range q {
			s1 += uint32(b)
			s2 += s1
		}
		s1 %= adler32Mod
		s2 %= adler32Mod
	}
	return s2<<16 | s1
}
