package worker

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/hibiken/asynq"

	"github.com/invoiced/invoiced/internal/redistest"
)

// deepFrame needs 96 KB of stack, more than a goroutine of the pool starts
// with.
//
//go:noinline
func deepFrame(n int) (b byte) {
	if n < 0 {
		var frame [96 << 10]byte
		b = frame[-n%len(frame)]
	}
	return b
}

// stackMoves reports whether the goroutine's stack was copied elsewhere
// (grown) while deepFrame ran.
//
//go:noinline
func stackMoves() bool {
	var x byte
	before := uintptr(unsafe.Pointer(&x))
	deepFrame(0)
	return uintptr(unsafe.Pointer(&x)) != before
}

// onPool reports whether the calling goroutine is one of a Pool's.
func onPool() bool {
	buf := make([]byte, 64<<10)
	return strings.Contains(string(buf[:runtime.Stack(buf, false)]), "worker.(*Pool).run")
}

func setupPool(t *testing.T, size int, logger asynq.Logger) *Pool {
	t.Helper()
	p, err := NewPool(size, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(context.Background()) })
	return p
}

// TestPoolStackStaysGrown runs a task that grows its goroutine's stack,
// collects garbage (which shrinks stacks mostly unused) and runs another
// on the same goroutine: its stack is where the first one left it.
func TestPoolStackStaysGrown(t *testing.T) {
	t.Parallel()
	p := setupPool(t, 1, nil)
	var moved []bool
	h := p.Handler(asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
		moved = append(moved, stackMoves())
		if !onPool() {
			return errors.New("ran off the pool")
		}
		return nil
	}))
	for i := range 3 {
		if err := h.ProcessTask(context.Background(), asynq.NewTask("x", nil)); err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			runtime.GC()
			runtime.GC()
		}
	}
	if want := []bool{true, false, false}; fmt.Sprint(moved) != fmt.Sprint(want) {
		t.Fatalf("stack moved in each task: %v, want %v (only the first grows it)", moved, want)
	}
}

// TestPoolContext hands the handler asynq's ctx itself: its values, its
// deadline, and its cancellation while the task runs.
func TestPoolContext(t *testing.T) {
	t.Parallel()
	p := setupPool(t, 2, nil)
	type key struct{}
	deadline := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(context.WithValue(context.Background(), key{}, "v"), deadline)
	started := make(chan struct{})
	h := p.Handler(asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
		if got := ctx.Value(key{}); got != "v" {
			return fmt.Errorf("ctx value %v, want v", got)
		}
		if got, ok := ctx.Deadline(); !ok || !got.Equal(deadline) {
			return fmt.Errorf("ctx deadline %v, want %v", got, deadline)
		}
		close(started)
		<-ctx.Done()
		return fmt.Errorf("stopped: %w", ctx.Err())
	}))
	errc := make(chan error, 1)
	go func() { errc <- h.ProcessTask(ctx, asynq.NewTask("x", nil)) }()
	select {
	case <-started:
	case err := <-errc:
		t.Fatal(err)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("ProcessTask = %v, want the handler's answer to the cancellation", err)
	}
}

// recordingLogger is an asynq.Logger that keeps the lines logged at error
// level.
type recordingLogger struct {
	mu     sync.Mutex
	errors []string
}

func (l *recordingLogger) Debug(...any) {}
func (l *recordingLogger) Info(...any)  {}
func (l *recordingLogger) Warn(...any)  {}
func (l *recordingLogger) Fatal(...any) {}
func (l *recordingLogger) Error(args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errors = append(l.errors, fmt.Sprint(args...))
}

func (l *recordingLogger) panics() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var lines []string
	for _, line := range l.errors {
		if strings.HasPrefix(line, "recovering from panic") {
			lines = append(lines, line)
		}
	}
	return lines
}

// panicky panics the way its argument says.
func panicky(how string) {
	switch how {
	case "value":
		panic("boom")
	case "runtime":
		var s []int
		s[len(how)]++
	}
}

// attempt is what an asynq server gave the handler and the error handler
// for one task.
type attempt struct {
	taskID, ctxTaskID string
	retried           int
	onPool            bool
	err               error
	log               []string
}

// runOnServer processes one task of type how on a real asynq server whose
// handler panics as panicky(how) says, wrapped by wrap, and returns what
// the handler saw in its ctx, the error asynq's error handler got and
// asynq's panic log lines.
func runOnServer(t *testing.T, how string, wrap func(asynq.Handler, asynq.Logger) asynq.Handler) attempt {
	t.Helper()
	opt := asynq.RedisClientOpt{Addr: redistest.Start(t).Addr}
	log := &recordingLogger{}
	var a attempt
	failed := make(chan struct{})
	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency: 2, Logger: log, TaskCheckInterval: 10 * time.Millisecond,
		ErrorHandler: asynq.ErrorHandlerFunc(func(_ context.Context, _ *asynq.Task, err error) {
			a.err = err
			close(failed)
		}),
	})
	h := asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
		a.ctxTaskID, _ = asynq.GetTaskID(ctx)
		a.retried, _ = asynq.GetRetryCount(ctx)
		a.onPool = onPool()
		panicky(how)
		return nil
	})
	if err := srv.Start(wrap(h, log)); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	client := asynq.NewClient(opt)
	defer client.Close()
	info, err := client.Enqueue(asynq.NewTask(how, nil), asynq.MaxRetry(0))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-failed:
	case <-time.After(10 * time.Second):
		t.Fatal("the task did not fail within 10s")
	}
	a.taskID, a.log = info.ID, log.panics()
	return a
}

// TestPoolPanic runs a panicking handler on asynq's goroutine and on the
// pool, each behind a real asynq server: the handler sees the same task
// id and retry count in its ctx, asynq's error handler gets an error
// with the same message, and the same line is logged with the stack of
// the panic.
func TestPoolPanic(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"value", "runtime"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			alone := runOnServer(t, how, func(h asynq.Handler, _ asynq.Logger) asynq.Handler { return h })
			pooled := runOnServer(t, how, func(h asynq.Handler, log asynq.Logger) asynq.Handler {
				return setupPool(t, 2, log).Handler(h)
			})
			if alone.onPool || !pooled.onPool {
				t.Fatalf("ran on the pool: %v alone, %v pooled", alone.onPool, pooled.onPool)
			}
			for _, a := range []attempt{alone, pooled} {
				if a.ctxTaskID != a.taskID || a.retried != 0 {
					t.Errorf("the handler's ctx says task %q retried %d, want %q retried 0", a.ctxTaskID, a.retried, a.taskID)
				}
			}
			if alone.err == nil || pooled.err == nil || pooled.err.Error() != alone.err.Error() {
				t.Errorf("on the pool the error is %v, want asynq's own %v", pooled.err, alone.err)
			}
			if how == "value" && !strings.Contains(fmt.Sprint(alone.err), "pool_test.go:") {
				t.Errorf("asynq's error %v does not name where the handler panicked", alone.err)
			}
			if len(pooled.log) != 1 || len(alone.log) != 1 {
				t.Fatalf("panic lines logged: %d on the pool, %d by asynq, want 1 each", len(pooled.log), len(alone.log))
			}
			if !strings.Contains(pooled.log[0], "worker.panicky(") {
				t.Errorf("the pool's log line has no stack of the panic:\n%s", pooled.log[0])
			}
			if first := func(s string) string { return strings.SplitN(s, "\n", 2)[0] }; first(pooled.log[0]) != first(alone.log[0]) {
				t.Errorf("the pool logs %q, asynq %q", first(pooled.log[0]), first(alone.log[0]))
			}
		})
	}
}

// TestPoolStop stops a pool while two tasks run on it: Stop waits for
// them, they answer, and then every goroutine of the pool is gone. A task
// handed to the stopped pool still runs, on its caller's goroutine.
func TestPoolStop(t *testing.T) {
	before := runtime.NumGoroutine()
	p, err := NewPool(2, nil)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	h := p.Handler(asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		pooled := onPool()
		started.Done()
		<-release
		if !pooled {
			return errors.New("ran off the pool")
		}
		return nil
	}))
	errc := make(chan error, 2)
	for range 2 {
		go func() { errc <- h.ProcessTask(context.Background(), asynq.NewTask("x", nil)) }()
	}
	started.Wait()

	soon, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Stop(soon); err == nil {
		t.Fatal("Stop returned while two tasks were running")
	}
	close(release)
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	var ran atomic.Bool
	after := p.Handler(asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		ran.Store(!onPool())
		return nil
	}))
	if err := after.ProcessTask(context.Background(), asynq.NewTask("x", nil)); err != nil || !ran.Load() {
		t.Fatalf("a task after Stop: %v, ran on its caller's goroutine: %v", err, ran.Load())
	}

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after Stop, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// TestPoolSize runs twice as many tasks at once as the pool has
// goroutines: as many as it has run on it, the others on their callers'
// goroutines without waiting, and all of them answer.
func TestPoolSize(t *testing.T) {
	t.Parallel()
	const size = 3
	p := setupPool(t, size, nil)
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2 * size)
	var pooled, alone atomic.Int32
	h := p.Handler(asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		if onPool() {
			pooled.Add(1)
		} else {
			alone.Add(1)
		}
		started.Done()
		<-release
		return nil
	}))
	errc := make(chan error, 2*size)
	for range 2 * size {
		go func() { errc <- h.ProcessTask(context.Background(), asynq.NewTask("x", nil)) }()
	}
	started.Wait()
	if pooled.Load() != size || alone.Load() != size {
		t.Errorf("%d tasks on the pool and %d off it, want %d and %d", pooled.Load(), alone.Load(), size, size)
	}
	close(release)
	for range 2 * size {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewPoolRejectsNoGoroutines(t *testing.T) {
	t.Parallel()
	if _, err := NewPool(0, nil); err == nil {
		t.Fatal("NewPool(0) succeeded")
	}
}

// deepCalls needs about n KB of stack, in n frames.
//
//go:noinline
func deepCalls(n int) (b byte) {
	if n < 0 {
		var frame [1 << 10]byte
		b = frame[-n%len(frame)]
	}
	if n > 0 {
		deepCalls(n - 1)
	}
	return b
}

// BenchmarkPool runs a task as asynq does, on a goroutine started for
// it, and handed from that goroutine to the pool: one whose work needs
// 100 KB of stack in 100 frames, as a send's does, and one that needs 1 KB
// (what the handing over costs).
func BenchmarkPool(b *testing.B) {
	p, err := NewPool(1, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Stop(context.Background()) })
	for _, kb := range []int{100, 1} {
		work := asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
			deepCalls(kb)
			return nil
		})
		for _, bb := range []struct {
			name string
			h    asynq.Handler
		}{{"goroutine", work}, {"pool", p.Handler(work)}} {
			b.Run(fmt.Sprintf("stack=%dKB/%s", kb, bb.name), func(b *testing.B) {
				ctx, task := context.Background(), asynq.NewTask("x", nil)
				done := make(chan error)
				for b.Loop() {
					go func() { done <- bb.h.ProcessTask(ctx, task) }()
					if err := <-done; err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
