package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hibiken/asynq"

	"github.com/invoiced/invoiced/internal/loadtest"
)

const loadtestUsage = `Usage: invoiced loadtest [flags]

Runs a whole deployment on this machine and pushes invoices through it:
a redis-server from PATH (or -redis-url), one "invoiced api" and -workers
"invoiced worker" processes of this binary, and an SMTP server inside this
process that accepts every message. A tenant is created whose email goes
to that server through the deployment's default SMTP provider, without
TLS. Each pass (see -rate) creates -n draft invoices, then sends each with
POST /api/v1/invoices/{id}/send and waits until every email has arrived.

Measured per pass:
  enqueue p50/p99       the POST …/send round trip, as the client saw it
  enqueue→sent p50/p99  the delivery's creation by the API to the sentAt
                        the worker recorded once the SMTP server took it
  throughput            sent deliveries per second, first request to last sentAt
  worker RSS            the largest VmRSS of any worker process (every 100 ms)
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

// runLoadtest is `invoiced loadtest`; `invoiced loadtest noop-worker` is
// the asynq ceiling's worker, which the load test starts itself.
func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "noop-worker" {
		return runNoopWorker(ctx)
	}
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), loadtestUsage)
		fs.PrintDefaults()
	}
	var cfg loadtest.Config
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
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("loadtest: unexpected argument %q", fs.Arg(0))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"n", cfg.Sends}, {"clients", cfg.Clients}, {"workers", cfg.Workers}, {"concurrency", cfg.Concurrency}, {"lines", cfg.Lines}, {"noop-tasks", cfg.NoopTasks}} {
		if f.v <= 0 {
			return fmt.Errorf("loadtest: -%s must be at least 1", f.name)
		}
	}
	var err error
	if cfg.Rates, err = loadtest.ParseRates(*rates); err != nil {
		return fmt.Errorf("loadtest: -rate: %w", err)
	}
	if cfg.Binary, err = os.Executable(); err != nil {
		return err
	}
	cfg.Status = stderr
	cfg.Bar = isTerminal(stderr)

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

// runNoopWorker serves the asynq ceiling's no-op tasks on
// INVOICED_REDIS_URL with INVOICED_WORKER_CONCURRENCY until stopped.
func runNoopWorker(ctx context.Context) error {
	cfg, err := loadConfig(false)
	if err != nil {
		return err
	}
	if cfg.RedisURL == "" {
		return errors.New("loadtest noop-worker: INVOICED_REDIS_URL is required")
	}
	log, err := newLogger(cfg)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	opt, err := asynq.ParseRedisURI(cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("INVOICED_REDIS_URL: %w", err)
	}
	return loadtest.ServeNoop(ctx, opt, cfg.Concurrency, log)
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
