package stripe

import (
	"context"
	"testing"

	"github.com/invoiced/invoiced/providers/stripe/stripetest"
)

// BenchmarkCreateLink creates Payment Links against stripe-mock, from
// building the request to reading the answer.
func BenchmarkCreateLink(b *testing.B) {
	l := newLinker(b, Config{SecretKey: stripetest.TestKey, APIBase: stripetest.Start(b)})
	r := newRequest()
	ctx := context.Background()
	for b.Loop() {
		if _, err := l.CreatePaymentLink(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "links/s")
}
