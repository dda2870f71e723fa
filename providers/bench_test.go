package providers

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// invoiceEmail is an email the size of the invoice emails the worker
// sends: a 1 KB plain-text body, a 7 KB HTML alternative and a 27 KB PDF,
// whose compressed streams look random.
func invoiceEmail() *Email {
	e := newEmail()
	e.Text = strings.Repeat("Your invoice INV-0042 for €1,130.50 is attached as a PDF.\n", 18)
	e.HTML = strings.Repeat(`<td class="em-muted em-rule" valign="top" style="padding:10px 12px 10px 0;border-top:1px solid #e5e7eb;color:#4b5563;">Invoice number</td>`+"\n", 52)
	pdf := make([]byte, 27<<10)
	r := rand.NewChaCha8([32]byte{})
	_, _ = r.Read(pdf)
	e.Attachments[0].Data = pdf
	return e
}

// BenchmarkMsg builds an invoice email's message and writes it, as a
// provider does before it sends it, and reports the CPU the goroutine's
// thread spends per message (cpu-µs/op).
func BenchmarkMsg(b *testing.B) {
	e := invoiceEmail()
	var buf bytes.Buffer
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	for b.Loop() {
		m, err := e.Msg()
		if err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		if _, err := m.WriteTo(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(threadCPU()-start)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(buf.Len()), "bytes")
}

// threadCPU returns the CPU time, user and system, of the calling thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
