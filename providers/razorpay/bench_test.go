package razorpay

import (
	"context"
	"strconv"
	"testing"
)

// BenchmarkCreateLink creates links against the fake Razorpay, each for
// another invoice, from building the request to reading the answer.
func BenchmarkCreateLink(b *testing.B) {
	_, cfg := setup(b)
	l := newLinker(b, cfg)
	ctx := context.Background()
	r := newRequest()
	i := 0
	for b.Loop() {
		i++
		r.InvoiceID = "inv_" + strconv.Itoa(i)
		if _, err := l.CreatePaymentLink(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "links/s")
}
