// Command invoiced-loadtest runs a whole invoiced deployment on this
// machine — a redis-server, the api and worker processes of an invoiced
// binary, and an SMTP server inside this process — pushes invoices
// through it and reports latency, throughput, memory and CPU. It is kept
// out of the invoiced binary, which ships without it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/invoiced/invoiced/internal/loadtest"
)

const usage = `Usage: invoiced-loadtest [flags]

Runs a whole deployment on this machine and pushes invoices through it:
a redis-server from PATH (or -redis-url), one "invoiced api" and -workers
"invoiced worker" processes of the invoiced binary (-bin; without it, the
invoiced beside this executable, else one built from the module in the
current folder with "go build"), and an SMTP server inside this process
that accepts every message. A tenant is created whose email goes to that
server through the deployment's default SMTP provider, without TLS. Each
pass (see -rate) creates -n draft invoices, then sends each with
POST /api/v1/invoices/{id}/send and waits until every email has arrived.

Measured per pass:
  enqueue p50/p99       the POST …/send round trip, as the client saw it
  enqueue→sent p50/p99  the delivery's creation by the API to the sentAt
                        the worker recorded once the SMTP server took it
  throughput            sent deliveries per second, first request to last sentAt
  worker RSS            the largest VmRSS of any worker process (every 100 ms)
  CPU                   the CPU time of each process, and per send
and, each alone on the same machine, the two ceilings of a send:
  asynq no-op tasks/s   -noop-tasks tasks that do nothing, through the same
                        Redis, queues and poll interval, in -workers
                        processes with -concurrency; divided by the tasks
                        the workers ran per send in the first pass
  render-only rate      the first invoice's PDF rendered without cache, one
                        goroutine per core
End-to-end throughput is reported as a ratio of the lower ceiling.

The roles get only the INVOICED_ variables the run sets: INVOICED_REDIS_URL
and the rest of the environment's are ignored. A progress bar goes to
stderr when it is a terminal; the summary goes to stdout. The exit status
is 1 unless every send was accepted and delivered exactly once.

Flags:
`

// noopWorkerArg is the argument with which the load test starts its own
// executable as the asynq ceiling's worker.
const noopWorkerArg = "noop-worker"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "invoiced-loadtest:", err)
		os.Exit(1)
	}
}

// run is invoiced-loadtest with args; `invoiced-loadtest noop-worker` is
// the asynq ceiling's worker, which the load test starts itself.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == noopWorkerArg {
		return runNoopWorker(ctx)
	}
	fs := flag.NewFlagSet("invoiced-loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	var cfg loadtest.Config
	bin := fs.String("bin", "", "the invoiced binary whose api and worker processes run; defaults to the\ninvoiced beside this executable, else one built from the module in the current folder")
	fs.IntVar(&cfg.Sends, "n", 1000, "invoices each pass creates and sends")
	rates := fs.String("rate", "0", "comma-separated passes: sends per second, 0 for full speed, or P% of the\nthroughput of the full-speed pass before it (e.g. 0,1000,50%)")
	fs.IntVar(&cfg.Clients, "clients", 64, "concurrent HTTP clients")
	fs.IntVar(&cfg.Workers, "workers", 1, "worker processes")
	fs.IntVar(&cfg.Concurrency, "concurrency", 20, "tasks each worker runs at once (INVOICED_WORKER_CONCURRENCY)")
	fs.IntVar(&cfg.Lines, "lines", 10, "lines per invoice")
	fs.StringVar(&cfg.RedisURL, "redis-url", "", "use this Redis instead of starting a redis-server; no invoiced worker may be\nusing it, since the run pauses and fills the ordinary queues")
	fs.IntVar(&cfg.NoopTasks, "noop-tasks", 20000, "no-op tasks that measure the asynq ceiling")
	fs.DurationVar(&cfg.RenderTime, "render-time", 5*time.Second, "how long the render-only rate is measured")
	fs.DurationVar(&cfg.Timeout, "timeout", 5*time.Minute, "limit on each pass: its sends, emails and queues draining")
	fs.StringVar(&cfg.ProfileDir, "cpuprofile", "", "write the CPU profile of the api and of each worker for the whole run into\nthis folder, as api.cpu.pprof, worker-1.cpu.pprof, … (go tool pprof reads them)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"n", cfg.Sends}, {"clients", cfg.Clients}, {"workers", cfg.Workers}, {"concurrency", cfg.Concurrency}, {"lines", cfg.Lines}, {"noop-tasks", cfg.NoopTasks}} {
		if f.v <= 0 {
			return fmt.Errorf("-%s must be at least 1", f.name)
		}
	}
	var err error
	if cfg.Rates, err = loadtest.ParseRates(*rates); err != nil {
		return fmt.Errorf("-rate: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cfg.NoopWorker = []string{self, noopWorkerArg}
	cfg.Status = stderr
	cfg.Bar = isTerminal(stderr)
	if cfg.ProfileDir != "" {
		if cfg.ProfileDir, err = filepath.Abs(cfg.ProfileDir); err == nil {
			err = os.MkdirAll(cfg.ProfileDir, 0o755)
		}
		if err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
	}
	var cleanup func()
	if cfg.Binary, cleanup, err = invoicedBinary(ctx, *bin, self, stderr); err != nil {
		return err
	}
	defer cleanup()

	rep, err := loadtest.Run(ctx, cfg)
	if rep != nil && len(rep.Passes) > 0 {
		var werr error
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			werr = enc.Encode(rep)
		} else {
			werr = rep.WriteText(stdout)
		}
		if err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	return rep.Complete()
}

// invoicedBinary finds the invoiced binary the run starts: bin when given,
// else an invoiced beside self, else one built with `go build` from the
// module in the current folder into a temporary folder that cleanup
// removes.
func invoicedBinary(ctx context.Context, bin, self string, status io.Writer) (path string, cleanup func(), err error) {
	cleanup = func() {}
	if bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", cleanup, fmt.Errorf("-bin: %w", err)
		}
		return bin, cleanup, nil
	}
	beside := filepath.Join(filepath.Dir(self), "invoiced")
	if fi, err := os.Stat(beside); err == nil && fi.Mode().IsRegular() {
		return beside, cleanup, nil
	}
	dir, err := os.MkdirTemp("", "invoiced-loadtest-")
	if err != nil {
		return "", cleanup, err
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	path = filepath.Join(dir, "invoiced")
	fmt.Fprintln(status, "building invoiced (go build ./cmd/invoiced; -bin takes a built one)")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", path, "github.com/invoiced/invoiced/cmd/invoiced")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", func() {}, fmt.Errorf("build invoiced (or give -bin): %w\n%s", err, out)
	}
	return path, cleanup, nil
}

// runNoopWorker serves the asynq ceiling's no-op tasks on
// INVOICED_REDIS_URL with INVOICED_WORKER_CONCURRENCY (default 20) until
// stopped, logging at INVOICED_LOG_LEVEL (default info).
func runNoopWorker(ctx context.Context) error {
	url := os.Getenv("INVOICED_REDIS_URL")
	if url == "" {
		return errors.New("noop-worker: INVOICED_REDIS_URL is required")
	}
	opt, err := asynq.ParseRedisURI(url)
	if err != nil {
		return fmt.Errorf("INVOICED_REDIS_URL: %w", err)
	}
	concurrency := 20
	if s := os.Getenv("INVOICED_WORKER_CONCURRENCY"); s != "" {
		if concurrency, err = strconv.Atoi(s); err != nil || concurrency < 1 {
			return fmt.Errorf("INVOICED_WORKER_CONCURRENCY=%q: want a number above 0", s)
		}
	}
	level := zapcore.InfoLevel
	if s := os.Getenv("INVOICED_LOG_LEVEL"); s != "" {
		if level, err = zapcore.ParseLevel(s); err != nil {
			return fmt.Errorf("INVOICED_LOG_LEVEL=%q: %w", s, err)
		}
	}
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(level)
	log, err := zc.Build()
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	return loadtest.ServeNoop(ctx, opt, concurrency, log)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
