package outbox

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/invoiced/invoiced/providers"
)

// BenchmarkSendOutbox writes a 50 KB invoice email to the outbox folder.
func BenchmarkSendOutbox(b *testing.B) {
	o, err := New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		e := &providers.Email{
			MessageID: fmt.Sprintf("d%d@invoiced.test", i), FromEmail: "billing@acme.test",
			To: []string{"ann@customer.test"}, Subject: "Invoice", Text: "Attached.",
			Attachments: []providers.Attachment{{Filename: "INV.pdf", ContentType: "application/pdf", Data: bytes.Repeat([]byte("x"), 50<<10)}},
		}
		if _, err := o.SendEmail(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sends/s")
}
