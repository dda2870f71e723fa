package ubl

import "testing"

// BenchmarkRender renders the ten-line invoice.
func BenchmarkRender(b *testing.B) {
	doc := tenLineDoc(b)
	var size int
	for b.Loop() {
		out, err := Render(doc)
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	b.ReportMetric(float64(size), "xml-bytes")
}

// BenchmarkCheck is the cost of the self-check of the ten-line invoice
// before it is served.
func BenchmarkCheck(b *testing.B) {
	out, err := Render(tenLineDoc(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if v := Check(out); len(v) > 0 {
			b.Fatal(v)
		}
	}
}
