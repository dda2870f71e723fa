package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/providers/smtp/smtptest"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// The crash tests send crashSends invoices through one api and three worker
// processes to an SMTP server, break something mid-run, and count what the
// SMTP server received against what the API acknowledged (answered 2xx).
// They run in parallel: most of their time is spent waiting for asynq to
// recover the tasks a dead worker or a Redis restart left behind.
const (
	crashSends = 5000
	// crashConcurrency is each worker's concurrency: the most sends a
	// killed worker can have had under way.
	crashConcurrency = 20
)

// crashFleet is a fleet delivering through an SMTP server, on a Redis that
// keeps an append-only file.
type crashFleet struct {
	*fleet
	redis   *redistest.Server
	sink    *smtptest.Server
	token   string
	workers []*exec.Cmd
}

// newCrashFleet starts the fleet; the SMTP server answers each message
// replyDelay after accepting it, so that sends are under way when something
// breaks. env is added to every process's environment.
func newCrashFleet(t *testing.T, replyDelay time.Duration, env ...string) *crashFleet {
	t.Helper()
	if testing.Short() {
		t.Skip("the crash tests build and run the binary; skipped with -short")
	}
	redis := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "everysec")
	sink := smtptest.Start(t, smtptest.Options{NoSTARTTLS: true, ReplyDelay: replyDelay})
	c := &crashFleet{fleet: newFleet(t, redis), redis: redis, sink: sink}
	c.env = append(c.env,
		"INVOICED_DEFAULT_EMAIL_PROVIDER=smtp",
		"INVOICED_DEFAULT_SMTP_URL=smtp://"+sink.Addr()+"?tls=none",
		"INVOICED_WORKER_CONCURRENCY="+strconv.Itoa(crashConcurrency),
		// A claim then lasts 5s + 35s: a dead worker's sends are taken
		// over by the time asynq recovers its tasks (about a minute).
		"INVOICED_SEND_TIMEOUT=5s",
	)
	c.env = append(c.env, env...)
	c.start("api", "api")
	c.workers = make([]*exec.Cmd, 3)
	for i := range c.workers {
		c.startWorker(i)
	}
	c.waitReady()
	status, body := c.post("/admin/v1/tenants", "fleet-admin", map[string]any{"name": "Crash SRL"})
	if status != http.StatusCreated {
		t.Fatalf("create tenant: %d %v", status, body)
	}
	c.token = body["data"].(map[string]any)["token"].(string)
	c.put("/api/v1/settings", c.token, map[string]any{"defaults": map[string]any{"emailsPerHour": 1_000_000}})
	return c
}

func (c *crashFleet) startWorker(i int, env ...string) {
	c.workers[i] = c.start("worker", fmt.Sprintf("worker-%d", i+1), env...)
}

// crashRun is the API's answers to one run of sends.
type crashRun struct {
	done chan struct{}
	mu   sync.Mutex
	// acked holds the delivery ids of the sends answered 2xx.
	acked []string
	// refused counts the other answers to sends by status (0: no answer).
	refused map[int]int
	// notCreated counts invoices whose creation failed, so were not sent.
	notCreated int
	nAcked     atomic.Int64
	// took is how long the API took to answer every request.
	took time.Duration
}

// sendAll creates and sends n invoices from 16 clients in the background.
func (c *crashFleet) sendAll(n int) *crashRun {
	run := &crashRun{done: make(chan struct{}), refused: map[int]int{}}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range jobs {
				id := fmt.Sprintf("inv_%05d", i)
				inv := map[string]any{"id": id, "number": "C-" + strconv.Itoa(i), "currency": "EUR", "autoAdvance": false,
					"customer": map[string]any{"name": "Customer " + strconv.Itoa(i), "email": fmt.Sprintf("c%d@example.com", i)},
					"lines":    []any{map[string]any{"description": "Plan", "quantity": "1", "unitPrice": "10.00", "taxRate": "19"}}}
				if s, _ := c.post("/api/v1/invoices", c.token, inv); s != http.StatusCreated {
					run.mu.Lock()
					run.notCreated++
					run.mu.Unlock()
					continue
				}
				s, body := c.post("/api/v1/invoices/"+id+"/send", c.token, map[string]any{"attachPdf": false})
				run.mu.Lock()
				if s >= 200 && s < 300 {
					for _, d := range body["data"].(map[string]any)["deliveryIds"].([]any) {
						run.acked = append(run.acked, d.(string))
					}
					run.nAcked.Add(1)
				} else {
					run.refused[s]++
				}
				run.mu.Unlock()
			}
		})
	}
	start := time.Now()
	go func() {
		for i := range n {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		run.took = time.Since(start)
		close(run.done)
	}()
	return run
}

// waitFor polls cond until it holds, failing the test after timeout.
func (c *crashFleet) waitFor(what string, timeout time.Duration, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// received counts the messages the SMTP server accepted, by delivery id.
func (c *crashFleet) received() map[string]int {
	c.t.Helper()
	out := map[string]int{}
	for _, m := range c.sink.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			c.t.Fatalf("unreadable message: %v", err)
		}
		out[msg.Header.Get("X-Invoiced-Delivery")]++
	}
	return out
}

// tally is the outcome of a run.
type tally struct {
	acked, received, lost, duplicates int
	// resent counts attempts recorded with an unknown outcome: a worker
	// died holding the send, and another sent it again.
	resent int
}

// settle waits until every acknowledged send has reached the SMTP server
// and the queues are empty (so nothing more will be sent), then counts.
func (c *crashFleet) settle(run *crashRun, timeout time.Duration) tally {
	c.t.Helper()
	<-run.done
	inspector := asynq.NewInspector(asynq.RedisClientOpt{Addr: c.redis.Addr})
	defer inspector.Close()
	var got map[string]int
	var missing, queued int
	deadline := time.Now().Add(timeout)
	for {
		got = c.received()
		missing = 0
		for _, id := range run.acked {
			if got[id] == 0 {
				missing++
			}
		}
		// Only the queues that exist: a queue no task has been put in
		// (the default one, when no invoice auto-advances and the tenant
		// has no webhooks) is an error to GetQueueInfo.
		queued = 0
		queues, err := inspector.Queues()
		if err != nil {
			queued++
		}
		for _, q := range queues {
			info, err := inspector.GetQueueInfo(q)
			if err != nil {
				queued++
				continue
			}
			queued += info.Pending + info.Active + info.Scheduled + info.Retry + info.Aggregating
		}
		if missing == 0 && queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			c.t.Errorf("after %s: %d acknowledged sends never reached the SMTP server; %d tasks still queued", timeout, missing, queued)
			break
		}
		time.Sleep(500 * time.Millisecond)
	}

	st, err := store.New(c.redis.Client(c.t), store.Config{SecretKey: bytes.Repeat([]byte{3}, 32)})
	if err != nil {
		c.t.Fatal(err)
	}
	ctx := context.Background()
	ten, err := st.TenantByToken(ctx, c.token)
	if err != nil {
		c.t.Fatal(err)
	}
	tl := tally{acked: len(run.acked), lost: missing}
	for _, n := range got {
		tl.received += n
		tl.duplicates += n - 1
	}
	for _, id := range run.acked {
		d, err := st.Delivery(ctx, ten.ID, id)
		if err != nil {
			c.t.Fatalf("acknowledged delivery %s: %v", id, err)
		}
		if d.Status != store.DeliverySent && got[id] > 0 {
			c.t.Errorf("delivery %s reached the SMTP server but is %s", id, d.Status)
		}
		for _, a := range d.Attempts {
			if a.Code == store.CodeOutcomeUnknown {
				tl.resent++
			}
		}
	}
	return tl
}

// TestCrashKilledWorker kills a worker (SIGKILL) in the middle of 5,000
// sends and starts it again. asynq recovers the tasks it held once their
// lease has expired; a send it had handed to the SMTP server without
// recording it is sent again. Nothing acknowledged is lost, and duplicates
// are at most the killed worker's concurrency, each one a recorded re-send.
func TestCrashKilledWorker(t *testing.T) {
	t.Parallel()
	c := newCrashFleet(t, 200*time.Millisecond)
	start := time.Now()
	run := c.sendAll(crashSends)
	c.waitFor("a third of the sends to arrive", 2*time.Minute, func() bool { return len(c.sink.Messages()) >= crashSends/3 })
	// With tasks waiting in the queues every worker has all its slots
	// busy, so the one killed has sends under way. The SMTP server's
	// 200ms answer keeps the three workers (60 sends at once, 300 a
	// second) behind the API even on a loaded machine; with 50ms they
	// could keep up with it and sit idle when one was killed.
	c.waitFor("a backlog of tasks", 2*time.Minute, func() bool { return c.pending() >= crashConcurrency })
	killed := c.workers[0]
	if err := killed.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = killed.Wait()
	c.startWorker(0)
	tl := c.settle(run, 3*time.Minute)
	t.Logf("kill -9 of 1 of 3 workers (concurrency %d) mid-run: %d sends acknowledged, %d messages received, %d lost, %d duplicates, %d sent again after a dead worker's claim; %s",
		crashConcurrency, tl.acked, tl.received, tl.lost, tl.duplicates, tl.resent, time.Since(start).Round(time.Second))
	if tl.acked != crashSends {
		t.Errorf("%d of %d sends acknowledged; refused: %v, %d invoices not created", tl.acked, crashSends, run.refused, run.notCreated)
	}
	if tl.lost != 0 {
		t.Errorf("%d acknowledged sends lost", tl.lost)
	}
	if tl.duplicates > crashConcurrency {
		t.Errorf("%d duplicates, more than the killed worker's %d sends under way", tl.duplicates, crashConcurrency)
	}
	if tl.duplicates > tl.resent {
		t.Errorf("%d duplicates but only %d recorded re-sends", tl.duplicates, tl.resent)
	}
	if tl.resent == 0 {
		t.Error("no send was under way when the worker was killed: the test proved nothing")
	}
}

// TestCrashStoppedWorker stops a worker with SIGTERM in the middle of 5,000
// sends, with a shutdown timeout shorter than one SMTP answer: asynq puts
// the unfinished tasks back on the queue while their sends are under way,
// the worker waits for those sends and records them, and the requeued
// tasks find them sent. Nothing is lost and nothing arrives twice.
func TestCrashStoppedWorker(t *testing.T) {
	t.Parallel()
	// At info level a worker's log says how many sends it waited for.
	c := newCrashFleet(t, 300*time.Millisecond, "INVOICED_SHUTDOWN_TIMEOUT=50ms", "INVOICED_LOG_LEVEL=info")
	start := time.Now()
	run := c.sendAll(crashSends)
	c.waitFor("a third of the sends to arrive", 2*time.Minute, func() bool { return len(c.sink.Messages()) >= crashSends/3 })
	// With tasks waiting in the queues, every worker has all its slots
	// busy: the one stopped has sends under way, however fast the API
	// keeps up on a loaded machine.
	c.waitFor("a backlog of tasks", 2*time.Minute, func() bool { return c.pending() >= crashConcurrency })
	stopped := c.workers[0]
	if err := stopped.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- stopped.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the stopped worker exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the worker did not exit within 20s of SIGTERM")
	}
	inFlight := c.sendsWaitedFor("worker-1")
	c.startWorker(0)
	tl := c.settle(run, 3*time.Minute)
	t.Logf("SIGTERM to 1 of 3 workers mid-run (%d sends under way, shutdown timeout 50ms): %d sends acknowledged, %d messages received, %d lost, %d duplicates, %d sent again; %s",
		inFlight, tl.acked, tl.received, tl.lost, tl.duplicates, tl.resent, time.Since(start).Round(time.Second))
	if tl.acked != crashSends {
		t.Errorf("%d of %d sends acknowledged; refused: %v, %d invoices not created", tl.acked, crashSends, run.refused, run.notCreated)
	}
	if tl.lost != 0 || tl.duplicates != 0 || tl.resent != 0 {
		t.Errorf("%d lost, %d duplicates, %d sent again; want none", tl.lost, tl.duplicates, tl.resent)
	}
	if inFlight == 0 {
		t.Error("no send was under way when the worker stopped: the test proved nothing")
	}
}

// pending is how many tasks wait in the fleet's queues.
func (c *crashFleet) pending() int {
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: c.redis.Addr})
	defer insp.Close()
	n := 0
	for q := range tasks.Queues {
		if info, err := insp.GetQueueInfo(q); err == nil {
			n += info.Pending
		}
	}
	return n
}

// sendsWaitedFor reads from a worker's log how many sends under way it
// waited for when it stopped.
func (c *crashFleet) sendsWaitedFor(name string) int {
	c.t.Helper()
	f, err := os.Open(filepath.Join(c.logs, name+".log"))
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var entry struct {
			Msg   string `json:"msg"`
			Sends int    `json:"sends"`
		}
		if json.Unmarshal(sc.Bytes(), &entry) == nil && strings.HasPrefix(entry.Msg, "waiting for sends under way") {
			n += entry.Sends
		}
	}
	return n
}

// TestCrashRedisRestart kills Redis (SIGKILL) in the middle of 5,000 sends
// and starts it again a second later on the same append-only file. While it
// is down the API answers 5xx; the processes reconnect by themselves; every
// send the API acknowledged reaches the SMTP server.
func TestCrashRedisRestart(t *testing.T) {
	t.Parallel()
	c := newCrashFleet(t, 20*time.Millisecond)
	start := time.Now()
	run := c.sendAll(crashSends)
	c.waitFor("a third of the sends to be acknowledged", 2*time.Minute, func() bool { return run.nAcked.Load() >= crashSends/3 })
	c.redis.Stop()
	time.Sleep(time.Second)
	c.redis.Restart(t)
	tl := c.settle(run, 3*time.Minute)
	refused := 0
	for status, n := range run.refused {
		refused += n
		if status < 500 {
			t.Errorf("%d sends answered %d while Redis was down; want 5xx", n, status)
		}
	}
	t.Logf("Redis killed and restarted (appendfsync everysec) mid-run: %d sends acknowledged, %d refused (5xx) and %d invoices not created while it was down (requests answered in %s), %d messages received, %d lost, %d duplicates; %s",
		tl.acked, refused, run.notCreated, run.took.Round(100*time.Millisecond), tl.received, tl.lost, tl.duplicates, time.Since(start).Round(time.Second))
	if tl.lost != 0 {
		t.Errorf("%d acknowledged sends lost", tl.lost)
	}
	if refused+run.notCreated == 0 {
		t.Error("no request failed while Redis was down: the test proved nothing")
	}
}
