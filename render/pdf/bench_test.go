package pdf

import "testing"

// BenchmarkRender renders the sample invoice (payment link and QR code
// included) with 10, 100 and 1,000 lines, 10 lines with a logo, and 10
// lines without a payment link, which shows what the link's QR code
// costs. The sample is a EUR invoice with an IBAN, so every case also
// draws its EPC QR code. Run it with -cpu 1 beside the baselines, as
// BENCHMARKS.md does.
func BenchmarkRender(b *testing.B) {
	r := newRenderer(b)
	cases := []struct {
		name  string
		lines int
		logo  bool
		link  bool
	}{
		{"lines=10/logo+qr", 10, true, true},
		{"lines=10", 10, false, true},
		{"lines=10/no-link", 10, false, false},
		{"lines=100", 100, false, true},
		{"lines=1000", 1000, false, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			doc := sampleDoc(b, c.lines-4)
			if c.logo {
				doc.Logo = testLogo(b, 600, 200, "png")
			}
			if !c.link {
				doc.Invoice.PaymentLink = ""
			}
			var size int
			for b.Loop() {
				pdf, err := r.Render(doc)
				if err != nil {
					b.Fatal(err)
				}
				size = len(pdf)
			}
			b.ReportMetric(float64(size), "pdf-bytes")
		})
	}
}

// BenchmarkCacheHit is the cost of serving an unchanged invoice again,
// as GET …/pdf and the email attachment do.
func BenchmarkCacheHit(b *testing.B) {
	c := NewCache(newRenderer(b), 0)
	doc := sampleDoc(b, 6)
	if _, err := c.Render(doc); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.Render(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNew is the one-off cost of parsing the fonts.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(); err != nil {
			b.Fatal(err)
		}
	}
}
