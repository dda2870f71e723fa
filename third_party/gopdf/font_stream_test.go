package gopdf

import (
	"bytes"
	"compress/flate"
	"hash/adler32"
	"io"
	"math/rand/v2"
	"testing"
)

func TestAdler32Combine(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sizes := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {156, 30000}, {70000, 3}, {65521, 65521}, {5, 200000}} {
		a, b := make([]byte, sizes[0]), make([]byte, sizes[1])
		for i := range a {
			a[i] = byte(rng.Uint32())
		}
		for i := range b {
			b[i] = 0xFF // the largest sums
		}
		want := adler32.Checksum(append(append([]byte(nil), a...), b...))
		if got := adler32Combine(adler32.Checksum(a), adler32.Checksum(b), len(b)); got != want {
			t.Errorf("sizes %v: combined %08x, want %08x", sizes, got, want)
		}
	}
}

// TestWriteStored inflates stored blocks, one of them longer than a
// stored block may be, behind a sync-flushed compressed block.
func TestWriteStored(t *testing.T) {
	var out Buff
	fw, _ := flate.NewWriter(&out, flate.BestSpeed)
	fw.Write([]byte("compressed part "))
	fw.Flush()
	writeStored(&out, []byte("stored, not final "), false)
	big := bytes.Repeat([]byte("0123456789"), 10000)
	writeStored(&out, big, true)
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(out.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte("compressed part stored, not final "), big...)
	if !bytes.Equal(got, want) {
		t.Errorf("inflated %d bytes, want %d", len(got), len(want))
	}
}
