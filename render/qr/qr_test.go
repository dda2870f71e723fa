package qr

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"rsc.io/qr/coding"
)

// picture draws the code from its rectangles, with scale pixels a module
// and the quiet zone around it, as a reader would see it printed.
func picture(c *Code, scale int) *image.Gray {
	side := (c.Size() + 2*QuietZone) * scale
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for _, r := range c.Rects() {
		for y := (QuietZone + r.Y) * scale; y < (QuietZone+r.Y+r.H)*scale; y++ {
			for x := (QuietZone + r.X) * scale; x < (QuietZone+r.X+r.W)*scale; x++ {
				img.SetGray(x, y, color.Gray{})
			}
		}
	}
	return img
}

// decode reads the QR code in img.
func decode(t testing.TB, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return res.GetText()
}

func TestEncodeDecodes(t *testing.T) {
	t.Parallel()
	for _, content := range []string{
		"https://pay.invoiced.test/i/tok_8f3a9c2e71b44d0c",
		"https://checkout.stripe.com/c/pay/cs_live_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ#fidkdWxOYHwnPyd1blpxYHZxWjA0",
		"x",
		"Plată factura FACT-2026/0042 — 1.190,00 RON",
	} {
		c, err := Encode(content)
		if err != nil {
			t.Fatalf("Encode(%q): %v", content, err)
		}
		if got := decode(t, picture(c, 4)); got != content {
			t.Errorf("decoded %q, want %q", got, content)
		}
	}
}

func TestRectsCoverDarkModulesOnce(t *testing.T) {
	t.Parallel()
	c, err := Encode("https://pay.invoiced.test/i/tok_8f3a9c2e71b44d0c")
	if err != nil {
		t.Fatal(err)
	}
	covered := make([]int, c.Size()*c.Size())
	rects := c.Rects()
	for _, r := range rects {
		for y := r.Y; y < r.Y+r.H; y++ {
			for x := r.X; x < r.X+r.W; x++ {
				covered[y*c.Size()+x]++
			}
		}
	}
	dark := 0
	for y := range c.Size() {
		for x := range c.Size() {
			want := 0
			if c.Dark(x, y) {
				want = 1
				dark++
			}
			if got := covered[y*c.Size()+x]; got != want {
				t.Fatalf("module (%d,%d) covered %d times, want %d", x, y, got, want)
			}
		}
	}
	if len(rects) >= dark/2 {
		t.Errorf("%d rectangles for %d dark modules; merging does not work", len(rects), dark)
	}
	// Version 3 (29 modules) or 4 (33) for a link this long at level M.
	if c.Size() != 29 && c.Size() != 33 {
		t.Errorf("size = %d", c.Size())
	}
}

// TestAppendRects checks that AppendRects appends what Rects returns,
// after what the slice holds.
func TestAppendRects(t *testing.T) {
	var rects []Rect
	for _, content := range []string{"x", "https://pay.invoiced.test/i/tok_8f3a9c2e71b44d0c", strings.Repeat("long content ", 100)} {
		c, err := Encode(content)
		if err != nil {
			t.Fatal(err)
		}
		before := len(rects)
		rects = c.AppendRects(rects)
		if want := c.Rects(); !slices.Equal(rects[before:], want) {
			t.Errorf("%.20q: appended %d rectangles, unlike the %d of Rects", content, len(rects)-before, len(want))
		}
	}
}

// TestAppendBits checks each bit AppendBits appends against Dark, and
// that a row's bits after its last module are clear.
func TestAppendBits(t *testing.T) {
	for _, content := range []string{"x", "https://pay.invoiced.test/i/tok_8f3a9c2e71b44d0c", strings.Repeat("long content ", 100)} {
		c, err := Encode(content)
		if err != nil {
			t.Fatal(err)
		}
		prefix := []byte{0xA5}
		bits := c.AppendBits(prefix)
		stride := (c.Size() + 7) / 8
		if len(bits) != 1+stride*c.Size() || bits[0] != 0xA5 {
			t.Fatalf("%.20q: %d bytes after the prefix %x, want %d", content, len(bits)-1, bits[0], stride*c.Size())
		}
		bits = bits[1:]
		for y := range c.Size() {
			for x := range stride * 8 {
				set := bits[y*stride+x/8]&(0x80>>(x%8)) != 0
				if set != c.Dark(x, y) {
					t.Fatalf("%.20q: module %d,%d: bit %v, dark %v", content, x, y, set, c.Dark(x, y))
				}
			}
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()
	if _, err := Encode(""); !errors.Is(err, ErrEmpty) {
		t.Errorf("Encode(\"\") = %v, want ErrEmpty", err)
	}
	if _, err := Encode(strings.Repeat("x", 5000)); err == nil {
		t.Error("Encode(5000 bytes) succeeded")
	}
	c, _ := Encode("x")
	if c.Dark(-1, 0) || c.Dark(0, c.Size()) {
		t.Error("a module outside the code is dark")
	}
}

func BenchmarkEncode(b *testing.B) {
	for b.Loop() {
		c, err := Encode("https://pay.invoiced.test/i/tok_8f3a9c2e71b44d0c")
		if err != nil {
			b.Fatal(err)
		}
		c.Rects()
	}
}

func TestPenalty(t *testing.T) {
	square := func(n int, dark func(x, y int) bool) *Code {
		c := newCode(n)
		for y := range n {
			for x := range n {
				if dark(x, y) {
					c.setDark(x, y)
				}
			}
		}
		return c
	}
	cases := []struct {
		name string
		code *Code
		want int
	}{
		// 42 lines of 21 (N1 3+16 each), 400 2×2 blocks, all dark (N4 100).
		{"all dark", square(21, func(x, y int) bool { return true }), 42*19 + 400*3 + 100},
		{"checkerboard", square(21, func(x, y int) bool { return (x+y)%2 == 0 }), 0},
		// Row 0 reads 1011101, then 14 light modules; all else is light.
		// N1: row 0's light run of 14 (12), rows 1–20 (19 each), the
		// columns under the five dark modules (a light run of 20: 18
		// each) and the 16 light columns (19 each). N2: the light 2×2
		// blocks of rows 1–20 (19×20) and of rows 0–1 in columns 7–20
		// (13). N3: the pattern has light on both sides, the quiet zone
		// before it and the light run after: counted once per side, as
		// reference encoders do. N4: 5 of 441 dark, 1 %, 9 steps of 5 %.
		{"finder-like row", square(21, func(x, y int) bool { return y == 0 && x < 7 && x != 1 && x != 5 }),
			12 + 20*19 + 5*18 + 16*19 + (19*20+13)*3 + 2*40 + 9*10},
	}
	for _, c := range cases {
		if got := c.code.penalty(); got != c.want {
			t.Errorf("%s: penalty %d, want %d", c.name, got, c.want)
		}
	}
}

// TestEncodePicksLowestPenalty checks that of the eight masks the one
// with the lowest penalty is chosen.
func TestEncodePicksLowestPenalty(t *testing.T) {
	for _, content := range []string{"https://pay.invoiced.test/i/tok_8f3a9c2e71b44d0c", "HELLO WORLD 42", "0123456789"} {
		c, err := Encode(content)
		if err != nil {
			t.Fatal(err)
		}
		chosen := c.penalty()
		for v := 1; v <= 40; v++ {
			if len(mustPlan(t, v, 0).Pixel) == c.size {
				var bits coding.Bits
				enc := encodingOf(content)
				enc.Encode(&bits, coding.Version(v))
				bits.AddCheckBytes(coding.Version(v), coding.M)
				for m := range coding.Mask(8) {
					if p := layOut(mustPlan(t, v, m), bits.Bytes()).penalty(); p < chosen {
						t.Errorf("%q: mask %d scores %d, below the chosen code's %d", content, m, p, chosen)
					}
				}
				break
			}
		}
	}
}

// TestEncodingOf checks the mode chosen for content against the Check
// of rsc.io/qr's numeric and alphanumeric modes, which encode it.
func TestEncodingOf(t *testing.T) {
	for _, content := range []string{
		"0123456789", "007", "12.50", "HELLO WORLD 42", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:",
		"Hello", "BCD\n002", "A_B", "https://pay.invoiced.test/i/tok_8f3a9c2e71b44d0c", "Müller", "ÄÖÜ", "٣",
	} {
		var want string
		switch {
		case coding.Num(content).Check() == nil:
			want = "coding.Num"
		case coding.Alpha(content).Check() == nil:
			want = "coding.Alpha"
		case ascii(content):
			want = "coding.String"
		default:
			want = "qr.utf8String"
		}
		if got := fmt.Sprintf("%T", encodingOf(content)); got != want {
			t.Errorf("encodingOf(%q) is %s, want %s", content, got, want)
		}
	}
}

func mustPlan(t *testing.T, v int, m coding.Mask) *coding.Plan {
	t.Helper()
	p, err := planFor(coding.Version(v), m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWordPenaltyMatchesBytePenalty checks the word-at-a-time scoring
// against the module-at-a-time one on random codes and real ones.
func TestWordPenaltyMatchesBytePenalty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var codes []*Code
	for _, n := range []int{21, 25, 33, 45, 56} {
		for range 50 {
			c := newCode(n)
			density := rng.Float64()
			for i := range n * n {
				if rng.Float64() < density {
					c.setDark(i%n, i/n)
				}
			}
			codes = append(codes, c)
		}
	}
	for _, content := range []string{"x", "https://pay.invoiced.test/i/tok_8f3a9c2e71b44d0c", strings.Repeat("EPC payload ", 20)} {
		c, err := Encode(content)
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, c)
	}
	for i, c := range codes {
		if c.size > maxWordSize {
			continue
		}
		if w, b := c.wordPenalty(), c.bytePenalty(); w != b {
			t.Fatalf("code %d (%d modules): word penalty %d, byte penalty %d", i, c.size, w, b)
		}
	}
}

// TestEncodeWordsMatchesModules checks that the word-at-a-time layout
// makes the same codes as the module-at-a-time one.
func TestEncodeWordsMatchesModules(t *testing.T) {
	for v := 1; 17+4*v <= maxWordSize; v++ {
		var bits coding.Bits
		enc := coding.String(strings.Repeat("é", v*3))
		enc.Encode(&bits, coding.Version(v))
		bits.AddCheckBytes(coding.Version(v), coding.M)
		words, err := encodeWords(coding.Version(v), bits.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		modules, err := encodeModules(coding.Version(v), bits.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if words.size != modules.size || !bytes.Equal(words.bits, modules.bits) {
			t.Errorf("version %d: the two layouts differ", v)
		}
	}
}

// TestEncodeUnchanged holds Encode to the codes it made when a code's
// modules were kept one bool each: the SHA-256 of 400 codes' bits and
// modules, of payment links, EPC transfers and UTF-8 text.
func TestEncodeUnchanged(t *testing.T) {
	h := sha256.New()
	for i := range 400 {
		content := fmt.Sprintf("https://pay.invoiced.test/i/tok_%x?amount=%d", i*7919, i)
		if i%3 == 1 {
			content = "BCD\n002\n1\nSCT\nAAAARO22\nACME SRL\nRO49AAAA1B31007593840000\nEUR" + fmt.Sprint(i) + ".50\n\n\nINV-" + fmt.Sprint(i)
		}
		if i%7 == 2 {
			content = strings.Repeat("é€x", i%60+1)
		}
		c, err := Encode(content)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(c.AppendBits(nil))
		for y := range c.Size() {
			for x := range c.Size() {
				h.Write([]byte{byte(b2i(c.Dark(x, y)))})
			}
		}
	}
	const want = "fe31bb27a1ae20f7d7ea01404a61702b2dff31694ebe5f47c7e935bef9b3afe8"
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != want {
		t.Errorf("codes hash %s, want %s", got, want)
	}
}

// TestEncodeAllocations checks that encoding a payment link or a bank
// transfer's payload allocates a handful of times: the content as an
// encoding, the codewords and the code, and no words for the masks'
// rows and columns, Reed–Solomon generator or growing buffer per code.
func TestEncodeAllocations(t *testing.T) {
	for _, content := range []string{
		"https://pay.invoiced.test/i/tok_8f3a9c2e71b44d0c",
		"BCD\n002\n1\nSCT\nAAAARO22\nACME SRL\nRO49AAAA1B31007593840000\nEUR1130.50\n\n\nINV-1001",
	} {
		if _, err := Encode(content); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(20, func() { Encode(content) }); n > 6 {
			t.Errorf("Encode(%q) allocates %v times, want at most 6", content, n)
		}
	}
}

// TestTransposeWords checks transposeWords against a bit-by-bit
// transposition of random words.
func TestTransposeWords(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 20 {
		var m, want [64]uint64
		for i := range m {
			m[i] = rng.Uint64()
		}
		for r := range 64 {
			for c := range 64 {
				want[c] |= (m[r] >> c & 1) << r
			}
		}
		got := m
		transposeWords(&got)
		if got != want {
			t.Fatalf("transposeWords(%x) = %x, want %x", m, got, want)
		}
	}
}

// TestEncodeRandom checks Encode against the codes of the standard's
// rules applied a module at a time, without the words: for 3,000 random
// contents (digits, alphanumeric text, ASCII and UTF-8 bytes, up to
// version 10 and beyond), each mask's code laid out module by module
// and scored by bytePenalty, the lowest kept. Encode must choose the
// same mask and so the same modules.
func TestEncodeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	alphabets := []string{"0123456789", alphanumeric, "abcdefghijklmnopqrstuvwxyz/:.?=&-_0123456789", "aé€Ωж\n "}
	for i := range 3000 {
		runes := []rune(alphabets[i%len(alphabets)])
		n := 1 + rng.IntN(1+[]int{40, 120, 300}[i%3])
		var b strings.Builder
		for range n {
			b.WriteRune(runes[rng.IntN(len(runes))])
		}
		content := b.String()
		got, err := Encode(content)
		if err != nil {
			t.Fatal(err)
		}
		version, codewords, err := codewordsOf(content)
		if err != nil {
			t.Fatal(err)
		}
		var want *Code
		bestScore := 0
		for mask := range coding.Mask(8) {
			plan, err := planFor(version, mask)
			if err != nil {
				t.Fatal(err)
			}
			c := layOut(plan, codewords)
			if score := c.bytePenalty(); want == nil || score < bestScore {
				want, bestScore = c, score
			}
		}
		if got.size != want.size || !bytes.Equal(got.bits, want.bits) {
			t.Fatalf("Encode(%q) differs from the code laid out and scored a module at a time", content)
		}
	}
}
