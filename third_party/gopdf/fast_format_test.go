package gopdf

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendFixed compares appendFixed with exact conversion over a
// million values: they may differ only where a value rounds to zero
// from below ("-0.00") and on exact ties.
func TestAppendFixed(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 1_000_000 {
		f := (rng.Float64() - 0.3) * 2000
		if i%3 == 0 {
			f = float64(rng.IntN(200000)) / 100
		}
		for _, prec := range []int{2, 3} {
			got := string(appendFixed(nil, f, prec))
			want := strconv.FormatFloat(f, 'f', prec, 64)
			if got != want && !(want[0] == '-' && got == want[1:]) {
				t.Fatalf("appendFixed(%v, %d) = %s, want %s", f, prec, got, want)
			}
		}
	}
	for _, c := range []struct {
		f    float64
		prec int
		want string
	}{
		{0, 2, "0.00"}, {841.89, 2, "841.89"}, {-12.345678, 2, "-12.35"}, {0.125, 2, "0.12"}, {0.375, 2, "0.38"},
		{31.0 / 255, 3, "0.122"}, {1, 3, "1.000"}, {1e13, 2, "10000000000000.00"}, {3.14159, 1, "3.1"},
	} {
		if got := string(appendFixed(nil, c.f, c.prec)); got != c.want {
			t.Errorf("appendFixed(%v, %d) = %s, want %s", c.f, c.prec, got, c.want)
		}
	}
}

func TestAppendGlyphHex(t *testing.T) {
	for _, g := range []uint{0, 9, 0xAB, 0x1F2C, 0xFFFF, 0x1ABCD} {
		if got, want := string(appendGlyphHex(nil, g)), fmt.Sprintf("%04X", g); got != want {
			t.Errorf("appendGlyphHex(%d) = %s, want %s", g, got, want)
		}
	}
}

func TestAppendRGB(t *testing.T) {
	got := string(appendRGB(nil, 0x1F, 0x29, 0x33, "rg"))
	want := fmt.Sprintf("%.3f %.3f %.3f %s\n", 31.0/255, 41.0/255, 51.0/255, "rg")
	if got != want {
		t.Errorf("appendRGB = %q, want %q", got, want)
	}
}

// TestAppendFloatTrim compares appendFloatTrim with FormatFloatTrim.
func TestAppendFloatTrim(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	values := []float64{0, -0.0001, 0.0004, 8.5, 7.5, 100, -2.25, 0.0005, 1e12 + 0.5, 2e15, -3e16}
	for range 1_000_000 {
		values = append(values, (rng.Float64()-0.5)*2000, float64(rng.IntN(200000))/1000)
	}
	for _, f := range values {
		if got, want := string(appendFloatTrim(nil, f)), FormatFloatTrim(f); got != want {
			t.Fatalf("appendFloatTrim(%v) = %s, want %s", f, got, want)
		}
	}
}

// TestEncodeUtf8 checks the document information strings: each
// character in four hex digits at least, as "%04X" prints it.
func TestEncodeUtf8(t *testing.T) {
	s := "Factură Ζωή 株 🍕"
	want := ""
	for _, r := range s {
		want += fmt.Sprintf("%04X", r)
	}
	if got := encodeUtf8(s); got != want {
		t.Errorf("encodeUtf8(%q) = %s, want %s", s, got, want)
	}
}

// TestObjectNumbers checks the numbers of the object writers against
// the fmt verbs they replace: "%04X" of the ToUnicode map's code space,
// whose bounds are 65536 and -1 for a font that draws nothing, and
// "%0.2f" of the page boxes and link rectangles.
func TestObjectNumbers(t *testing.T) {
	for _, n := range []int{0, 0xa, 0x3b, 0xfff, 0xbeef, 0x10000, -1, -0x1f, -0x1234} {
		if got, want := string(appendHex04(nil, n)), fmt.Sprintf("%04X", n); got != want {
			t.Errorf("appendHex04(%d) = %s, want %s", n, got, want)
		}
	}
	fs := []float64{0, math.Copysign(0, -1), 595.28, 841.89, 0.005, 0.015, -0.004, 1e21, math.Inf(1), math.NaN()}
	want := ""
	for _, f := range fs {
		want += fmt.Sprintf("%0.2f ", f)
	}
	if got := string(appendExact2s(nil, fs...)); got != want {
		t.Errorf("appendExact2s = %q, want %q", got, want)
	}
}
