package gopdf

import (
	"hash/adler32"
	"math/rand/v2"
	"testing"
)

// TestAdler32 checks adler32Sum against hash/adler32 for every length
// up to a few blocks of its unrolled loop, and for lengths around the
// 5,552 bytes after which the sums are reduced, of random bytes and of
// bytes all 0xFF, which make the sums largest.
func TestAdler32(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 3*adler32Block+100)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	high := make([]byte, len(random))
	for i := range high {
		high[i] = 0xFF
	}
	lengths := []int{}
	for n := range 100 {
		lengths = append(lengths, n)
	}
	for _, b := range []int{adler32Block, 2 * adler32Block, 3 * adler32Block} {
		for n := b - 9; n <= b+9; n++ {
			lengths = append(lengths, n)
		}
	}
	lengths = append(lengths, len(random))
	for _, data := range [][]byte{random, high} {
		for _, n := range lengths {
			if got, want := adler32Sum(data[:n]), adler32.Checksum(data[:n]); got != want {
				t.Errorf("%d bytes from %#x: %#08x, want %#08x", n, data[0], got, want)
			}
		}
	}
}

func BenchmarkAdler32(b *testing.B) {
	b.SetBytes(int64(len(contentSample)))
	b.Run("hash/adler32", func(b *testing.B) {
		for b.Loop() {
			adler32.Checksum(contentSample)
		}
	})
	b.Run("adler32Sum", func(b *testing.B) {
		for b.Loop() {
			adler32Sum(contentSample)
		}
	})
}
