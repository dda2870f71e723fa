package loadtest

import (
	"fmt"
	"net/smtp"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseRates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []Rate
		err  string
	}{
		{in: "0", want: []Rate{{}}},
		{in: "250", want: []Rate{{PerSecond: 250}}},
		{in: "0, 1000,50%", want: []Rate{{}, {PerSecond: 1000}, {OfPeak: 0.5}}},
		{in: "0,12.5%,0,150%", want: []Rate{{}, {OfPeak: 0.125}, {}, {OfPeak: 1.5}}},
		{in: "50%", err: "needs a full-speed pass"},
		{in: "1000,50%", err: "needs a full-speed pass"},
		{in: "0,0%", err: "percentage above 0"},
		{in: "-5", err: "sends per second"},
		{in: "fast", err: "sends per second"},
		{in: "", err: "sends per second"},
		{in: "0,", err: "sends per second"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRates(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseRates(%q) = %v, %v; want an error containing %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseRates(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			var back []string
			for _, r := range got {
				back = append(back, r.String())
			}
			if again, err := ParseRates(strings.Join(back, ",")); err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("String does not read back: %v → %v, %v", got, again, err)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	var xs []time.Duration
	for i := 100; i >= 1; i-- {
		xs = append(xs, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0.001, time.Millisecond}} {
		if got := percentile(xs, tc.p); got != tc.want {
			t.Errorf("percentile(1..100 ms, %v) = %s, want %s", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of nothing = %s", got)
	}
	if got := percentile([]time.Duration{7}, 0.99); got != 7 {
		t.Errorf("percentile of one = %s", got)
	}
}

// TestSink sends real SMTP transactions to the sink and checks that it
// tells delivered, missing and duplicate deliveries apart.
func TestSink(t *testing.T) {
	t.Parallel()
	s, err := startSink()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	addr := fmt.Sprintf("127.0.0.1:%d", s.port())
	send := func(delivery string) {
		t.Helper()
		msg := "From: a@example.com\r\nTo: b@example.com\r\nSubject: Invoice\r\n"
		if delivery != "" {
			msg += deliveryHeader + ": " + delivery + "\r\n"
		}
		msg += "\r\n.leading dot\r\nbody\r\n"
		if err := smtp.SendMail(addr, nil, "a@example.com", []string{"b@example.com"}, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	send("dlv_a")
	send("dlv_b")
	send("dlv_b")
	send("")

	if got := s.count(); got != 4 {
		t.Errorf("count = %d, want 4", got)
	}
	delivered, missing, duplicates := s.tally([]string{"dlv_a", "dlv_b", "dlv_c"})
	if delivered != 2 || missing != 1 || duplicates != 1 {
		t.Errorf("tally = %d delivered, %d missing, %d duplicates; want 2, 1, 1", delivered, missing, duplicates)
	}
	s.mu.Lock()
	unknown := s.unknown
	s.mu.Unlock()
	if unknown != 1 {
		t.Errorf("%d messages without a delivery header, want 1", unknown)
	}
	if s.meanSize() < 60 {
		t.Errorf("mean size %d bytes is less than the messages sent", s.meanSize())
	}
}

func TestProcReaders(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	rss, ok := readRSS(os.Getpid())
	if !ok || rss < 1<<20 {
		t.Errorf("readRSS(self) = %d, %v; want at least 1 MiB", rss, ok)
	}
	// Burn some CPU so that the count has moved.
	deadline := time.Now().Add(50 * time.Millisecond)
	for n := 0; time.Now().Before(deadline); n++ {
		_ = fmt.Sprint(n)
	}
	if cpu, ok := cpuTime(os.Getpid()); !ok || cpu <= 0 {
		t.Errorf("cpuTime(self) = %s, %v", cpu, ok)
	}
	if _, ok := readRSS(-1); ok {
		t.Error("readRSS of no process succeeded")
	}
	if load := loadAverage(); load < 0 {
		t.Errorf("loadAverage = %v", load)
	}
}

func TestReport(t *testing.T) {
	t.Parallel()
	rep := &Report{
		Setup:    Setup{Sends: 2000, Workers: 1, Concurrency: 100, Clients: 64, CPUs: 2, Redis: "redis 7.0.15", LoadBefore: -1},
		Ceilings: Ceilings{NoopTasksPerSec: 8000, TasksPerSend: 4, AsynqSendsPerSec: 2000, RendersPerSec: 1500, SendsPerSec: 1500, Bound: "render"},
		Passes: []Pass{
			{Rate: "0", Sends: 2000, Accepted: 2000, Delivered: 2000, ThroughputPerSec: 450, OfCeiling: 0.3,
				EnqueueP99Ms: 12.5, SentP99Ms: 4200, CPUSec: map[string]float64{"workers": 6}},
			{Rate: "50%", TargetPerSec: 225, Sends: 2000, Accepted: 2000, Delivered: 1999, Missing: 1},
		},
	}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2,000 sends per pass", "1,500 sends/s", "the lower: render", "full speed", "50% = 225/s", "12.5 ms", "4.20 s", "workers 6.0 s (3.00 ms)", "load average unknown"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	if err := rep.Complete(); err == nil || !strings.Contains(err.Error(), "pass 2: 0 enqueue errors, 1 missing") {
		t.Errorf("Complete() = %v", err)
	}
	rep.Passes = rep.Passes[:1]
	if err := rep.Complete(); err != nil {
		t.Errorf("Complete() = %v for a complete run", err)
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -45000: "-45,000"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}
