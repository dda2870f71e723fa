// Package qr encodes text, such as an invoice's payment link, as a QR code
// and describes the code as a few filled rectangles, so that a PDF or SVG
// can draw it as sharp vector graphics at any size.
package qr

import (
	"errors"
	"fmt"

	"math/bits"
	"strings"
	"sync"

	"rsc.io/qr/coding"
	"rsc.io/qr/gf256"
)

// QuietZone is the width, in modules, of the light margin that readers
// need around a code. Code does not include it: whoever draws the code
// keeps that much space free around it.
const QuietZone = 4

// ErrEmpty is returned by Encode for empty content.
var ErrEmpty = errors.New("qr: nothing to encode")

// Code is a QR code: a square of dark and light modules.
type Code struct {
	size int
	// bits holds the modules as AppendBits appends them: row by row,
	// (size+7)/8 bytes a row, the first module in the most significant
	// bit.
	bits []byte
}

// newCode returns a code of size modules, all light.
func newCode(size int) *Code {
	return &Code{size: size, bits: make([]byte, (size+7)/8*size)}
}

// dark reports whether the module in column x of row y, both inside
// the code, is dark.
func (c *Code) dark(x, y int) bool {
	return c.bits[y*((c.size+7)/8)+x/8]&(0x80>>(x%8)) != 0
}

// setDark makes the module in column x of row y dark.
func (c *Code) setDark(x, y int) {
	c.bits[y*((c.size+7)/8)+x/8] |= 0x80 >> (x % 8)
}

// Encode returns the QR code for content at error-correction level M
// (15 % of the code may be damaged), the usual level for printed links:
// the smallest version that holds it, in numeric, alphanumeric or byte
// mode, whichever is smallest (byte mode with an ECI segment that declares
// UTF-8 for content that is not ASCII), with the mask that scores the lowest
// penalty (ISO/IEC 18004 §7.8.3). It fails for empty content and for
// content too long for a QR code (about 2,300 bytes).
func Encode(content string) (*Code, error) {
	version, codewords, err := codewordsOf(content)
	if err != nil {
		return nil, err
	}
	if size := 17 + 4*int(version); size <= maxWordSize {
		return encodeWords(version, codewords)
	}
	return encodeModules(version, codewords)
}

// codewordsOf returns the smallest version at level M that holds
// content, and the data and error-correction codewords of content in
// it. They are the same under every mask: Encode computes them once and
// lays them out under each mask.
func codewordsOf(content string) (coding.Version, []byte, error) {
	if content == "" {
		return 0, nil, ErrEmpty
	}
	enc := encodingOf(content)
	v := coding.MinVersion
	for ; enc.Bits(coding.Version(v)) > coding.Version(v).DataBytes(coding.M)*8; v++ {
		if v == coding.MaxVersion {
			return 0, nil, fmt.Errorf("qr: %d bytes are too many for a QR code", len(content))
		}
	}
	version := coding.Version(v)
	plan, err := planFor(version, 0)
	if err != nil {
		return 0, nil, fmt.Errorf("qr: %w", err)
	}
	var bits coding.Bits
	// Room for every codeword at once, where Bits would grow its bytes
	// by appending them one at a time.
	bits.Append(make([]byte, plan.DataBytes+plan.CheckBytes))
	bits.Reset()
	enc.Encode(&bits, version)
	return version, addCheckBytes(&bits, plan), nil
}

// addCheckBytes pads the data bits to the data codewords of plan and
// appends their error-correction codewords, block by block, as
// coding.Bits.AddCheckBytes does. It takes the Reed–Solomon encoder of
// a block's number of check bytes from rsEncoders, where AddCheckBytes
// made one, with its generator polynomial, for every code.
func addCheckBytes(b *coding.Bits, plan *coding.Plan) []byte {
	nd := plan.DataBytes
	if b.Bits() < nd*8 {
		b.Pad(nd*8 - b.Bits())
	}
	check := plan.CheckBytes / plan.Blocks
	rs := rsEncoderFor(check)
	defer rsEncoders[check].Put(rs)
	var chk [maxCheckBytes]byte
	dat := b.Bytes()
	db, extra := nd/plan.Blocks, nd%plan.Blocks
	for i := range plan.Blocks {
		if i == plan.Blocks-extra {
			db++
		}
		rs.ECC(dat[:db], chk[:check])
		b.Append(chk[:check])
		dat = dat[db:]
	}
	return b.Bytes()
}

// maxCheckBytes is the most error-correction codewords a block of any
// version and level has (ISO/IEC 18004 table 9).
const maxCheckBytes = 30

// rsEncoders keeps the Reed–Solomon encoders of each number of check
// bytes a block may have; an encoder keeps a scratch buffer, so each is
// used by one code at a time.
var rsEncoders [maxCheckBytes + 1]sync.Pool

// rsEncoderFor returns an encoder of check bytes, to be put back in
// rsEncoders[check].
func rsEncoderFor(check int) *gf256.RSEncoder {
	if rs, ok := rsEncoders[check].Get().(*gf256.RSEncoder); ok {
		return rs
	}
	return gf256.NewRSEncoder(coding.Field, check)
}

// encodeModules lays codewords out as a code of version v under each
// mask, a module at a time, and keeps the one with the lowest penalty.
func encodeModules(v coding.Version, codewords []byte) (*Code, error) {
	var best *Code
	bestScore := 0
	for mask := range coding.Mask(8) {
		plan, err := planFor(v, mask)
		if err != nil {
			return nil, fmt.Errorf("qr: %w", err)
		}
		c := layOut(plan, codewords)
		if score := c.penalty(); best == nil || score < bestScore {
			best, bestScore = c, score
		}
	}
	return best, nil
}

// encodingOf returns the smallest of the numeric, alphanumeric and byte
// mode that can hold content; byte mode declares UTF-8 when content is
// not ASCII.
func encodingOf(content string) coding.Encoding {
	switch {
	case all(content, "0123456789"):
		return coding.Num(content)
	case all(content, alphanumeric):
		return coding.Alpha(content)
	case !ascii(content):
		return utf8String(content)
	default:
		return coding.String(content)
	}
}

// alphanumeric is the character set of the alphanumeric mode (ISO/IEC
// 18004 §7.4.4), which coding.Alpha encodes.
const alphanumeric = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// all reports whether every byte of s is one of set's, which is ASCII.
// It is coding.Num's and coding.Alpha's Check without the error they
// format for each content that fails it, as most of a payment's do.
func all(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

// ascii reports whether s is all ASCII.
func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// eciUTF8 is the ECI designator of UTF-8 (ISO/IEC 18004 §7.4.2; AIM ECI
// 26).
const eciUTF8 = 26

// utf8String is byte mode preceded by an ECI segment that declares
// UTF-8. Without it a reader is free to take the bytes for ISO 8859-1,
// as the standard's default is, and many do: "Müller" comes out as
// "MÃ¼ller". The EPC transfer and the Swiss QR bill are UTF-8 by their
// specifications, which most banking apps know, but a payee name must
// read right in any reader.
type utf8String string

// Check accepts any bytes, as byte mode does.
func (s utf8String) Check() error { return nil }

// Bits is the ECI header (mode 0111 and an 8-bit designator) and the
// byte mode segment.
func (s utf8String) Bits(v coding.Version) int { return 4 + 8 + coding.String(s).Bits(v) }

// Encode writes the ECI header and the byte mode segment.
func (s utf8String) Encode(b *coding.Bits, v coding.Version) {
	b.Write(0b0111, 4)
	b.Write(eciUTF8, 8)
	coding.String(s).Encode(b, v)
}

// wordLayout is what every code of one version up to maxWordSize
// modules shares, as words with module i at bit i+4: where the data and
// check bits go, and under each mask the modules that do not depend on
// the data (finder and timing patterns, format and version information)
// with the mask applied to the data modules. A code under a mask is then
// that mask's modules XOR its data, a word per row or column.
type wordLayout struct {
	data       []dataBits
	rows, cols [8][]uint64
}

// dataBits are one or two modules of a row that carry bits of the
// codewords: (codewords[byte] >> shift) & mask, set at bit at of the
// row's word. Two are the bits at an even offset and the next, which
// the standard's placement puts side by side in a row, the first on the
// right, as most are; one is a module whose neighbour is not its pair.
type dataBits struct {
	y, at, shift, mask uint8
	byte               uint16
}

// wordLayouts caches a *wordLayout per version.
var wordLayouts sync.Map

func wordLayoutFor(v coding.Version) (*wordLayout, error) {
	if l, ok := wordLayouts.Load(v); ok {
		return l.(*wordLayout), nil
	}
	l := &wordLayout{}
	// modules[o] is the column and row of the module with bit offset o.
	var modules [][2]int
	for mask := range coding.Mask(8) {
		plan, err := planFor(v, mask)
		if err != nil {
			return nil, err
		}
		n := len(plan.Pixel)
		l.rows[mask], l.cols[mask] = make([]uint64, n), make([]uint64, n)
		for y, row := range plan.Pixel {
			for x, pix := range row {
				if mask == 0 {
					if r := pix.Role(); r == coding.Data || r == coding.Check {
						o := int(pix.Offset())
						if o >= len(modules) {
							modules = append(modules, make([][2]int, o+1-len(modules))...)
						}
						modules[o] = [2]int{x, y}
					}
				}
				if pix&coding.Black != 0 {
					l.rows[mask][y] |= 1 << (x + 4)
					l.cols[mask][x] |= 1 << (y + 4)
				}
			}
		}
	}
	for o := 0; o < len(modules); o++ {
		x, y := modules[o][0], modules[o][1]
		if o%2 == 0 && o+1 < len(modules) && modules[o+1] == [2]int{x - 1, y} {
			l.data = append(l.data, dataBits{y: uint8(y), at: uint8(x - 1 + 4), shift: uint8(6 - o%8), mask: 3, byte: uint16(o / 8)})
			o++
			continue
		}
		l.data = append(l.data, dataBits{y: uint8(y), at: uint8(x + 4), shift: uint8(7 - o%8), mask: 1, byte: uint16(o / 8)})
	}
	wordLayouts.Store(v, l)
	return l, nil
}

// encodeWords lays codewords out as a code of version v, which must fit
// in words, under the mask with the lowest penalty.
func encodeWords(v coding.Version, codewords []byte) (*Code, error) {
	l, err := wordLayoutFor(v)
	if err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	n := len(l.rows[0])
	// dataRows and then dataCols: the data's rows, set in words 4 to
	// n+3 of the 64, with module x at bit x+4, transposed are its
	// columns, column x in word x+4 with row y at bit y+4.
	var data [64]uint64
	dataRows := data[4 : 4+n]
	// Without a branch: a codeword's bits are as good as random, and a
	// mispredicted branch per module cost more than the rest of the loop.
	for _, d := range l.data {
		dataRows[d.y] |= uint64(codewords[d.byte]>>d.shift&d.mask) << d.at
	}
	dataCols := data
	transposeWords(&dataCols)
	var room [2 * maxWordSize]uint64 // on the stack
	rows, cols := room[:n], room[n:2*n]
	best, bestScore := 0, 0
	for mask := range 8 {
		for i := range n {
			rows[i] = l.rows[mask][i] ^ dataRows[i]
			cols[i] = l.cols[mask][i] ^ dataCols[i+4]
		}
		if score := wordsPenalty(rows, cols); mask == 0 || score < bestScore {
			best, bestScore = mask, score
		}
	}
	c := newCode(n)
	stride := (n + 7) / 8
	for y := range n {
		// Module x at bit x; bits beyond the code's are clear.
		row := (l.rows[best][y] ^ dataRows[y]) >> 4
		for i := range stride {
			c.bits[y*stride+i] = bits.Reverse8(uint8(row >> (8 * i)))
		}
	}
	return c, nil
}

// transposeWords transposes the 64×64 bits of m in place: bit c of
// word r goes to bit r of word c. It swaps the two off-diagonal blocks
// of 32×32 bits, then within each block those of 16×16, and so on
// down to single bits, each step a few operations on two words.
func transposeWords(m *[64]uint64) {
	mask := uint64(0x00000000FFFFFFFF)
	for j := 32; j != 0; j, mask = j>>1, mask^(mask<<(j>>1)) {
		for k := 0; k < 64; k = (k + j + 1) &^ j {
			t := (m[k]>>j ^ m[k+j]) & mask
			m[k] ^= t << j
			m[k+j] ^= t
		}
	}
}

// plans caches a *coding.Plan per version and mask at level M: a plan
// is the same for every code of its version and takes longer to make
// than a code.
var plans sync.Map

type planKey struct {
	version coding.Version
	mask    coding.Mask
}

func planFor(v coding.Version, m coding.Mask) (*coding.Plan, error) {
	if p, ok := plans.Load(planKey{v, m}); ok {
		return p.(*coding.Plan), nil
	}
	p, err := coding.NewPlan(v, coding.M, m)
	if err != nil {
		return nil, err
	}
	plans.Store(planKey{v, m}, p)
	return p, nil
}

// layOut places codewords on plan's modules.
func layOut(plan *coding.Plan, codewords []byte) *Code {
	size := len(plan.Pixel)
	c := newCode(size)
	for y, row := range plan.Pixel {
		for x, pix := range row {
			switch pix.Role() {
			case coding.Data, coding.Check:
				if o := pix.Offset(); codewords[o/8]&(1<<(7-o&7)) != 0 {
					pix ^= coding.Black
				}
			}
			if pix&coding.Black != 0 {
				c.setDark(x, y)
			}
		}
	}
	return c
}

// penalty scores c by the four rules of ISO/IEC 18004 §7.8.3.1: runs of
// five or more modules of one colour in a row or column (N1 = 3, plus one
// per module beyond five), 2×2 blocks of one colour (N2 = 3 each),
// finder-like 1:1:3:1:1 patterns with four light modules on one side
// (N3 = 40 each), and the dark share's distance from half (N4 = 10 per
// 5 %).
func (c *Code) penalty() int {
	if c.size <= maxWordSize {
		return c.wordPenalty()
	}
	return c.bytePenalty()
}

// bytePenalty is penalty for codes of any size, a module at a time.
func (c *Code) bytePenalty() int {
	n := c.size
	// The modules as 0 and 1, row by row and column by column.
	rows := make([]byte, n*n)
	cols := make([]byte, n*n)
	score, dark := 0, 0
	for y := range n {
		for x := range n {
			d := byte(b2i(c.dark(x, y)))
			rows[y*n+x], cols[x*n+y] = d, d
			dark += int(d)
		}
	}
	for i := range n {
		score += linePenalty(rows[i*n:(i+1)*n]) + linePenalty(cols[i*n:(i+1)*n])
	}
	for y := range n - 1 {
		top, bottom := rows[y*n:(y+1)*n], rows[(y+1)*n:(y+2)*n]
		for x := range n - 1 {
			if d := top[x]; d == top[x+1] && d == bottom[x] && d == bottom[x+1] {
				score += 3
			}
		}
	}
	deviation := dark*100/(n*n) - 50
	if deviation < 0 {
		deviation = -deviation
	}
	return score + deviation/5*10
}

// finderLike is the 1:1:3:1:1 pattern, dark first, and the four light
// modules beside it, as 11 bits, most significant first.
const (
	finderThenLight = 0b10111010000
	lightThenFinder = 0b00001011101
)

// linePenalty scores one row or column, its modules as 0 and 1, by rules
// N1 and N3. Modules beyond the code are light, as the quiet zone is.
func linePenalty(line []byte) int {
	score, run := 0, 1
	// window holds the last 11 modules, the newest in the lowest bit;
	// it starts light, as the quiet zone before the line is.
	window := int(line[0])
	for j := 1; j < len(line); j++ {
		if line[j] == line[j-1] {
			run++
		} else {
			if run >= 5 {
				score += run - 2
			}
			run = 1
		}
		window = (window<<1 | int(line[j])) & 0x7FF
		if window == finderThenLight || window == lightThenFinder {
			score += 40
		}
	}
	if run >= 5 {
		score += run - 2
	}
	// The quiet zone after the line.
	for range 4 {
		window = window << 1 & 0x7FF
		if window == finderThenLight {
			score += 40
		}
	}
	return score
}

// maxWordSize is the largest code wordPenalty scores: a line, with the
// four light modules of the quiet zone on either side, in 64 bits.
const maxWordSize = 64 - 8

// wordPenalty is penalty for codes up to maxWordSize modules wide (up to
// version 10, which holds every payment link and bank transfer code), a
// line at a time: each row and column is a word with the quiet zone's
// four light bits on either side, module x at bit x+4, and the rules are
// counted over all positions at once.
func (c *Code) wordPenalty() int {
	n := c.size
	rows := make([]uint64, n)
	cols := make([]uint64, n)
	for y := range n {
		var row uint64
		for x := range n {
			bit := uint64(b2i(c.dark(x, y)))
			row |= bit << (x + 4)
			cols[x] |= bit << (y + 4)
		}
		rows[y] = row
	}
	return wordsPenalty(rows, cols)
}

// wordsPenalty is penalty for a code given as its rows and its columns,
// each a word with module i at bit i+4.
func wordsPenalty(rows, cols []uint64) int {
	n := len(rows)
	inside := uint64(1)<<(n+4) - 1<<4 // the bits of modules
	score, dark := 0, 0
	for i := range n {
		score += wordLinePenalty(rows[i], n, inside) + wordLinePenalty(cols[i], n, inside)
		dark += bits.OnesCount64(rows[i])
	}
	// N2: bit x of same is set where modules x and x+1 match.
	pairs := inside & (inside >> 1)
	for y := range n - 1 {
		top, bottom := rows[y], rows[y+1]
		same := ^(top ^ top>>1) & ^(bottom ^ bottom>>1) & ^(top ^ bottom) & pairs
		score += 3 * bits.OnesCount64(same)
	}
	deviation := dark*100/(n*n) - 50
	if deviation < 0 {
		deviation = -deviation
	}
	return score + deviation/5*10
}

// wordLinePenalty scores a line of n modules, as wordPenalty lays it
// out, by rules N1 and N3.
func wordLinePenalty(line uint64, n int, inside uint64) int {
	// N1: a run of L ≥ 5 scores L − 2, that is one for each of its L − 4
	// windows of five matching modules, and two more at its start.
	eq := ^(line ^ line>>1)                        // bit x: modules x and x+1 match
	five := eq & (eq >> 1) & (eq >> 2) & (eq >> 3) // bit x: modules x to x+4 match
	five &= inside & (inside >> 4)                 // … and all five are in the code
	starts := five &^ ((eq << 1) & (inside << 1))
	score := bits.OnesCount64(five) + 2*bits.OnesCount64(starts)
	// N3: the 11 modules from x up read one of the patterns (modules in
	// order from the most significant bit of the pattern), anywhere from
	// the quiet zone before the line to the one after it. Both patterns
	// are the finder's 1:1:3:1:1 and four light modules: finder has bit x
	// set where modules x to x+6 read dark, light, dark, dark, dark,
	// light, dark, and light where modules x to x+3 are light.
	finder := line & ^(line >> 1) & (line >> 2) & (line >> 3) & (line >> 4) & ^(line >> 5) & (line >> 6)
	light := ^(line | line>>1 | line>>2 | line>>3)
	fits := uint64(1)<<(n+8-10) - 1                        // every start that fits in the line and its quiet zones
	score += 40 * bits.OnesCount64(finder&(light>>7)&fits) // finderThenLight
	score += 40 * bits.OnesCount64(light&(finder>>4)&fits) // lightThenFinder
	return score
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Size is the number of modules along each side, quiet zone excluded.
func (c *Code) Size() int { return c.size }

// Dark reports whether the module in column x of row y is dark. Modules
// outside the code are light.
func (c *Code) Dark(x, y int) bool {
	if x < 0 || y < 0 || x >= c.size || y >= c.size {
		return false
	}
	return c.dark(x, y)
}

// AppendBits appends the modules to b row by row from the top,
// (Size()+7)/8 bytes a row, a dark module's bit set and a row's first
// module in the most significant bit; the bits after a row's last
// module are clear. It is the code as a one-bit image.
func (c *Code) AppendBits(b []byte) []byte {
	return append(b, c.bits...)
}

// Rect is a rectangle of dark modules: X and Y are the column and row of
// its top left module, W and H its size in modules.
type Rect struct {
	X, Y, W, H int
}

// Rects covers the dark modules with rectangles that do not overlap: each
// row's runs of dark modules, with a run merged into the one above it when
// both span the same columns. That takes a typical code from about a
// thousand modules to a few hundred rectangles.
func (c *Code) Rects() []Rect {
	return c.AppendRects(make([]Rect, 0, c.size*c.size/4))
}

// AppendRects appends the rectangles of Rects to rects, so that one
// slice may serve code after code.
func (c *Code) AppendRects(rects []Rect) []Rect {
	base := len(rects)
	// open[x] is 1 + the index in rects of the rectangle whose run starts
	// at column x in the row above, 0 for none; next is the same for the
	// row being read.
	var openWords, nextWords [maxWordSize]int
	var open, next []int
	if c.size <= maxWordSize {
		open, next = openWords[:c.size], nextWords[:c.size]
	} else {
		open, next = make([]int, c.size), make([]int, c.size)
	}
	for y := range c.size {
		clear(next)
		for x := 0; x < c.size; {
			if !c.Dark(x, y) {
				x++
				continue
			}
			start := x
			for x < c.size && c.Dark(x, y) {
				x++
			}
			if i := open[start] - 1; i >= 0 && rects[base+i].W == x-start {
				rects[base+i].H++
				next[start] = i + 1
				continue
			}
			rects = append(rects, Rect{X: start, Y: y, W: x - start, H: 1})
			next[start] = len(rects) - base
		}
		open, next = next, open
	}
	return rects
}
