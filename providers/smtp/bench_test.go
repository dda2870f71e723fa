package smtp

import (
	"bytes"
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers/smtp/smtptest"
)

// BenchmarkSendSMTP sends a 50 KB invoice email to three recipients, one
// after another, to the in-process SMTP server with STARTTLS and AUTH,
// over the connection the Sender keeps between messages.
func BenchmarkSendSMTP(b *testing.B) { benchmarkSend(b, TLSStartTLS, 0, false) }

// BenchmarkSendSMTPPlain is the same over a plain-text connection without
// a login, as the load test's SMTP server takes them.
func BenchmarkSendSMTPPlain(b *testing.B) { benchmarkSend(b, TLSNone, 0, false) }

// BenchmarkSendSMTPPlainOneRecipient is the same to one recipient, as the
// load test's invoices go: with CHUNKING, in one round trip.
func BenchmarkSendSMTPPlainOneRecipient(b *testing.B) { benchmarkSend(b, TLSNone, 0, true) }

// BenchmarkSendSMTPNewConnection is the same with a new connection per
// message (MaxIdle -1): STARTTLS and AUTH every time, the baseline of
// connection reuse.
func BenchmarkSendSMTPNewConnection(b *testing.B) { benchmarkSend(b, TLSStartTLS, -1, false) }

// benchmarkSend reports, besides the time, the CPU the sending goroutine's
// thread spends per message (cpu-µs/op): the client's share alone, without
// the in-process server's.
func benchmarkSend(b *testing.B, mode TLSMode, maxIdle int, oneRcpt bool) {
	opts := smtptest.Options{Username: "u", Password: "p"}
	if mode == TLSNone {
		opts = smtptest.Options{NoSTARTTLS: true}
	}
	srv := smtptest.Start(b, opts)
	cfg := config(srv, mode)
	cfg.MaxIdle = maxIdle
	if mode != TLSNone {
		cfg.Username, cfg.Password = "u", "p"
	}
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	e := newEmail()
	e.Attachments[0].Data = bytes.Repeat([]byte("x"), 50<<10)
	if oneRcpt {
		e.Cc, e.Bcc = nil, nil
	}
	ctx := context.Background()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	for b.Loop() {
		if _, err := s.SendEmail(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(threadCPU()-start)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sends/s")
}

// threadCPU returns the CPU time, user and system, of the calling thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
