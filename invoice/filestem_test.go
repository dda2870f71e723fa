package invoice

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestFileStem makes file name stems of invoice numbers: runs of anything
// but letters, digits, ".", "_" and "-" become "-", and dashes and dots
// at the ends go. A number that is already a safe stem, as most are, is
// returned as it is, without the regular expression or an allocation;
// random numbers give what the expression alone gives.
func TestFileStem(t *testing.T) {
	for number, want := range map[string]string{
		"INV-2026-0042": "INV-2026-0042", "INV/2026 01": "INV-2026-01", "Rechnung Nr. 7": "Rechnung-Nr.-7",
		"ÎNV.ș-1": "ÎNV.ș-1", "--x--": "x", "/": "invoice", "": "invoice", "a\xffb": "a-b",
	} {
		if got := FileStem(number); got != want {
			t.Errorf("FileStem(%q) = %q, want %q", number, got, want)
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	alphabet := []string{"a", "Z", "7", ".", "_", "-", "/", " ", "#", "ș", "٣", "Ⅻ", "\xff", "€"}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(10) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		number := b.String()
		want := strings.Trim(unsafeFileChars.ReplaceAllString(number, "-"), "-.")
		if want == "" {
			want = "invoice"
		}
		if got := FileStem(number); got != want {
			t.Fatalf("FileStem(%q) = %q, want %q", number, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = FileStem("INV-2026-0042") }); n != 0 {
		t.Errorf("%.0f allocations for a safe number, want none", n)
	}
}
