package pdf

import (
	"reflect"
	"testing"
)

// TestLabelsForAllocations checks that a document's labels are those
// made once for its language: their e-invoice names and notes are maps
// that a render only reads, and each render made two, in four
// allocations.
func TestLabelsForAllocations(t *testing.T) {
	for _, lang := range []string{"en", "ro", "de", "fr", "xx"} {
		if n := testing.AllocsPerRun(20, func() { _ = labelsFor(lang) }); n != 0 {
			t.Errorf("labelsFor(%q) allocates %v times, want 0", lang, n)
		}
	}
}

// TestEinvoiceLabelsKept checks that the e-invoice labels kept for each
// language, and for one without labels of its own, are those
// makeEinvoiceLabels makes for it.
func TestEinvoiceLabelsKept(t *testing.T) {
	for _, lang := range []string{"en", "ro", "de", "fr", "xx", ""} {
		if got, want := einvoiceLabelsFor(lang), makeEinvoiceLabels(lang); !reflect.DeepEqual(got, want) {
			t.Errorf("einvoiceLabelsFor(%q) = %+v, want %+v", lang, got, want)
		}
	}
}
