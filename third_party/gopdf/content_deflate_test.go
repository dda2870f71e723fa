package gopdf

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// TestDeflateContent compresses inputs with TableCompression's encoder
// and reads them back with Go's zlib reader, which checks the codes, the
// distances and the Adler-32: the sample itself, nothing, one byte,
// every byte value, long runs (matches of 258 bytes), random bytes (no
// matches), text repeated just within and just beyond the 32 KB window,
// an input over 64 KB, and one over 64 KB with text repeated 64 KB and
// a little more back, where the hash table's positions name the wrong
// ones. Each is compressed twice, so that the encoder has been used
// before.
func TestDeflateContent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 70000)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	block := random[:1000]
	window := append(append(append([]byte{}, block...), random[1000:32767-1000+1000]...), block...)
	beyond := append(append(append([]byte{}, block...), random[1000:40000]...), block...)
	wrap := append([]byte{}, random...)
	copy(wrap[65536+100:], random[100:1100])
	copy(wrap[65536+2000:], random[1700:2700])
	for name, src := range map[string][]byte{
		"sample":  contentSample,
		"empty":   nil,
		"one":     {'q'},
		"every":   every,
		"run":     bytes.Repeat([]byte{'0'}, 5000),
		"pattern": bytes.Repeat([]byte("BT\n42.52 785.88 TD\n"), 3000),
		"random":  random,
		"window":  window,
		"beyond":  beyond,
		"long":    bytes.Repeat(contentSample, 3),
		"wrap":    wrap,
	} {
		for range 2 {
			z := deflateContent(nil, src)
			r, err := zlib.NewReader(bytes.NewReader(z))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !bytes.Equal(got, src) {
				t.Fatalf("%s: read back %d bytes that differ from the %d written", name, len(got), len(src))
			}
		}
	}
}

// TestDeflateContentSize checks that the sample compresses with its own
// codes to within a tenth of what level 1 makes of it.
func TestDeflateContentSize(t *testing.T) {
	var level1 bytes.Buffer
	zw, err := getZlibWriter(&level1, 1)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(contentSample)
	zw.Close()
	got := len(deflateContent(nil, contentSample))
	if float64(got) > 1.1*float64(level1.Len()) {
		t.Errorf("the sample takes %d bytes, level 1 %d", got, level1.Len())
	}
	t.Logf("sample %d bytes: %d, level 1 %d", len(contentSample), got, level1.Len())
}

// TestDeflateContentUnchanged holds the encoder to the streams it made
// with positions kept as int32 in a table not cleared between streams:
// the SHA-256 of parts of the sample, all under 64 KB, compressed.
func TestDeflateContentUnchanged(t *testing.T) {
	h := sha256.New()
	for _, n := range []int{0, 1, 5, 100, 4096, 6 << 10, len(contentSample)} {
		h.Write(deflateContent(nil, contentSample[:n]))
		h.Write(deflateContent(nil, contentSample[len(contentSample)-n:]))
	}
	const want = "02550ce8cfcf837010c7444e5319fb60f28755f71d84c1ec130f04503c9ab133"
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != want {
		t.Errorf("streams hash %s, want %s", got, want)
	}
}

func BenchmarkDeflateContent(b *testing.B) {
	for _, level := range []int{1, TableCompression} {
		b.Run(map[int]string{1: "level=1", TableCompression: "table"}[level], func(b *testing.B) {
			var out bytes.Buffer
			for b.Loop() {
				out.Reset()
				if level == TableCompression {
					out.Write(deflateContent(out.AvailableBuffer(), contentSample))
					continue
				}
				zw, _ := getZlibWriter(&out, level)
				zw.Write(contentSample)
				zw.Close()
				putZlibWriter(zw, level)
			}
			b.ReportMetric(float64(out.Len()), "bytes")
		})
	}
}

// TestMatchLength checks matchLength against a byte-by-byte count for
// matches ending at every offset of an eight-byte word, at the 258-byte
// limit and at the end of the input.
func TestMatchLength(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		n := 4 + rng.IntN(300)
		src := make([]byte, 2*n+rng.IntN(8))
		for i := range n {
			src[i] = byte(rng.IntN(3))
		}
		copy(src[n:], src[:n])
		if k := 4 + rng.IntN(n); n+k < len(src) {
			src[n+k] ^= 1 // a mismatch after k bytes, unless the input ends first
		}
		want := 4
		for n+want < len(src) && want < contentMaxMatch && src[want] == src[n+want] {
			want++
		}
		if got := matchLength(src, 0, n); got != want {
			t.Fatalf("match of %d bytes at %d in %d: %d, want %d", n, n, len(src), got, want)
		}
	}
}
