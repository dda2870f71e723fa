package loadtest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/tasks"
	"github.com/invoiced/invoiced/worker"
)

// TypeNoop is the task of the asynq ceiling: its handler does nothing.
const TypeNoop = "loadtest:noop"

// noopQueue is where the no-op tasks wait: the deliveries' queue, polled
// with the same weights as in a worker.
const noopQueue = tasks.QueueDefault

// ServeNoop runs an asynq server configured as a worker's — the same
// queues, weights, polling interval and concurrency — whose only handler
// does nothing, until ctx is canceled. It is the worker of the asynq
// ceiling, in its own process as each worker is.
func ServeNoop(ctx context.Context, opt asynq.RedisConnOpt, concurrency int, log *zap.Logger) error {
	srv := asynq.NewServer(opt, worker.ServerConfig(concurrency, log))
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeNoop, func(context.Context, *asynq.Task) error { return nil })
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("noop worker: %w", err)
	}
	<-ctx.Done()
	srv.Shutdown()
	return nil
}

// asynqCeiling queues NoopTasks no-op tasks on a paused queue, starts as
// many noop worker processes as the run has workers, and times them
// emptying the queue once it is resumed, from the first task taken:
// tasks per second.
func (r *runner) asynqCeiling(ctx context.Context) (float64, error) {
	n := r.cfg.NoopTasks
	if err := r.insp.PauseQueue(noopQueue); err != nil {
		return 0, fmt.Errorf("pause queue %s: %w", noopQueue, err)
	}
	paused := true
	defer func() {
		if paused {
			_ = r.insp.UnpauseQueue(noopQueue)
		}
	}()

	client := asynq.NewClient(r.redisOpt)
	defer client.Close()
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range 16 {
		g.Go(func() error {
			for next.Add(1) <= int64(n) {
				_, err := client.EnqueueContext(gctx, asynq.NewTask(TypeNoop, nil), asynq.Queue(noopQueue), asynq.MaxRetry(0))
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, fmt.Errorf("enqueue no-op tasks: %w", err)
	}

	var procs []*proc
	defer func() {
		for _, p := range procs {
			p.stop(10 * time.Second)
		}
	}()
	for i := range r.cfg.Workers {
		p, err := r.fl.start(fmt.Sprintf("noop-worker-%d", i+1), r.cfg.NoopWorker[0], r.cfg.NoopWorker[1:], r.env)
		if err != nil {
			return 0, err
		}
		procs = append(procs, p)
	}
	if err := r.waitRegistered(ctx, procs); err != nil {
		return 0, err
	}

	if err := r.insp.UnpauseQueue(noopQueue); err != nil {
		return 0, fmt.Errorf("resume queue %s: %w", noopQueue, err)
	}
	paused = false
	// The clock starts when the first task leaves the pending list, so
	// that the workers' idle poll interval is not counted.
	var start time.Time
	deadline := time.Now().Add(r.cfg.Timeout)
	for {
		pending, active, err := r.queued(ctx, noopQueue)
		if err != nil {
			return 0, err
		}
		if start.IsZero() && pending < int64(n) {
			start = time.Now()
		}
		if pending+active == 0 {
			break
		}
		if err := r.fl.check(); err != nil {
			return 0, err
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%d of %d no-op tasks still queued after %s", pending+active, n, r.cfg.Timeout)
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		time.Sleep(2 * time.Millisecond)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// renderCeiling renders invoiceID's PDF as a worker does — same document,
// a fresh renderer, no cache — on one goroutine per core for RenderTime,
// and returns renders per second, the goroutines and the PDF's size.
func (r *runner) renderCeiling(ctx context.Context, invoiceID string) (rate float64, goroutines, size int, err error) {
	inv, err := r.st.Invoice(ctx, r.tenantID, invoiceID)
	if err != nil {
		return 0, 0, 0, err
	}
	settings, err := r.st.Settings(ctx, r.tenantID)
	if err != nil {
		return 0, 0, 0, err
	}
	// As worker's pdfDocument builds it for a send that names no language.
	lang := inv.Language
	if lang == "" {
		lang = settings.Defaults.Lang()
	}
	b := settings.Branding
	doc := pdf.Document{Invoice: inv, Seller: b.Seller, Bank: settings.Bank, Language: lang,
		Logo: b.Logo, Paper: b.PaperSize, Accent: b.AccentColor}
	renderer, err := pdf.New()
	if err != nil {
		return 0, 0, 0, err
	}
	out, err := renderer.Render(doc)
	if err != nil {
		return 0, 0, 0, err
	}

	goroutines = runtime.GOMAXPROCS(0)
	var renders atomic.Int64
	var failed atomic.Pointer[error]
	start := time.Now()
	deadline := start.Add(r.cfg.RenderTime)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if _, err := renderer.Render(doc); err != nil {
					failed.Store(&err)
					return
				}
				renders.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if p := failed.Load(); p != nil {
		return 0, 0, 0, *p
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, 0, err
	}
	if renders.Load() == 0 {
		return 0, 0, 0, errors.New("no render finished")
	}
	return float64(renders.Load()) / elapsed.Seconds(), goroutines, len(out), nil
}
