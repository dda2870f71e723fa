package smtp

import (
	"bytes"
	"context"
	"testing"

	"github.com/invoiced/invoiced/providers/smtp/smtptest"
)

// BenchmarkSendSMTP sends a 50 KB invoice email, one after another, to the
// in-process SMTP server: STARTTLS and AUTH on a new connection per message,
// as the worker does.
func BenchmarkSendSMTP(b *testing.B) {
	srv := smtptest.Start(b, smtptest.Options{Username: "u", Password: "p"})
	cfg := config(srv, TLSStartTLS)
	cfg.Username, cfg.Password = "u", "p"
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	e := newEmail()
	e.Attachments[0].Data = bytes.Repeat([]byte("x"), 50<<10)
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.SendEmail(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sends/s")
}
