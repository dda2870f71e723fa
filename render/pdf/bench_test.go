package pdf

import (
	"syscall"
	"testing"
	"time"
)

// BenchmarkRender renders the sample invoice (payment link and QR code
// included) with 10, 100 and 1,000 lines, 10 lines with a logo, and 10
// lines without a payment link, which shows what the link's QR code
// costs. The sample is a EUR invoice with an IBAN, so every case also
// draws its EPC QR code. Every case but one renders one document again
// and again, as a sender's invoices mostly use the same glyphs; in
// "new-glyphs" each render has a customer name with a Greek and a
// Cyrillic letter of its own (768 pairs in turn), so the font subsets
// are never the same as a recent render's and are made anew. Run it
// with -cpu 1 beside the baselines, as BENCHMARKS.md does.
func BenchmarkRender(b *testing.B) {
	r := newRenderer(b)
	cases := []struct {
		name   string
		lines  int
		logo   bool
		link   bool
		glyphs bool
	}{
		{"lines=10/logo+qr", 10, true, true, false},
		{"lines=10", 10, false, true, false},
		{"lines=10/no-link", 10, false, false, false},
		{"lines=10/new-glyphs", 10, false, true, true},
		{"lines=100", 100, false, true, false},
		{"lines=1000", 1000, false, true, false},
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
			name := doc.Invoice.Customer.Name
			var size, i int
			cpu := processCPU(b)
			for b.Loop() {
				if c.glyphs {
					i++
					doc.Invoice.Customer.Name = name + " " + string(rune('α'+i%24)) + string(rune('а'+i/24%32))
				}
				pdf, err := r.Render(doc)
				if err != nil {
					b.Fatal(err)
				}
				size = len(pdf)
			}
			b.ReportMetric(float64(size), "pdf-bytes")
			b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N)/1e3, "cpu-µs/op")
		})
	}
}

// BenchmarkRenderParallel renders the 10-line sample on 50 goroutines
// per core, as a worker's concurrent sends do: between one goroutine's
// steps the others' have used the processor's caches, which costs the
// render more than rendering one document after another does.
func BenchmarkRenderParallel(b *testing.B) {
	r := newRenderer(b)
	doc := sampleDoc(b, 6)
	cpu := processCPU(b)
	b.SetParallelism(50)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Render(doc); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N)/1e3, "cpu-µs/op")
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

// BenchmarkCheckGlyphs is what the API spends on each send that attaches
// the PDF to learn that every character of an invoice of 10 lines, in
// Latin, Greek and Cyrillic letters, prints.
func BenchmarkCheckGlyphs(b *testing.B) {
	r := newRenderer(b)
	doc := sampleDoc(b, 6)
	for b.Loop() {
		if err := r.CheckGlyphs(doc); err != nil {
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

// processCPU is the CPU time the process has used, in user and system
// mode: a render's own work and its garbage collection, which other
// processes on a shared machine disturb less than the wall time.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
