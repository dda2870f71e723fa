// Copyright 2016 The Snappy-Go Authors. All rights reserved.
// Copyright (c) 2019 Klaus Post. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package s2dict writes S2 blocks against a dictionary, as
// github.com/klauspost/compress/s2's Dict.Encode writes them, for
// s2.Dict.Decode to read.
//
// It is Dict.Encode of klauspost/compress v1.20.3 (s2/dict.go,
// s2/encode_all.go's encodeBlockDictGo, s2/encode_go.go's emitLiteral,
// emitRepeat and emitCopy, internal/le's loads), changed in how it keeps
// its hash table of the input: s2 declares it in encodeBlockDictGo, 64 KB
// on the stack that every block zeroes and every goroutine encoding one
// grows its stack for; here it is lent by a pool of the Dict, and only
// its first 1<<tableBits entries, a quarter to a half as many as the
// input has bytes, are cleared and used, indexed by the top bits of the
// hashes. With the whole table (an input of 32 KB or more) the blocks are the
// bytes s2 writes; a smaller one finds a few of the input's repeats of
// itself less often. The dictionary's own table is built by MakeDict,
// not at the first block; emitLiteral, emitRepeat and emitCopy are s2's
// Go versions (on amd64 and arm64 s2 has them in assembly); the
// debugging code is left out.
package s2dict

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"sync"

	"github.com/klauspost/compress/s2"
)

const (
	// dictTableBits sizes the dictionary's hash table, as s2's.
	dictTableBits = 14
	// maxTableBits sizes the hash table of the input, as s2's.
	maxTableBits = 14
	tableMask    = 1<<maxTableBits - 1

	// inputMargin and minNonLiteralBlockSize are s2's.
	inputMargin            = 8
	minNonLiteralBlockSize = 32

	tagLiteral = 0x00
	tagCopy1   = 0x01
	tagCopy2   = 0x02
	tagCopy4   = 0x03
)

// Dict is a dictionary to write S2 blocks against. It is safe for
// concurrent use.
type Dict struct {
	dict      []byte
	repeat    int // the first repeat, as an index of dict
	dictTable *[1 << dictTableBits]uint16
	// tables lend the hash tables of inputs, *[1 << maxTableBits]uint32.
	tables sync.Pool
}

// MakeDict makes the dictionary s2.MakeDict makes of data and
// searchStart: the last 64 KB (s2.MaxDictSize) of data, with the first
// repeat at the last place of the longest start of searchStart, more
// than 4 bytes long, found in it (else at 0). It returns nil when data is
// shorter than s2.MinDictSize. data is copied.
func MakeDict(data, searchStart []byte) *Dict {
	if len(data) > s2.MaxDictSize {
		data = data[len(data)-s2.MaxDictSize:]
	}
	if len(data) < s2.MinDictSize {
		return nil
	}
	// Room after the dictionary for loads past its end (load_unsafe.go).
	d := &Dict{dict: append(make([]byte, 0, len(data)+16), data...), dictTable: new([1 << dictTableBits]uint16)}
	// Find the longest match possible, last entry if multiple.
	for s := len(searchStart); s > 4; s-- {
		if idx := bytes.LastIndex(data, searchStart[:s]); idx >= 0 && idx <= len(data)-8 {
			d.repeat = idx
			break
		}
	}
	// We stop so any entry of length 8 can always be read.
	for i := 0; i < len(d.dict)-8-2; i += 3 {
		x0 := load64(d.dict, i)
		d.dictTable[hash6(x0, dictTableBits)] = uint16(i)
		d.dictTable[hash6(x0>>8, dictTableBits)] = uint16(i + 1)
		d.dictTable[hash6(x0>>16, dictTableBits)] = uint16(i + 2)
	}
	return d
}

// Encode returns the S2 block of src, written into dst if it has the
// capacity for s2.MaxEncodedLen(len(src)) bytes, else into a new slice.
// dst and src must not overlap. It panics with s2.ErrTooLarge if src is
// longer than a block can be.
func (d *Dict) Encode(dst, src []byte) []byte {
	if n := s2.MaxEncodedLen(len(src)); n < 0 {
		panic(s2.ErrTooLarge)
	} else if cap(dst) < n {
		dst = make([]byte, n)
	} else {
		dst = dst[:n]
	}

	if len(src) < minNonLiteralBlockSize {
		return d.encode(dst, src, nil, 0)
	}
	table, _ := d.tables.Get().(*[1 << maxTableBits]uint32)
	if table == nil {
		table = new([1 << maxTableBits]uint32)
	}
	dst = d.encode(dst, src, table, tableBits(len(src)))
	d.tables.Put(table)
	return dst
}

// encode is Encode with the hash table given, searched as its first
// 1<<tableBits entries; dst has room for the block. table may be nil when
// src is shorter than minNonLiteralBlockSize.
func (d *Dict) encode(dst, src []byte, table *[1 << maxTableBits]uint32, tableBits uint8) []byte {
	// The block starts with the varint-encoded length of the decompressed bytes.
	dstP := binary.PutUvarint(dst, uint64(len(src)))

	if len(src) == 0 {
		return dst[:dstP]
	}
	if len(src) < minNonLiteralBlockSize {
		dstP += emitLiteral(dst[dstP:], src)
		return dst[:dstP]
	}
	n := d.encodeBlock(dst[dstP:], src, table, tableBits)
	if n > 0 {
		dstP += n
		return dst[:dstP]
	}
	// Not compressible
	dstP += emitLiteral(dst[dstP:], src)
	return dst[:dstP]
}

// tableBits sizes the hash table of an input of n bytes: a quarter to a
// half as many entries as bytes, a power of two from 256 to 16,384 (from
// 32 KB on).
func tableBits(n int) uint8 {
	return uint8(min(max(bits.Len(uint(n))-2, 8), maxTableBits))
}

// hash6 returns the hash of the lowest 6 bytes of u to fit in a hash table with h bits.
// Preferably h should be a constant and should always be <64.
func hash6(u uint64, h uint8) uint32 {
	const prime6bytes = 227718039650203
	return uint32(((u << (64 - 48)) * prime6bytes) >> ((64 - h) & 63))
}

// encodeBlock encodes a non-empty src of at least minNonLiteralBlockSize
// bytes into dst, which must be at least s2.MaxEncodedLen(len(src)) long,
// and returns the bytes written, or 0 when src does not compress. table is
// searched as its first 1<<tableBits entries, which it clears first.
//
// It is s2's encodeBlockDictGo with the table given instead of declared,
// indexed by the top tableBits bits of the dictionary's hashes.
func (dict *Dict) encodeBlock(dst, src []byte, table *[1 << maxTableBits]uint32, tableBits uint8) (d int) {
	const maxAhead = 8 // maximum bytes ahead without checking sLimit
	clear(table[:1<<tableBits])
	shift := dictTableBits - tableBits

	// sLimit is when to stop looking for offset/length copies. The inputMargin
	// lets us use a fast path for emitLiteral in the main loop, while we are
	// looking for copies.
	sLimit := min(len(src)-inputMargin, s2.MaxDictSrcOffset-maxAhead)

	// Bail if we can't compress to at least this.
	dstLimit := len(src) - len(src)>>5 - 5

	// nextEmit is where in src the next emitLiteral should start from.
	nextEmit := 0

	// The encoded form can start with a dict entry (copy or repeat).
	s := 0

	// Convert dict repeat to offset
	repeat := len(dict.dict) - dict.repeat
	cv := load64(src, 0)

	// While in dict
searchDict:
	for {
		// Next src position to check
		nextS := s + (s-nextEmit)>>6 + 4
		hash0 := hash6(cv, dictTableBits)
		hash1 := hash6(cv>>8, dictTableBits)
		if nextS > sLimit {
			break searchDict
		}
		candidateDict := int(dict.dictTable[hash0])
		candidateDict2 := int(dict.dictTable[hash1])
		candidate2 := int(table[hash1>>shift&tableMask])
		candidate := int(table[hash0>>shift&tableMask])
		table[hash0>>shift&tableMask] = uint32(s)
		table[hash1>>shift&tableMask] = uint32(s + 1)
		hash2 := hash6(cv>>16, dictTableBits)

		// Check repeat at offset checkRep.
		const checkRep = 1

		if repeat > s {
			candidate := len(dict.dict) - repeat + s
			if repeat-s >= 4 && uint32(cv) == load32(dict.dict, candidate) {
				// Extend back
				base := s
				for i := candidate; base > nextEmit && i > 0 && dict.dict[i-1] == src[base-1]; {
					i--
					base--
				}
				// Bail if we exceed the maximum size.
				if d+(base-nextEmit) > dstLimit {
					return 0
				}

				d += emitLiteral(dst[d:], src[nextEmit:base])
				s += 4
				candidate += 4
				for candidate < len(dict.dict)-8 && s <= len(src)-8 {
					if diff := load64(src, s) ^ load64(dict.dict, candidate); diff != 0 {
						s += bits.TrailingZeros64(diff) >> 3
						break
					}
					s += 8
					candidate += 8
				}
				d += emitRepeat(dst[d:], repeat, s-base)
				nextEmit = s
				if s >= sLimit {
					break searchDict
				}
				cv = load64(src, s)
				continue
			}
		} else if repeat > 0 && uint32(cv>>(checkRep*8)) == load32(src, s-repeat+checkRep) {
			base := s + checkRep
			// Extend back
			for i := base - repeat; base > nextEmit && i > 0 && src[i-1] == src[base-1]; {
				i--
				base--
			}
			d += emitLiteral(dst[d:], src[nextEmit:base])

			// Extend forward
			candidate := s - repeat + 4 + checkRep
			s += 4 + checkRep
			for s <= sLimit {
				if diff := load64(src, s) ^ load64(src, candidate); diff != 0 {
					s += bits.TrailingZeros64(diff) >> 3
					break
				}
				s += 8
				candidate += 8
			}

			if nextEmit > 0 {
				// same as `add := emitCopy(dst[d:], repeat, s-base)` but skips storing offset.
				d += emitRepeat(dst[d:], repeat, s-base)
			} else {
				// First match, cannot be repeat.
				d += emitCopy(dst[d:], repeat, s-base)
			}

			nextEmit = s
			if s >= sLimit {
				break searchDict
			}
			cv = load64(src, s)
			continue searchDict
		}
		if s == 0 {
			cv = load64(src, nextS)
			s = nextS
			continue searchDict
		}
		// Start with table. These matches will always be closer.
		if uint32(cv) == load32(src, candidate) {
			goto emitMatch
		}
		candidate = int(table[hash2>>shift&tableMask])
		if uint32(cv>>8) == load32(src, candidate2) {
			table[hash2>>shift&tableMask] = uint32(s + 2)
			candidate = candidate2
			s++
			goto emitMatch
		}

		// Check dict. Dicts have longer offsets, so we want longer matches.
		if cv == load64(dict.dict, candidateDict) {
			table[hash2>>shift&tableMask] = uint32(s + 2)
			goto emitDict
		}

		candidateDict = int(dict.dictTable[hash2])
		// Check if upper 7 bytes match
		if candidateDict2 >= 1 {
			if cv^load64(dict.dict, candidateDict2-1) < (1 << 8) {
				table[hash2>>shift&tableMask] = uint32(s + 2)
				candidateDict = candidateDict2
				s++
				goto emitDict
			}
		}

		table[hash2>>shift&tableMask] = uint32(s + 2)
		if uint32(cv>>16) == load32(src, candidate) {
			s += 2
			goto emitMatch
		}
		if candidateDict >= 2 {
			// Check if upper 6 bytes match
			if cv^load64(dict.dict, candidateDict-2) < (1 << 16) {
				s += 2
				goto emitDict
			}
		}

		cv = load64(src, nextS)
		s = nextS
		continue searchDict

	emitDict:
		{
			// Extend backwards.
			// The top bytes will be rechecked to get the full match.
			for candidateDict > 0 && s > nextEmit && dict.dict[candidateDict-1] == src[s-1] {
				candidateDict--
				s--
			}

			// Bail if we exceed the maximum size.
			if d+(s-nextEmit) > dstLimit {
				return 0
			}

			// A 4-byte match has been found. We'll later see if more than 4 bytes
			// match. But, prior to the match, src[nextEmit:s] are unmatched. Emit
			// them as literal bytes.

			d += emitLiteral(dst[d:], src[nextEmit:s])
			{
				// Invariant: we have a 4-byte match at s, and no need to emit any
				// literal bytes prior to s.
				base := s
				repeat = s + (len(dict.dict)) - candidateDict

				// Extend the 4-byte match as long as possible.
				s += 4
				candidateDict += 4
				for s <= len(src)-8 && len(dict.dict)-candidateDict >= 8 {
					if diff := load64(src, s) ^ load64(dict.dict, candidateDict); diff != 0 {
						s += bits.TrailingZeros64(diff) >> 3
						break
					}
					s += 8
					candidateDict += 8
				}

				// Matches longer than 64 are split.
				if s <= sLimit || s-base < 8 {
					d += emitCopy(dst[d:], repeat, s-base)
				} else {
					// Split to ensure we don't start a copy within next block
					d += emitCopy(dst[d:], repeat, 4)
					d += emitRepeat(dst[d:], repeat, s-base-4)
				}
				nextEmit = s
				if s >= sLimit {
					break searchDict
				}

				if d > dstLimit {
					// Do we have space for more, if not bail.
					return 0
				}

				// Index and continue loop to try new candidate.
				x := load64(src, s-2)
				m2Hash := hash6(x, dictTableBits)
				currHash := hash6(x>>8, dictTableBits)
				table[m2Hash>>shift&tableMask] = uint32(s - 2)
				table[currHash>>shift&tableMask] = uint32(s - 1)
				cv = load64(src, s)
			}
			continue
		}
	emitMatch:

		// Extend backwards.
		// The top bytes will be rechecked to get the full match.
		for candidate > 0 && s > nextEmit && src[candidate-1] == src[s-1] {
			candidate--
			s--
		}

		// Bail if we exceed the maximum size.
		if d+(s-nextEmit) > dstLimit {
			return 0
		}

		// A 4-byte match has been found. We'll later see if more than 4 bytes
		// match. But, prior to the match, src[nextEmit:s] are unmatched. Emit
		// them as literal bytes.

		d += emitLiteral(dst[d:], src[nextEmit:s])
		// Call emitCopy, and then see if another emitCopy could be our next
		// move. Repeat until we find no match for the input immediately after
		// what was consumed by the last emitCopy call.
		//
		// If we exit this loop normally then we need to call emitLiteral next,
		// though we don't yet know how big the literal will be. We handle that
		// by proceeding to the next iteration of the main loop. We also can
		// exit this loop via goto if we get close to exhausting the input.
		for {
			// Invariant: we have a 4-byte match at s, and no need to emit any
			// literal bytes prior to s.
			base := s
			repeat = base - candidate

			// Extend the 4-byte match as long as possible.
			s += 4
			candidate += 4
			for s <= len(src)-8 {
				if diff := load64(src, s) ^ load64(src, candidate); diff != 0 {
					s += bits.TrailingZeros64(diff) >> 3
					break
				}
				s += 8
				candidate += 8
			}

			d += emitCopy(dst[d:], repeat, s-base)
			nextEmit = s
			if s >= sLimit {
				break searchDict
			}

			if d > dstLimit {
				// Do we have space for more, if not bail.
				return 0
			}
			// Check for an immediate match, otherwise start search at s+1
			x := load64(src, s-2)
			m2Hash := hash6(x, dictTableBits)
			currHash := hash6(x>>16, dictTableBits)
			candidate = int(table[currHash>>shift&tableMask])
			table[m2Hash>>shift&tableMask] = uint32(s - 2)
			table[currHash>>shift&tableMask] = uint32(s)
			if uint32(x>>16) != load32(src, candidate) {
				cv = load64(src, s+1)
				s++
				break
			}
		}
	}

	// Search without dict:
	if repeat > s {
		repeat = 0
	}

	// No more dict
	sLimit = len(src) - inputMargin
	if s >= sLimit {
		goto emitRemainder
	}
	cv = load64(src, s)
	for {
		candidate := 0
		for {
			// Next src position to check
			nextS := s + (s-nextEmit)>>6 + 4
			if nextS > sLimit {
				goto emitRemainder
			}
			hash0 := hash6(cv, dictTableBits)
			hash1 := hash6(cv>>8, dictTableBits)
			candidate = int(table[hash0>>shift&tableMask])
			candidate2 := int(table[hash1>>shift&tableMask])
			table[hash0>>shift&tableMask] = uint32(s)
			table[hash1>>shift&tableMask] = uint32(s + 1)
			hash2 := hash6(cv>>16, dictTableBits)

			// Check repeat at offset checkRep.
			const checkRep = 1
			if repeat > 0 && uint32(cv>>(checkRep*8)) == load32(src, s-repeat+checkRep) {
				base := s + checkRep
				// Extend back
				for i := base - repeat; base > nextEmit && i > 0 && src[i-1] == src[base-1]; {
					i--
					base--
				}
				// Bail if we exceed the maximum size.
				if d+(base-nextEmit) > dstLimit {
					return 0
				}

				d += emitLiteral(dst[d:], src[nextEmit:base])
				// Extend forward
				candidate := s - repeat + 4 + checkRep
				s += 4 + checkRep
				for s <= sLimit {
					if diff := load64(src, s) ^ load64(src, candidate); diff != 0 {
						s += bits.TrailingZeros64(diff) >> 3
						break
					}
					s += 8
					candidate += 8
				}
				if nextEmit > 0 {
					// same as `add := emitCopy(dst[d:], repeat, s-base)` but skips storing offset.
					d += emitRepeat(dst[d:], repeat, s-base)
				} else {
					// First match, cannot be repeat.
					d += emitCopy(dst[d:], repeat, s-base)
				}
				nextEmit = s
				if s >= sLimit {
					goto emitRemainder
				}

				cv = load64(src, s)
				continue
			}

			if uint32(cv) == load32(src, candidate) {
				break
			}
			candidate = int(table[hash2>>shift&tableMask])
			if uint32(cv>>8) == load32(src, candidate2) {
				table[hash2>>shift&tableMask] = uint32(s + 2)
				candidate = candidate2
				s++
				break
			}
			table[hash2>>shift&tableMask] = uint32(s + 2)
			if uint32(cv>>16) == load32(src, candidate) {
				s += 2
				break
			}

			cv = load64(src, nextS)
			s = nextS
		}

		// Extend backwards.
		// The top bytes will be rechecked to get the full match.
		for candidate > 0 && s > nextEmit && src[candidate-1] == src[s-1] {
			candidate--
			s--
		}

		// Bail if we exceed the maximum size.
		if d+(s-nextEmit) > dstLimit {
			return 0
		}

		// A 4-byte match has been found. We'll later see if more than 4 bytes
		// match. But, prior to the match, src[nextEmit:s] are unmatched. Emit
		// them as literal bytes.

		d += emitLiteral(dst[d:], src[nextEmit:s])
		// Call emitCopy, and then see if another emitCopy could be our next
		// move. Repeat until we find no match for the input immediately after
		// what was consumed by the last emitCopy call.
		//
		// If we exit this loop normally then we need to call emitLiteral next,
		// though we don't yet know how big the literal will be. We handle that
		// by proceeding to the next iteration of the main loop. We also can
		// exit this loop via goto if we get close to exhausting the input.
		for {
			// Invariant: we have a 4-byte match at s, and no need to emit any
			// literal bytes prior to s.
			base := s
			repeat = base - candidate

			// Extend the 4-byte match as long as possible.
			s += 4
			candidate += 4
			for s <= len(src)-8 {
				if diff := load64(src, s) ^ load64(src, candidate); diff != 0 {
					s += bits.TrailingZeros64(diff) >> 3
					break
				}
				s += 8
				candidate += 8
			}

			d += emitCopy(dst[d:], repeat, s-base)
			nextEmit = s
			if s >= sLimit {
				goto emitRemainder
			}

			if d > dstLimit {
				// Do we have space for more, if not bail.
				return 0
			}
			// Check for an immediate match, otherwise start search at s+1
			x := load64(src, s-2)
			m2Hash := hash6(x, dictTableBits)
			currHash := hash6(x>>16, dictTableBits)
			candidate = int(table[currHash>>shift&tableMask])
			table[m2Hash>>shift&tableMask] = uint32(s - 2)
			table[currHash>>shift&tableMask] = uint32(s)
			if uint32(x>>16) != load32(src, candidate) {
				cv = load64(src, s+1)
				s++
				break
			}
		}
	}

emitRemainder:
	if nextEmit < len(src) {
		// Bail if we exceed the maximum size.
		if d+len(src)-nextEmit > dstLimit {
			return 0
		}
		d += emitLiteral(dst[d:], src[nextEmit:])
	}
	return d
}

// emitLiteral writes a literal chunk and returns the number of bytes written.
//
// It assumes that:
//
//	dst is long enough to hold the encoded bytes
//	0 <= len(lit) && len(lit) <= math.MaxUint32
func emitLiteral(dst, lit []byte) int {
	if len(lit) == 0 {
		return 0
	}
	i, n := 0, uint(len(lit)-1)
	switch {
	case n < 60:
		dst[0] = uint8(n)<<2 | tagLiteral
		i = 1
	case n < 1<<8:
		dst[1] = uint8(n)
		dst[0] = 60<<2 | tagLiteral
		i = 2
	case n < 1<<16:
		dst[2] = uint8(n >> 8)
		dst[1] = uint8(n)
		dst[0] = 61<<2 | tagLiteral
		i = 3
	case n < 1<<24:
		dst[3] = uint8(n >> 16)
		dst[2] = uint8(n >> 8)
		dst[1] = uint8(n)
		dst[0] = 62<<2 | tagLiteral
		i = 4
	default:
		dst[4] = uint8(n >> 24)
		dst[3] = uint8(n >> 16)
		dst[2] = uint8(n >> 8)
		dst[1] = uint8(n)
		dst[0] = 63<<2 | tagLiteral
		i = 5
	}
	return i + copy(dst[i:], lit)
}

// emitRepeat writes a repeat chunk and returns the number of bytes written.
// Length must be at least 4 and < 1<<24
func emitRepeat(dst []byte, offset, length int) int {
	// Repeat offset, make length cheaper
	length -= 4
	if length <= 4 {
		dst[0] = uint8(length)<<2 | tagCopy1
		dst[1] = 0
		return 2
	}
	if length < 8 && offset < 2048 {
		// Encode WITH offset
		dst[1] = uint8(offset)
		dst[0] = uint8(offset>>8)<<5 | uint8(length)<<2 | tagCopy1
		return 2
	}
	if length < (1<<8)+4 {
		length -= 4
		dst[2] = uint8(length)
		dst[1] = 0
		dst[0] = 5<<2 | tagCopy1
		return 3
	}
	if length < (1<<16)+(1<<8) {
		length -= 1 << 8
		dst[3] = uint8(length >> 8)
		dst[2] = uint8(length >> 0)
		dst[1] = 0
		dst[0] = 6<<2 | tagCopy1
		return 4
	}
	const maxRepeat = (1 << 24) - 1
	length -= 1 << 16
	left := 0
	if length > maxRepeat {
		left = length - maxRepeat + 4
		length = maxRepeat - 4
	}
	dst[4] = uint8(length >> 16)
	dst[3] = uint8(length >> 8)
	dst[2] = uint8(length >> 0)
	dst[1] = 0
	dst[0] = 7<<2 | tagCopy1
	if left > 0 {
		return 5 + emitRepeat(dst[5:], offset, left)
	}
	return 5
}

// emitCopy writes a copy chunk and returns the number of bytes written.
//
// It assumes that:
//
//	dst is long enough to hold the encoded bytes
//	1 <= offset && offset <= math.MaxUint32
//	4 <= length && length <= 1 << 24
func emitCopy(dst []byte, offset, length int) int {
	if offset >= 65536 {
		i := 0
		if length > 64 {
			// Emit a length 64 copy, encoded as 5 bytes.
			dst[4] = uint8(offset >> 24)
			dst[3] = uint8(offset >> 16)
			dst[2] = uint8(offset >> 8)
			dst[1] = uint8(offset)
			dst[0] = 63<<2 | tagCopy4
			length -= 64
			if length >= 4 {
				// Emit remaining as repeats
				return 5 + emitRepeat(dst[5:], offset, length)
			}
			i = 5
		}
		if length == 0 {
			return i
		}
		// Emit a copy, offset encoded as 4 bytes.
		dst[i+0] = uint8(length-1)<<2 | tagCopy4
		dst[i+1] = uint8(offset)
		dst[i+2] = uint8(offset >> 8)
		dst[i+3] = uint8(offset >> 16)
		dst[i+4] = uint8(offset >> 24)
		return i + 5
	}

	// Offset no more than 2 bytes.
	if length > 64 {
		off := 3
		if offset < 2048 {
			// emit 8 bytes as tagCopy1, rest as repeats.
			dst[1] = uint8(offset)
			dst[0] = uint8(offset>>8)<<5 | uint8(8-4)<<2 | tagCopy1
			length -= 8
			off = 2
		} else {
			// Emit a length 60 copy, encoded as 3 bytes.
			// Emit remaining as repeat value (minimum 4 bytes).
			dst[2] = uint8(offset >> 8)
			dst[1] = uint8(offset)
			dst[0] = 59<<2 | tagCopy2
			length -= 60
		}
		// Emit remaining as repeats, at least 4 bytes remain.
		return off + emitRepeat(dst[off:], offset, length)
	}
	if length >= 12 || offset >= 2048 {
		// Emit the remaining copy, encoded as 3 bytes.
		dst[2] = uint8(offset >> 8)
		dst[1] = uint8(offset)
		dst[0] = uint8(length-1)<<2 | tagCopy2
		return 3
	}
	// Emit the remaining copy, encoded as 2 bytes.
	dst[1] = uint8(offset)
	dst[0] = uint8(offset>>8)<<5 | uint8(length-4)<<2 | tagCopy1
	return 2
}
