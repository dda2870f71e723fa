package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
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
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/providers/smtp/smtptest"
	"github.com/invoiced/invoiced/store"
)

// powerLossInvoices is how many drafts each power-loss run creates before
// it starts sending them.
const powerLossInvoices = 300

// TestPowerLoss cuts the power of a whole deployment (redis-server, one
// api, one worker) in the middle of sends, with Redis's append-only file
// fsynced every second or before every answer, and counts what the API
// had acknowledged that Redis lost, and the customers emailed twice.
//
// A kill -9 of redis-server keeps what it wrote in the page cache, so it
// loses nothing; a power loss loses what was not fsynced. An LD_PRELOAD
// shim (testdata/fsyncshim.c) records how much of each append-only file
// every fsync covered, and the power loss kills every process and cuts the
// file back to that. The drafts are created first and sent a second
// later, so a lost send leaves a draft whose finalize task survives; once
// the roles are back the grace periods end (the test runs those tasks),
// and the auto-email of a draft whose lost send had already gone out
// emails its customer a second time.
//
// Under appendfsync everysec some acknowledged sends are lost; under
// always none is, and no customer is emailed twice.
func TestPowerLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("the power-loss test builds and runs the binary; skipped with -short")
	}
	gcc := redistest.RequireTool(t, "gcc")
	shim := filepath.Join(t.TempDir(), "fsyncshim.so")
	if out, err := exec.Command(gcc, "-shared", "-fPIC", "-O2", "-o", shim, "testdata/fsyncshim.c", "-ldl").CombinedOutput(); err != nil {
		t.Fatalf("build the fsync shim: %v\n%s", err, out)
	}
	for _, fsync := range []string{"everysec", "always"} {
		t.Run(fsync, func(t *testing.T) {
			t.Parallel()
			r := powerLossRun(t, shim, fsync)
			t.Logf("power loss under appendfsync %s after %d of %d sends acknowledged: %d acknowledged sends lost (%d of them already emailed), %d customers emailed twice, %d copies with a Message-ID already received",
				fsync, r.acked, powerLossInvoices, r.lost, r.lostEmailed, r.twice, r.copies)
			switch fsync {
			case "always":
				if r.lost != 0 || r.twice != 0 || r.copies != 0 {
					t.Errorf("%d acknowledged sends lost, %d customers emailed twice, %d copies; want none", r.lost, r.twice, r.copies)
				}
			case "everysec":
				if r.lost == 0 {
					t.Error("no acknowledged send was lost under everysec: the power loss was not emulated")
				}
			}
		})
	}
}

// powerLossResult is what one power-loss run counted.
type powerLossResult struct {
	acked int
	// lost counts acknowledged sends Redis no longer has; lostEmailed
	// those of them whose email had gone out.
	lost, lostEmailed int
	// twice counts customers who received two different emails (two
	// Message-IDs); copies counts messages received again with a
	// Message-ID the customer already had, which receivers that
	// deduplicate drop.
	twice, copies int
}

func powerLossRun(t *testing.T, shim, fsync string) powerLossResult {
	start := time.Now()
	dir := t.TempDir()
	aofDir := filepath.Join(dir, "appendonlydir")
	fsyncLog := filepath.Join(dir, "fsync.log")
	redis := redistest.StartEnv(t, []string{"LD_PRELOAD=" + shim, "FSYNCSHIM_DIR=" + aofDir, "FSYNCSHIM_LOG=" + fsyncLog},
		"--dir", dir, "--appendonly", "yes", "--appendfsync", fsync, "--auto-aof-rewrite-percentage", "0")
	sink := smtptest.Start(t, smtptest.Options{NoSTARTTLS: true})
	f := newFleet(t, redis)
	f.env = append(f.env,
		"INVOICED_DEFAULT_EMAIL_PROVIDER=smtp",
		"INVOICED_DEFAULT_SMTP_URL=smtp://"+sink.Addr()+"?tls=none",
		"INVOICED_SEND_TIMEOUT=5s",
		"INVOICED_SHUTDOWN_TIMEOUT=1s",
	)
	api := f.start("api", "api")
	worker := f.start("worker", "worker")
	f.waitReady()
	status, body := f.post("/admin/v1/tenants", "fleet-admin", map[string]any{"name": "Power SRL"})
	if status != http.StatusCreated {
		t.Fatalf("create tenant: %d %v", status, body)
	}
	token := body["data"].(map[string]any)["token"].(string)
	f.put("/api/v1/settings", token, map[string]any{"defaults": map[string]any{
		"emailsPerHour": 1_000_000, "gracePeriod": "1h", "autoEmailOnFinalize": true}})

	// The drafts, each with its finalize task an hour ahead.
	parallel(powerLossInvoices, func(i int) {
		inv := map[string]any{"id": fmt.Sprintf("inv_%04d", i), "number": "P-" + strconv.Itoa(i), "currency": "EUR",
			"customer": map[string]any{"name": "Customer " + strconv.Itoa(i), "email": fmt.Sprintf("c%d@example.com", i)},
			"lines":    []any{map[string]any{"description": "Plan", "quantity": "1", "unitPrice": "10.00", "taxRate": "19"}}}
		if s, b := f.post("/api/v1/invoices", token, inv); s != http.StatusCreated {
			t.Errorf("create %d: %d %v", i, s, b)
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	time.Sleep(1500 * time.Millisecond) // every fsync policy has them on disk

	// Send them from 8 clients, each waiting for its last send's email
	// before the next, so most sends Redis loses have gone out; cut the
	// power once a third are acknowledged and a quarter emailed.
	var mu sync.Mutex
	acked := map[string]string{} // send id → customer address
	var nAcked atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		parallelN(8, powerLossInvoices, func(i int) {
			select {
			case <-stop:
				return
			default:
			}
			s, b := f.post(fmt.Sprintf("/api/v1/invoices/inv_%04d/send", i), token, map[string]any{"attachPdf": false})
			if s != http.StatusAccepted {
				return
			}
			to := fmt.Sprintf("c%d@example.com", i)
			mu.Lock()
			acked[b["data"].(map[string]any)["sendId"].(string)] = to
			mu.Unlock()
			nAcked.Add(1)
			// The next send once this one's email is out.
			for wait := time.Now().Add(5 * time.Second); time.Now().Before(wait) && recipients(sink.Messages())[to] == 0; {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for nAcked.Load() < powerLossInvoices/3 || len(sink.Messages()) < powerLossInvoices/4 || !sinceFsync(t, fsyncLog, fsync) {
		if time.Now().After(deadline) {
			t.Fatalf("after 30s only %d sends acknowledged and %d emailed", nAcked.Load(), len(sink.Messages()))
		}
		time.Sleep(2 * time.Millisecond)
	}
	redis.Stop()
	for _, cmd := range []*exec.Cmd{api, worker} {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	close(stop)
	<-done
	emailed := recipients(sink.Messages())
	t.Logf("power cut: %d sends acknowledged, %d messages received (%s)", nAcked.Load(), len(sink.Messages()), time.Since(start).Round(100*time.Millisecond))
	cutToLastFsync(t, aofDir, fsyncLog)

	redis.Restart(t)
	f.start("api", "api")
	f.start("worker", "worker")
	f.waitReady()

	// What the API acknowledged and Redis no longer has.
	st, err := store.New(redis.Client(t), store.Config{SecretKey: bytes.Repeat([]byte{3}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ten, err := st.TenantByToken(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	var r powerLossResult
	mu.Lock()
	r.acked = len(acked)
	for id, to := range acked {
		if _, err := st.Send(ctx, ten.ID, id); errors.Is(err, store.ErrNotFound) {
			r.lost++
			if emailed[to] > 0 {
				r.lostEmailed++
			}
		} else if err != nil {
			t.Fatal(err)
		}
	}
	mu.Unlock()

	// The grace periods end: every finalize task runs, and what it sends
	// goes out.
	inspector := asynq.NewInspector(asynq.RedisClientOpt{Addr: redis.Addr})
	defer inspector.Close()
	if _, err := inspector.RunAllScheduledTasks("default"); err != nil {
		t.Fatal(err)
	}
	settleQueues(t, inspector, sink, 30*time.Second)
	t.Logf("settled after %s", time.Since(start).Round(100*time.Millisecond))
	for _, ids := range messageIDs(t, sink.Messages()) {
		distinct := map[string]bool{}
		for _, id := range ids {
			distinct[id] = true
		}
		if len(distinct) > 1 {
			r.twice++
		}
		r.copies += len(ids) - len(distinct)
	}
	return r
}

// sinceFsync reports whether the power may go now: under everysec, once
// the last fsync is 700 ms old, late in the second everysec leaves
// unsynced, as an unlucky power loss would be (the shim appends to the
// log at each fsync); under always, at any time.
func sinceFsync(t *testing.T, fsyncLog, fsync string) bool {
	if fsync == "always" {
		return true
	}
	fi, err := os.Stat(fsyncLog)
	if err != nil {
		t.Fatal(err)
	}
	return time.Since(fi.ModTime()) >= 700*time.Millisecond
}

// parallel runs do(0…n-1) from 16 goroutines and waits for them.
func parallel(n int, do func(i int)) { parallelN(16, n, do) }

// parallelN runs do(0…n-1) from g goroutines and waits for them.
func parallelN(g, n int, do func(i int)) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range g {
		wg.Go(func() {
			for i := range jobs {
				do(i)
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

// recipients counts the messages each envelope recipient received.
func recipients(msgs []smtptest.Message) map[string]int {
	out := map[string]int{}
	for _, m := range msgs {
		for _, to := range m.To {
			out[to]++
		}
	}
	return out
}

// messageIDs lists the Message-IDs of the messages each envelope
// recipient received.
func messageIDs(t *testing.T, msgs []smtptest.Message) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, m := range msgs {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatalf("unreadable message: %v", err)
		}
		for _, to := range m.To {
			out[to] = append(out[to], msg.Header.Get("Message-ID"))
		}
	}
	return out
}

// cutToLastFsync leaves the append-only files of a killed redis-server as
// a power loss would have: the incremental file, the only one written
// after startup (rewrites are off), cut back to the size its last fsync
// covered, as recorded by the shim; the base and the manifest were
// fsynced when Redis started.
func cutToLastFsync(t *testing.T, aofDir, fsyncLog string) {
	t.Helper()
	durable := map[string]int64{}
	f, err := os.Open(fsyncLog)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		path, size, ok := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseInt(size, 10, 64)
		if !ok || err != nil {
			t.Fatalf("fsync log line %q", sc.Text())
		}
		durable[path] = n
	}
	f.Close()
	incr, _ := filepath.Glob(filepath.Join(aofDir, "*.incr.aof"))
	if len(incr) != 1 {
		t.Fatalf("%d incremental append-only files, want 1 (no rewrite): %v", len(incr), incr)
	}
	fi, err := os.Stat(incr[0])
	if err != nil {
		t.Fatal(err)
	}
	if durable[incr[0]] > fi.Size() {
		t.Fatalf("%s: fsynced %d bytes of %d", incr[0], durable[incr[0]], fi.Size())
	}
	t.Logf("power loss: %s cut from %d to %d bytes (%d not fsynced)", filepath.Base(incr[0]), fi.Size(), durable[incr[0]], fi.Size()-durable[incr[0]])
	if err := os.Truncate(incr[0], durable[incr[0]]); err != nil {
		t.Fatal(err)
	}
}

// settleQueues waits until no task is pending, scheduled or retrying and
// the SMTP server has received nothing for two seconds. Tasks left active
// by the killed worker are not waited for: asynq recovers them a minute
// after their lease ends, and a claim keeps their deliveries to one
// message.
func settleQueues(t *testing.T, inspector *asynq.Inspector, sink *smtptest.Server, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last, quietSince := -1, time.Now()
	for {
		queued := 0
		queues, err := inspector.Queues()
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range queues {
			info, err := inspector.GetQueueInfo(q)
			if err != nil {
				t.Fatal(err)
			}
			queued += info.Pending + info.Scheduled + info.Retry
		}
		if n := len(sink.Messages()); n != last {
			last, quietSince = n, time.Now()
		}
		if queued == 0 && time.Since(quietSince) > 2*time.Second {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %d tasks still queued", timeout, queued)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
