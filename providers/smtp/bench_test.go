package smtp

import (
	"bytes"
	"context"
	"testing"

	"github.com/invoiced/invoiced/providers/smtp/smtptest"
)

// BenchmarkSendSMTP sends a 50 KB invoice email, one after another, to the
// in-process SMTP server with STARTTLS and AUTH, over the connection the
// Sender keeps between messages.
func BenchmarkSendSMTP(b *testing.B) { benchmarkSend(b, 0) }

// BenchmarkSendSMTPNewConnection is the same with a new connection per
// message (MaxIdle -1): STARTTLS and AUTH every time, the baseline of
// connection reuse.
func BenchmarkSendSMTPNewConnection(b *testing.B) { benchmarkSend(b, -1) }

func benchmarkSend(b *testing.B, maxIdle int) {
	srv := smtptest.Start(b, smtptest.Options{Username: "u", Password: "p"})
	cfg := config(srv, TLSStartTLS)
	cfg.Username, cfg.Password, cfg.MaxIdle = "u", "p", maxIdle
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
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
