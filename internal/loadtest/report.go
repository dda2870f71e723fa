package loadtest

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Rate is the pace of one pass's sends.
type Rate struct {
	// PerSecond is the sends started per second; 0 is as fast as the
	// clients go.
	PerSecond float64 `json:"perSecond,omitempty"`
	// OfPeak, when above 0, replaces PerSecond with this fraction of the
	// throughput of the latest full-speed pass before it.
	OfPeak float64 `json:"ofPeak,omitempty"`
}

// String is the rate as ParseRates reads it.
func (r Rate) String() string {
	switch {
	case r.OfPeak > 0:
		return strconv.FormatFloat(r.OfPeak*100, 'f', -1, 64) + "%"
	case r.PerSecond > 0:
		return strconv.FormatFloat(r.PerSecond, 'f', -1, 64)
	}
	return "0"
}

// ParseRates reads a comma-separated list of rates: sends per second, 0
// for full speed, or P% for P percent of the throughput of the latest
// full-speed pass before it (so "0,50%" runs at full speed, then at half
// of what that achieved).
func ParseRates(s string) ([]Rate, error) {
	var out []Rate
	peak := false
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if p, ok := strings.CutSuffix(part, "%"); ok {
			v, err := strconv.ParseFloat(p, 64)
			if err != nil || v <= 0 || v > 1000 || math.IsNaN(v) {
				return nil, fmt.Errorf("rate %q: want a percentage above 0, like 50%%", part)
			}
			if !peak {
				return nil, fmt.Errorf("rate %q: a percentage needs a full-speed pass (0) before it, as in 0,%s", part, part)
			}
			out = append(out, Rate{OfPeak: v / 100})
			continue
		}
		v, err := strconv.ParseFloat(part, 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, fmt.Errorf("rate %q: want sends per second (0 for full speed) or a percentage like 50%%", part)
		}
		peak = peak || v == 0
		out = append(out, Rate{PerSecond: v})
	}
	return out, nil
}

// Report is what a run measured.
type Report struct {
	Setup    Setup    `json:"setup"`
	Ceilings Ceilings `json:"ceilings"`
	Passes   []Pass   `json:"passes"`
}

// Setup describes the run.
type Setup struct {
	Sends        int    `json:"sends"`
	Clients      int    `json:"clients"`
	Workers      int    `json:"workers"`
	Concurrency  int    `json:"concurrency"`
	CPUs         int    `json:"cpus"`
	Redis        string `json:"redis"`
	InvoiceLines int    `json:"invoiceLines"`
	// EmailBytes is the mean size of the emails the sink received, PDF
	// attachment included.
	EmailBytes int `json:"emailBytes"`
	// LoadBefore and LoadAfter are the machine's one-minute load average
	// when the run started and ended; -1 where it cannot be read.
	LoadBefore float64 `json:"loadBefore"`
	LoadAfter  float64 `json:"loadAfter"`
	ElapsedSec float64 `json:"elapsedSec"`
}

// Ceilings are the rates of the two stages every send goes through,
// measured alone, before (asynq) and after (render) the passes.
type Ceilings struct {
	// NoopTasksPerSec is how fast the same number of worker processes,
	// with the same concurrency and queue weights, run tasks that do
	// nothing, through the same Redis.
	NoopTasksPerSec float64 `json:"noopTasksPerSec"`
	NoopTasks       int     `json:"noopTasks"`
	// TasksPerSend is the tasks the workers ran per send in the first
	// pass: the send, the delivery, and the event fan-outs.
	TasksPerSend float64 `json:"tasksPerSend"`
	// AsynqSendsPerSec is NoopTasksPerSec / TasksPerSend: the most sends
	// per second the queue alone allows.
	AsynqSendsPerSec float64 `json:"asynqSendsPerSec"`
	// RendersPerSec is how fast this process renders the first pass's
	// first invoice as the workers do (no cache), on RenderGoroutines
	// goroutines: one per core a worker process gets.
	RendersPerSec    float64 `json:"rendersPerSec"`
	RenderGoroutines int     `json:"renderGoroutines"`
	PDFBytes         int     `json:"pdfBytes"`
	// SendsPerSec is the lower of AsynqSendsPerSec and RendersPerSec, and
	// Bound names it: "asynq" or "render".
	SendsPerSec float64 `json:"sendsPerSec"`
	Bound       string  `json:"bound"`
}

// Pass is one batch of sends at one rate.
type Pass struct {
	Rate string `json:"rate"`
	// TargetPerSec is the rate the sends were started at; 0 is full speed.
	TargetPerSec float64 `json:"targetPerSec"`
	Sends        int     `json:"sends"`
	// Accepted sends got 202; the others are EnqueueErrors, the first of
	// them described by FirstError.
	Accepted      int    `json:"accepted"`
	EnqueueErrors int    `json:"enqueueErrors"`
	FirstError    string `json:"firstError,omitempty"`
	// EnqueuePerSec is the rate the sends were accepted at.
	EnqueuePerSec float64 `json:"enqueuePerSec"`
	// Enqueue latency: the client's POST …/send round trip.
	EnqueueP50Ms float64 `json:"enqueueP50Ms"`
	EnqueueP99Ms float64 `json:"enqueueP99Ms"`
	EnqueueMaxMs float64 `json:"enqueueMaxMs"`
	// Enqueue→sent: from the delivery's creation by the API to the sentAt
	// the worker recorded after the SMTP server took the message.
	SentP50Ms float64 `json:"sentP50Ms"`
	SentP99Ms float64 `json:"sentP99Ms"`
	SentMaxMs float64 `json:"sentMaxMs"`
	// Delivered deliveries reached the SMTP sink; Missing did not;
	// Duplicates reached it more than once. Failed are deliveries whose
	// recorded status is not "sent".
	Delivered  int `json:"delivered"`
	Missing    int `json:"missing"`
	Duplicates int `json:"duplicates"`
	Failed     int `json:"failed"`
	// ThroughputPerSec is sent deliveries per second, from the first
	// send's request to the last sentAt.
	ThroughputPerSec float64 `json:"throughputPerSec"`
	// OfCeiling is ThroughputPerSec / Ceilings.SendsPerSec.
	OfCeiling float64 `json:"ofCeiling"`
	// TasksPerSend is the tasks processed during the pass per send.
	TasksPerSend float64 `json:"tasksPerSend"`
	// WorkerRSSMaxMiB is the largest resident set of any one worker
	// process during the pass, sampled every 100 ms; APIRSSMaxMiB the
	// api's.
	WorkerRSSMaxMiB float64 `json:"workerRssMaxMiB"`
	APIRSSMaxMiB    float64 `json:"apiRssMaxMiB"`
	ElapsedSec      float64 `json:"elapsedSec"`
	// CPUSec is the CPU time each role used during the pass: "api",
	// "workers", "redis" (when the run started it) and "loadtest" (the
	// clients and the SMTP server); where /proc is missing, none.
	CPUSec map[string]float64 `json:"cpuSec"`
}

// Complete reports whether every send of every pass was accepted and
// delivered exactly once.
func (r *Report) Complete() error {
	for i, p := range r.Passes {
		if p.EnqueueErrors > 0 || p.Missing > 0 || p.Duplicates > 0 || p.Failed > 0 {
			msg := fmt.Sprintf("pass %d: %d enqueue errors, %d missing, %d duplicate and %d failed deliveries",
				i+1, p.EnqueueErrors, p.Missing, p.Duplicates, p.Failed)
			if p.FirstError != "" {
				msg += "; first error: " + p.FirstError
			}
			return fmt.Errorf("%s", msg)
		}
	}
	return nil
}

// WriteText writes the report as a table for people.
func (r *Report) WriteText(w io.Writer) error {
	s, c := r.Setup, r.Ceilings
	var b strings.Builder
	fmt.Fprintf(&b, "invoiced-loadtest: %s sends per pass, %d worker process(es) × concurrency %d, %d clients, %d CPUs, %s\n",
		count(s.Sends), s.Workers, s.Concurrency, s.Clients, s.CPUs, s.Redis)
	fmt.Fprintf(&b, "invoice: %d lines; email with PDF: %s; load average %s before, %s after; %s in all\n\n",
		s.InvoiceLines, kb(s.EmailBytes), load(s.LoadBefore), load(s.LoadAfter), time.Duration(s.ElapsedSec*float64(time.Second)).Round(time.Second))

	fmt.Fprintf(&b, "ceilings, each measured alone on the same machine:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  asynq no-op tasks\t%s tasks/s\t%d process(es) × %d, same Redis and queues, %s tasks\n",
		count(int(c.NoopTasksPerSec)), s.Workers, s.Concurrency, count(c.NoopTasks))
	fmt.Fprintf(tw, "  ÷ tasks per send\t%.2f\t= %s sends/s\n", c.TasksPerSend, count(int(c.AsynqSendsPerSec)))
	fmt.Fprintf(tw, "  PDF render only\t%s renders/s\t%d goroutines, %s PDF, no cache\n",
		count(int(c.RendersPerSec)), c.RenderGoroutines, kb(c.PDFBytes))
	fmt.Fprintf(tw, "  ceiling\t%s sends/s\tthe lower: %s\n", count(int(c.SendsPerSec)), c.Bound)
	if err := tw.Flush(); err != nil {
		return err
	}

	b.WriteString("\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pass\trate\tsends\tenqueued/s\tenqueue p50\tp99\tenqueue→sent p50\tp99\tthroughput\tof ceiling\tworker RSS\tapi RSS\terrors\t")
	for i, p := range r.Passes {
		rate := "full speed"
		if p.TargetPerSec > 0 {
			rate = fmt.Sprintf("%s/s", count(int(math.Round(p.TargetPerSec))))
			if strings.HasSuffix(p.Rate, "%") {
				rate = p.Rate + " = " + rate
			}
		}
		errs := p.EnqueueErrors + p.Missing + p.Duplicates + p.Failed
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s/s\t%.2f\t%.0f MiB\t%.0f MiB\t%d\t\n",
			i+1, rate, count(p.Sends), count(int(p.EnqueuePerSec)), ms(p.EnqueueP50Ms), ms(p.EnqueueP99Ms),
			ms(p.SentP50Ms), ms(p.SentP99Ms), count(int(math.Round(p.ThroughputPerSec))), p.OfCeiling,
			p.WorkerRSSMaxMiB, p.APIRSSMaxMiB, errs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString("\nCPU time used during each pass, in all and per accepted send:\n")
	for i, p := range r.Passes {
		fmt.Fprintf(&b, "  pass %d: %.1f s × %d CPUs = %.1f s available;", i+1, p.ElapsedSec, s.CPUs, p.ElapsedSec*float64(s.CPUs))
		for _, role := range []string{"workers", "api", "redis", "loadtest"} {
			if v, ok := p.CPUSec[role]; ok {
				fmt.Fprintf(&b, " %s %.1f s", role, v)
				if p.Accepted > 0 {
					fmt.Fprintf(&b, " (%.2f ms)", v*1000/float64(p.Accepted))
				}
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("  (loadtest is this process: the HTTP clients and the SMTP server)\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// percentile returns the p-quantile (0 < p ≤ 1) of xs by nearest rank,
// sorting xs in place; 0 for none.
func percentile(xs []time.Duration, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	if !slices.IsSorted(xs) {
		slices.Sort(xs)
	}
	i := int(math.Ceil(p*float64(len(xs)))) - 1
	return xs[max(0, min(i, len(xs)-1))]
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// ms formats milliseconds: "4.2 ms", "1.31 s".
func ms(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.2f s", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}

// count writes n with thousands separators.
func count(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func kb(n int) string { return fmt.Sprintf("%.1f KB", float64(n)/1000) }

func load(v float64) string {
	if v < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.2f", v)
}
