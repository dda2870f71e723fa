package worker

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hibiken/asynq"
)

// Pool runs the handlers' work on long-lived goroutines whose stacks have
// already grown. asynq starts a goroutine with a small stack for every
// task, and a send's deep paths (the store's record encoding, JSON, the
// PDF render, go-redis) grow it several times, each time copying it; on a
// goroutine of the pool the stack a previous task grew is still there.
//
// The task keeps everything asynq gives it: the handler gets asynq's ctx
// (its cancellation, deadline, task id and retry count) and its answer
// goes back to asynq unchanged; a panic becomes the error asynq would
// make of it and is logged as asynq would log it. A task that finds every
// goroutine of the pool busy (asynq starts a new task when it gave up
// waiting for one, after its lease expired or its deadline passed) or the
// pool stopped runs on asynq's goroutine, as without a pool.
type Pool struct {
	jobs   chan *poolJob
	quit   chan struct{}
	size   int64
	busy   atomic.Int64 // tasks handed to the pool, or about to be
	wg     sync.WaitGroup
	logger asynq.Logger
	stop   sync.Once
}

// poolJob is one task handed to the pool, and the channel its handler's
// answer comes back on.
type poolJob struct {
	ctx  context.Context
	task *asynq.Task
	h    asynq.Handler
	done chan error
}

// NewPool starts size goroutines, the asynq server's concurrency. logger
// receives a handler's panic with its stack, as asynq.Config.Logger does
// from the server; nil discards it.
func NewPool(size int, logger asynq.Logger) (*Pool, error) {
	if size < 1 {
		return nil, fmt.Errorf("worker: pool size %d, want at least 1", size)
	}
	p := &Pool{jobs: make(chan *poolJob), quit: make(chan struct{}), size: int64(size), logger: logger}
	p.wg.Add(size)
	for range size {
		go p.run()
	}
	return p, nil
}

// Handler returns h run on the pool.
func (p *Pool) Handler(h asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		if p.busy.Add(1) <= p.size {
			j := &poolJob{ctx: ctx, task: t, h: h, done: make(chan error, 1)}
			select {
			case p.jobs <- j:
				return <-j.done
			case <-p.quit:
			}
		}
		p.busy.Add(-1)
		return h.ProcessTask(ctx, t)
	})
}

// Stop stops the pool's goroutines once their tasks are done, or returns
// when ctx ends first. Call it when the asynq server has shut down: a
// task handed to the pool after Stop runs on its own goroutine.
func (p *Pool) Stop(ctx context.Context) error {
	p.stop.Do(func() { close(p.quit) })
	if err := waitCtx(ctx, &p.wg); err != nil {
		return fmt.Errorf("tasks still running on the pool: %w", err)
	}
	return nil
}

// waitCtx waits for wg, or returns ctx's error when ctx ends first.
func waitCtx(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Pool) run() {
	defer p.wg.Done()
	for {
		j, _ := p.next(0)
		if j == nil {
			return
		}
		err := p.perform(j)
		p.busy.Add(-1)
		j.done <- err
	}
}

// idleFrame is the stack an idle goroutine of the pool keeps in use. The
// garbage collector halves the stack of a goroutine that uses less than a
// quarter of it; a goroutine that waits with this much in use keeps a
// stack of up to four times as much (a send grows one to 128 KB).
const idleFrame = 32 << 10

// next waits for a job, nil when the pool stops, in a frame of idleFrame
// bytes. The frame is never written (n is never negative), so it costs
// nothing but the room; the byte it returns keeps the frame from being
// optimised away.
//
//go:noinline
func (p *Pool) next(n int) (*poolJob, byte) {
	var b byte
	if n < 0 {
		var frame [idleFrame]byte
		b = frame[-n%idleFrame]
	}
	select {
	case j := <-p.jobs:
		return j, b
	case <-p.quit:
		return nil, b
	}
}

// perform runs the job's handler and turns its panic into an error the
// way asynq's processor does: the same log line with the stack and the
// same message.
func (p *Pool) perform(j *poolJob) (err error) {
	defer func() {
		if x := recover(); x != nil {
			if p.logger != nil {
				p.logger.Error(fmt.Sprintf("recovering from panic. See the stack trace below for details:\n%s", debug.Stack()))
			}
			_, file, line, ok := runtime.Caller(1) // skip the first frame (panic itself)
			if ok && strings.Contains(file, "runtime/") {
				// A panic of the runtime (a nil map, an index out of
				// range): the frame above it is the code that made it.
				_, file, line, ok = runtime.Caller(2)
			}
			msg := fmt.Sprintf("panic: %v", x)
			if ok {
				msg = fmt.Sprintf("panic [%s:%d]: %v", file, line, x)
			}
			err = &PanicError{msg: msg}
		}
	}()
	return j.h.ProcessTask(j.ctx, j.task)
}

// PanicError is a handler's panic on the pool, with the message asynq
// gives one: "panic error cause by: panic [file:line]: value".
type PanicError struct{ msg string }

func (e *PanicError) Error() string { return "panic error cause by: " + e.msg }
