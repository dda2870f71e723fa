package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/tasks"
)

// newClusterFleet is a fleet on INVOICED_REDIS_URL=url with the extra
// variables env; no process is started yet.
func newClusterFleet(t *testing.T, url string, env ...string) *fleet {
	port := redistest.FreePort(t)
	f := &fleet{t: t, bin: buildBinary(t), outbox: t.TempDir(), logs: t.TempDir(),
		url: "http://127.0.0.1:" + strconv.Itoa(port)}
	f.env = append(os.Environ(),
		"INVOICED_REDIS_URL="+url,
		"INVOICED_SECRET_KEY="+hex.EncodeToString(bytes.Repeat([]byte{3}, 32)),
		"INVOICED_ADMIN_TOKEN=fleet-admin",
		"INVOICED_ADDR=127.0.0.1:"+strconv.Itoa(port),
		"INVOICED_OUTBOX_DIR="+f.outbox,
		"INVOICED_DEFAULT_EMAIL_PROVIDER=outbox",
		"INVOICED_LOG_LEVEL=warn",
		// The fleet's tenants send thousands of emails in minutes.
		"INVOICED_MAX_EMAILS_PER_HOUR=1000000",
		// Each process's metrics listener, where there is one, on a port
		// of its own.
		"INVOICED_METRICS_ADDR=127.0.0.1:0",
	)
	f.env = append(f.env, env...)
	return f
}

// call is one HTTP exchange with the fleet's API.
type call struct {
	Status int
	Header http.Header
	Raw    []byte
}

func (c call) data() map[string]any {
	var v struct{ Data map[string]any }
	_ = json.Unmarshal(c.Raw, &v)
	return v.Data
}

func (f *fleet) do(method, path, token string, body any, header ...string) call {
	f.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	if !strings.HasPrefix(path, "http") {
		path = f.url + path
	}
	req, _ := http.NewRequest(method, path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return call{resp.StatusCode, resp.Header, raw}
}

func (f *fleet) must(want int, c call) call {
	f.t.Helper()
	if c.Status != want {
		f.t.Fatalf("status %d, want %d: %s", c.Status, want, c.Raw)
	}
	return c
}

func (f *fleet) emails() []string {
	files, _ := filepath.Glob(filepath.Join(f.outbox, "email", "*.eml"))
	return files
}

// deliveryStatuses returns an invoice's deliveries' statuses by send id.
func (f *fleet) deliveryStatuses(token, invoiceID string) map[string]string {
	f.t.Helper()
	var v struct {
		Data struct {
			Deliveries []struct{ SendID, Status string }
		}
	}
	c := f.must(http.StatusOK, f.do("GET", "/api/v1/invoices/"+invoiceID+"/delivery-status", token, nil))
	if err := json.Unmarshal(c.Raw, &v); err != nil {
		f.t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range v.Data.Deliveries {
		out[d.SendID] = d.Status
	}
	return out
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hookReceiver records webhook requests.
type hookReceiver struct {
	mu   sync.Mutex
	got  []*http.Request
	body [][]byte
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.got = append(h.got, r)
	h.body = append(h.body, b)
	h.mu.Unlock()
}

// events returns the types of the events received, checking each
// signature with secret as Standard Webhooks defines it.
func (h *hookReceiver) events(t *testing.T, secret string) []string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var types []string
	for i, r := range h.got {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "."))
		m.Write(h.body[i])
		if want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)); r.Header.Get("webhook-signature") != want {
			t.Fatalf("webhook signature %q, want %q", r.Header.Get("webhook-signature"), want)
		}
		var ev struct{ Type string }
		_ = json.Unmarshal(h.body[i], &ev)
		types = append(types, ev.Type)
	}
	return types
}

// readmeWalkthrough returns the README's walkthrough commands, pointed at
// addr, the token in tokenFile and the outbox folder outbox instead of
// `make run`'s.
func readmeWalkthrough(t *testing.T, addr, tokenFile, outbox string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n## Walkthrough\n")
	if ok {
		_, rest, ok = strings.Cut(rest, "```sh\n")
	}
	script, _, closed := strings.Cut(rest, "\n```\n")
	if !ok || !closed || !strings.Contains(script, "localhost:8080") {
		t.Fatal("README has no ```sh block under ## Walkthrough that talks to localhost:8080")
	}
	return strings.NewReplacer("localhost:8080", addr, "var/dev-token", tokenFile, "var/outbox", outbox).Replace(script)
}

// TestWalkthroughOnCluster runs the README's walkthrough, verbatim but
// for the address, against an api, two workers and a scheduler sharing a
// 3-master Redis Cluster through INVOICED_REDIS_URL=redis-cluster://…,
// then what the walkthrough leaves out: webhooks, the payment link, the
// hosted page, idempotent replays, a scheduled send that fires, and the
// scheduler's sweep finding a draft whose finalize task was lost.
func TestWalkthroughOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary against a Redis Cluster; skipped with -short")
	}
	t.Parallel()
	bash := redistest.RequireTool(t, "bash")
	redistest.RequireTool(t, "curl")
	cluster := redistest.StartCluster(t, 3, 0)
	hooks := &hookReceiver{}
	hookSrv := httptest.NewServer(hooks)
	t.Cleanup(hookSrv.Close)

	f := newClusterFleet(t, cluster.URL(),
		"INVOICED_WEBHOOK_ALLOW_NETS=127.0.0.1/32",
		"INVOICED_SWEEP_INTERVAL=1s",
		"INVOICED_EMAIL_MAX_PER_SECOND=20",
	)
	f.start("api", "api")
	f.start("worker", "worker-1")
	f.start("worker", "worker-2")
	f.start("scheduler", "scheduler")
	f.waitReady()
	inspector := asynq.NewInspectorFromRedisClient(cluster.Client(t))

	c := f.must(http.StatusCreated, f.do("POST", "/admin/v1/tenants", "fleet-admin", map[string]any{"name": "ACME SRL"}))
	token, tenantID := c.data()["token"].(string), c.data()["id"].(string)
	logPlacement(t, cluster, "ivd:{"+tenantID+"}:tenant", "asynq:{"+tasks.QueueCritical+"}:pending", "asynq:{"+tasks.QueueDefault+"}:pending")

	// The README, as a reader would paste it.
	// From the repository root of a `make run`: var/ holds the token, and
	// what the walkthrough downloads.
	work := t.TempDir()
	tokenFile := filepath.Join(work, "var", "dev-token")
	if err := os.MkdirAll(filepath.Dir(tokenFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	script := readmeWalkthrough(t, strings.TrimPrefix(f.url, "http://"), tokenFile, f.outbox)
	cmd := exec.Command(bash, "-euo", "pipefail", "-c", script)
	cmd.Dir = work
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("README walkthrough: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	t.Logf("README walkthrough ran in %v", time.Since(start).Round(time.Millisecond))
	for _, want := range []string{`"status":"draft"`, `"total":"1130.50"`, `"status":"queued"`, `"publicUrl":"`, `"status":"canceled"`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("walkthrough output lacks %s:\n%s", want, out)
		}
	}
	if pdf, _ := os.ReadFile(filepath.Join(work, "var", "inv_1001.pdf")); !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("inv_1001.pdf is not a PDF: %.40q", pdf)
	}
	if xml, _ := os.ReadFile(filepath.Join(work, "var", "inv_1001.xml")); !bytes.Contains(xml, []byte("INV-1001")) {
		t.Errorf("inv_1001.xml lacks the invoice number: %.200q", xml)
	}

	// What the walkthrough did, as the API and the outbox tell it.
	waitFor(t, 10*time.Second, "the email of inv_1001", func() bool { return len(f.emails()) == 1 })
	eml, _ := os.ReadFile(f.emails()[0])
	if !bytes.Contains(eml, []byte("ana@example.com")) || !bytes.Contains(eml, []byte("INV-1001")) || !bytes.Contains(eml, []byte("accounts@example.com")) {
		t.Errorf("the email is not inv_1001's to ana@ with accounts@ in cc:\n%.600s", eml)
	}
	inv := f.must(http.StatusOK, f.do("GET", "/api/v1/invoices/inv_1001", token, nil)).data()
	if inv["status"] != "open" || inv["paymentLink"] != "https://pay.acme.test/inv_1001?amount=1130.50&currency=EUR" {
		t.Fatalf("inv_1001 = status %v, paymentLink %v", inv["status"], inv["paymentLink"])
	}
	waitFor(t, 10*time.Second, "inv_1001 sent and its reminder canceled", func() bool {
		st := f.deliveryStatuses(token, "inv_1001")
		sent, canceled := 0, 0
		for _, s := range st {
			sent += map[bool]int{true: 1}[s == "sent"]
			canceled += map[bool]int{true: 1}[s == "canceled"]
		}
		return len(st) == 2 && sent == 1 && canceled == 1
	})

	// The same Idempotency-Key and body answer the first response again.
	replay := f.must(http.StatusAccepted, f.do("POST", "/api/v1/invoices/inv_1001/send", token,
		`{"cc": ["accounts@example.com"]}`, "Idempotency-Key", "send-inv-1001"))
	if replay.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("second POST with the walkthrough's key was not a replay: %s", replay.Raw)
	}

	// Payment link, its QR code, and the hosted page with its PDF.
	pl := f.must(http.StatusOK, f.do("GET", "/api/v1/invoices/inv_1001/payment-link", token, nil)).data()
	if pl["paymentLink"] != inv["paymentLink"] {
		t.Errorf("payment-link = %v", pl)
	}
	if qr := f.must(http.StatusOK, f.do("GET", "/api/v1/invoices/inv_1001/qr-code", token, nil)); !bytes.HasPrefix(qr.Raw, []byte("\x89PNG")) {
		t.Errorf("qr-code is not a PNG")
	}
	page := f.must(http.StatusOK, f.do("GET", inv["publicUrl"].(string), "", nil))
	if !bytes.Contains(page.Raw, []byte("INV-1001")) || !bytes.Contains(page.Raw, []byte("pay.acme.test")) {
		t.Errorf("hosted page lacks the number or the Pay link:\n%.400s", page.Raw)
	}
	if pdf := f.must(http.StatusOK, f.do("GET", inv["publicUrl"].(string)+"/pdf", "", nil)); !bytes.HasPrefix(pdf.Raw, []byte("%PDF-")) {
		t.Errorf("hosted PDF is not a PDF")
	}

	// Webhooks, signed, for a second invoice; then a scheduled send that
	// fires two seconds later.
	wh := f.must(http.StatusCreated, f.do("POST", "/api/v1/webhooks", token,
		map[string]any{"url": hookSrv.URL + "/hooks", "events": []string{"invoice.finalized", "invoice.sent"}})).data()
	f.must(http.StatusCreated, f.do("POST", "/api/v1/invoices", token, map[string]any{
		"id": "inv_1002", "number": "INV-1002", "currency": "EUR",
		"customer": map[string]any{"name": "Ana Popescu", "email": "ana@example.com"},
		"lines":    []any{map[string]any{"description": "Support", "quantity": "1", "unitPrice": "50.00", "taxRate": "19"}}}))
	f.must(http.StatusAccepted, f.do("POST", "/api/v1/invoices/inv_1002/send", token, nil))
	waitFor(t, 15*time.Second, "invoice.finalized and invoice.sent webhooks", func() bool {
		return len(hooks.events(t, wh["secret"].(string))) == 2
	})
	if got := strings.Join(hooks.events(t, wh["secret"].(string)), ","); !strings.Contains(got, "invoice.finalized") || !strings.Contains(got, "invoice.sent") {
		t.Errorf("webhook events = %s", got)
	}
	attempts := f.must(http.StatusOK, f.do("GET", "/api/v1/webhooks/"+wh["id"].(string)+"/attempts", token, nil))
	if !bytes.Contains(attempts.Raw, []byte(`"statusCode":200`)) {
		t.Errorf("webhook attempts = %s", attempts.Raw)
	}
	at := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	sched := f.must(http.StatusAccepted, f.do("POST", "/api/v1/invoices/inv_1002/resend", token,
		map[string]any{"message": "A reminder.", "scheduledAt": at.Format(time.RFC3339)})).data()
	if sched["status"] != "scheduled" {
		t.Fatalf("scheduled resend = %v", sched)
	}
	sendID := sched["sendId"].(string)
	waitFor(t, 15*time.Second, "the scheduled reminder sent", func() bool {
		return f.deliveryStatuses(token, "inv_1002")[sendID] == "sent"
	})
	if time.Now().Before(at) {
		t.Errorf("the reminder scheduled for %v went out early", at)
	}

	// The scheduler's sweep: a draft whose finalize task is deleted is
	// still finalized, and auto-emailed, once its grace period passes.
	f.put("/api/v1/settings", token, map[string]any{
		"email":    map[string]any{"provider": "outbox", "fromEmail": "billing@acme.test"},
		"defaults": map[string]any{"gracePeriod": "2s", "autoEmailOnFinalize": true}})
	f.must(http.StatusCreated, f.do("POST", "/api/v1/invoices", token, map[string]any{
		"id": "inv_1003", "number": "INV-1003", "currency": "EUR",
		"customer": map[string]any{"name": "Ana Popescu", "email": "ana@example.com"},
		"lines":    []any{map[string]any{"description": "Hosting", "quantity": "1", "unitPrice": "20.00", "taxRate": "19"}}}))
	finalizeID := tasks.FinalizeTaskID(tenantID, "inv_1003")
	if err := inspector.DeleteTask(tasks.QueueDefault, finalizeID); err != nil {
		t.Fatalf("delete the finalize task through the inspector: %v", err)
	}
	if _, err := inspector.GetTaskInfo(tasks.QueueDefault, finalizeID); !errors.Is(err, asynq.ErrTaskNotFound) {
		t.Fatalf("the deleted finalize task: %v, want ErrTaskNotFound", err)
	}
	waitFor(t, 20*time.Second, "the sweep finalizing inv_1003", func() bool {
		return f.must(http.StatusOK, f.do("GET", "/api/v1/invoices/inv_1003", token, nil)).data()["status"] == "open"
	})
	waitFor(t, 10*time.Second, "inv_1003 auto-emailed", func() bool { return len(f.emails()) == 4 })

	// asynq's own bookkeeping on the cluster: queues, the scheduler's
	// entry, servers.
	queues, err := inspector.Queues()
	if err != nil || len(queues) < 2 {
		t.Errorf("inspector queues = %v, %v", queues, err)
	}
	for _, q := range queues {
		info, err := inspector.GetQueueInfo(q)
		if err != nil {
			t.Errorf("queue %s info: %v", q, err)
			continue
		}
		t.Logf("queue %s: %d processed, %d failed today, %d scheduled", q, info.Processed, info.Failed, info.Scheduled)
	}
	// The scheduler writes its entries with its first heartbeat, 10 s in:
	// the three sweeps.
	waitFor(t, 15*time.Second, "the scheduler's entries", func() bool {
		entries, err := inspector.SchedulerEntries()
		if err != nil {
			t.Fatalf("scheduler entries: %v", err)
		}
		var types []string
		for _, e := range entries {
			types = append(types, e.Task.Type())
		}
		slices.Sort(types)
		return slices.Equal(types, []string{tasks.TypeSweepDeliveries, tasks.TypeSweepEvents, tasks.TypeSweepFinalize})
	})
	if servers, err := inspector.Servers(); err != nil || len(servers) != 2 {
		t.Errorf("inspector servers = %d, %v; want the 2 workers", len(servers), err)
	}
	time.Sleep(time.Second)
	if n := len(f.emails()); n != 4 {
		t.Errorf("outbox holds %d emails, want 4 (inv_1001, inv_1002 and its reminder, inv_1003)", n)
	}
}

// startClusterSenders starts an api and two workers on cluster and a
// tenant named name that may send as many emails an hour as a load test
// needs; it returns the fleet, the tenant's token and its id.
func startClusterSenders(t *testing.T, cluster *redistest.Cluster, name string) (*fleet, string, string) {
	t.Helper()
	f := newClusterFleet(t, cluster.URL())
	f.start("api", "api")
	f.start("worker", "worker-1")
	f.start("worker", "worker-2")
	f.waitReady()
	c := f.must(http.StatusCreated, f.do("POST", "/admin/v1/tenants", "fleet-admin", map[string]any{"name": name}))
	token, tenantID := c.data()["token"].(string), c.data()["id"].(string)
	f.put("/api/v1/settings", token, map[string]any{"defaults": map[string]any{"emailsPerHour": 1_000_000}})
	return f, token, tenantID
}

// TestFleetOnCluster is TestFleet on a 3-master Redis Cluster: one api
// and two worker processes, 1,000 invoices created and sent by 16 clients;
// exactly 1,000 emails arrive, each delivery handed to the provider once.
// It logs how the commands spread over the masters: asynq keeps a queue
// in one hash slot, so the queues' master does most of the work.
func TestFleetOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary against a Redis Cluster; skipped with -short")
	}
	cluster := redistest.StartCluster(t, 3, 0)
	f, token, tenantID := startClusterSenders(t, cluster, "Fleet SRL")
	logPlacement(t, cluster, "ivd:{"+tenantID+"}:tenant", "asynq:{"+tasks.QueueCritical+"}:pending", "asynq:{"+tasks.QueueDefault+"}:pending")
	before := commandsProcessed(t, cluster)

	const n = 1000
	start := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for range 16 {
		wg.Go(func() {
			for i := range jobs {
				id := "inv_" + strconv.Itoa(i)
				inv := map[string]any{"id": id, "number": "F-" + strconv.Itoa(i), "currency": "EUR", "autoAdvance": false,
					"customer": map[string]any{"name": "Customer " + strconv.Itoa(i), "email": "c" + strconv.Itoa(i) + "@example.com"},
					"lines":    []any{map[string]any{"description": "Plan", "quantity": "1", "unitPrice": "10.00", "taxRate": "19"}}}
				s1, _ := f.post("/api/v1/invoices", token, inv)
				s2, b := f.post("/api/v1/invoices/"+id+"/send", token, nil)
				if s1 != http.StatusCreated || s2 != http.StatusAccepted {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: %d, %d %v", id, s1, s2, b))
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	accepted := time.Since(start)
	if len(failures) > 0 {
		t.Fatalf("%d requests failed, first: %s", len(failures), failures[0])
	}
	waitFor(t, 3*time.Minute, "1,000 emails", func() bool { return len(f.emails()) >= n })
	drained := time.Since(start)
	time.Sleep(time.Second)
	if got := len(f.emails()); got != n {
		t.Fatalf("outbox holds %d emails, want exactly %d", got, n)
	}

	var latencies []time.Duration
	for i := range n {
		var v struct {
			Data struct {
				Deliveries []struct {
					Status            string
					SentAt, CreatedAt time.Time
					Attempts          []struct{ Error string }
				}
			}
		}
		raw := f.must(http.StatusOK, f.do("GET", "/api/v1/invoices/inv_"+strconv.Itoa(i)+"/delivery-status", token, nil)).Raw
		if err := json.Unmarshal(raw, &v); err != nil || len(v.Data.Deliveries) != 1 {
			t.Fatalf("inv_%d: %s", i, raw)
		}
		d := v.Data.Deliveries[0]
		ok := 0
		for _, a := range d.Attempts {
			if a.Error == "" {
				ok++
			}
		}
		if d.Status != "sent" || ok != 1 {
			t.Fatalf("inv_%d: status %s with %d successful attempts", i, d.Status, ok)
		}
		latencies = append(latencies, d.SentAt.Sub(d.CreatedAt))
	}
	after := commandsProcessed(t, cluster)
	t.Logf("%d sends on a 3-master cluster: accepted in %v, all sent after %v; median queued→sent under load %s",
		n, accepted.Round(time.Millisecond), drained.Round(time.Millisecond), median(latencies))
	var total int64
	for addr := range after {
		total += after[addr] - before[addr]
	}
	for _, addr := range cluster.Addrs {
		d := after[addr] - before[addr]
		t.Logf("master %s: %d commands (%d%%)", addr, d, 100*d/max(total, 1))
	}
}

// commandsProcessed reads total_commands_processed from every node.
func commandsProcessed(t *testing.T, c *redistest.Cluster) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, s := range c.Nodes {
		info, err := s.Client(t).Info(context.Background(), "stats").Result()
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.SplitSeq(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
				out[s.Addr], _ = strconv.ParseInt(v, 10, 64)
			}
		}
	}
	return out
}

// logPlacement logs which master holds each key's slot.
func logPlacement(t *testing.T, c *redistest.Cluster, keys ...string) {
	t.Helper()
	rdb := c.Client(t)
	for _, key := range keys {
		if m, err := rdb.MasterForKey(context.Background(), key); err == nil {
			t.Logf("%s lives on master %s", key, m.Options().Addr)
		}
	}
}

// TestFailoverOnCluster kills the master that holds asynq's queues, in a
// cluster of 3 masters with a replica each, while clients keep sending.
// The replica takes over; sends accepted after that are delivered exactly
// once. It logs how long the failover took, how many requests failed
// meanwhile, and what became of the sends accepted around it.
func TestFailoverOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary against a Redis Cluster; skipped with -short")
	}
	cluster := redistest.StartCluster(t, 3, 1)
	f, token, tenantID := startClusterSenders(t, cluster, "Failover SRL")

	ctx := context.Background()
	queueKey := "asynq:{" + tasks.QueueCritical + "}:pending"
	rdb := cluster.Client(t)
	inspector := asynq.NewInspectorFromRedisClient(rdb)
	m, err := rdb.MasterForKey(ctx, queueKey)
	if err != nil {
		t.Fatal(err)
	}
	queueMaster := m.Options().Addr
	tm, _ := rdb.MasterForKey(ctx, "ivd:{"+tenantID+"}:tenant")
	t.Logf("queues on %s, the tenant on %s", queueMaster, tm.Options().Addr)

	// send creates and sends invoice i; it reports whether both were
	// accepted.
	var next int
	var mu sync.Mutex
	var lastRefusal string
	send := func(i int) bool {
		id := "inv_" + strconv.Itoa(i)
		inv := map[string]any{"id": id, "number": "F-" + strconv.Itoa(i), "currency": "EUR", "autoAdvance": false,
			"customer": map[string]any{"name": "Customer", "email": "c" + strconv.Itoa(i) + "@example.com"},
			"lines":    []any{map[string]any{"description": "Plan", "quantity": "1", "unitPrice": "10.00", "taxRate": "19"}}}
		s1, b1 := f.post("/api/v1/invoices", token, inv)
		s2, b2 := 0, map[string]any(nil)
		if s1 == http.StatusCreated {
			s2, b2 = f.post("/api/v1/invoices/"+id+"/send", token, nil)
		}
		if s2 != http.StatusAccepted {
			mu.Lock()
			lastRefusal = fmt.Sprintf("%s: create %d %v, send %d %v", id, s1, b1, s2, b2)
			mu.Unlock()
			return false
		}
		return true
	}
	// stream sends invoices from next on with 4 clients until stop is
	// closed, and returns the ids accepted and the number refused.
	stream := func(stop <-chan struct{}, limit int) (accepted []int, refused int) {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					if limit == 0 {
						mu.Unlock()
						return
					}
					limit--
					i := next
					next++
					mu.Unlock()
					ok := send(i)
					mu.Lock()
					if ok {
						accepted = append(accepted, i)
					} else {
						refused++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return accepted, refused
	}

	before, _ := stream(nil, 100)
	waitFor(t, 30*time.Second, "the first 100 emails", func() bool { return len(f.emails()) == len(before) })

	// Kill the queues' master while clients keep sending, until the
	// cluster has promoted its replica and a few seconds more.
	stop := make(chan struct{})
	type result struct {
		accepted []int
		refused  int
	}
	during := make(chan result)
	go func() { a, r := stream(stop, -1); during <- result{a, r} }()
	time.Sleep(300 * time.Millisecond)
	for _, s := range cluster.Nodes {
		if s.Addr == queueMaster {
			s.Stop()
		}
	}
	killed := time.Now()
	var failover time.Duration
	for failover == 0 {
		if time.Since(killed) > 30*time.Second {
			close(stop)
			t.Fatal("no replica took over the queues' slots within 30s")
		}
		fresh := cluster.Client(t)
		if m, err := fresh.MasterForKey(ctx, queueKey); err == nil && m.Options().Addr != queueMaster {
			if info, err := m.ClusterInfo(ctx).Result(); err == nil && strings.Contains(info, "cluster_state:ok") {
				failover = time.Since(killed)
			}
		}
		_ = fresh.Close()
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	close(stop)
	r := <-during

	after, refused := stream(nil, 100)
	if refused > 0 {
		t.Errorf("%d of 100 sends refused after the failover; the last: %s", refused, lastRefusal)
	}

	// Count each invoice's emails once those accepted after the failover
	// are all out, and a few seconds more for the stragglers.
	perInvoice := map[string]int{}
	countEmails := func() {
		clear(perInvoice)
		for _, path := range f.emails() {
			b, _ := os.ReadFile(path)
			for line := range strings.SplitSeq(string(b), "\r\n") {
				if subj, ok := strings.CutPrefix(line, "Subject: Invoice "); ok {
					num, _, _ := strings.Cut(subj, " ")
					perInvoice[num]++
				}
			}
		}
	}
	waitFor(t, 30*time.Second, "the sends accepted after the failover", func() bool {
		countEmails()
		for _, i := range after {
			if perInvoice["F-"+strconv.Itoa(i)] == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(5 * time.Second)
	countEmails()

	// A fresh client: the test's own ones may still route by the old map.
	inspector = asynq.NewInspectorFromRedisClient(cluster.Client(t))
	count := func(ids []int) map[string]int {
		n := map[string]int{}
		for _, i := range ids {
			switch e := perInvoice["F-"+strconv.Itoa(i)]; {
			case e == 1:
				n["emailed once"]++
			case e > 1:
				n["emailed more than once"]++
			default:
				what, detail := whereIsSend(t, f, inspector, token, tenantID, "inv_"+strconv.Itoa(i))
				n[what]++
				if n[what] <= 3 {
					t.Logf("inv_%d %s: %s", i, what, detail)
				}
			}
		}
		return n
	}
	t.Logf("failover of the queues' master: the replica served its slots %v after the kill; meanwhile %d sends accepted, %d refused; 5 s after the sends accepted later were all out, those accepted around the failover were: %v",
		failover.Round(time.Millisecond), len(r.accepted), r.refused, count(r.accepted))
	if n := count(after); n["emailed once"] != len(after) {
		t.Errorf("of the %d sends accepted after the failover: %v", len(after), n)
	}
	if n := count(before); n["emailed once"] != len(before) {
		t.Errorf("of the %d sends delivered before the failover: %v", len(before), n)
	}
}

// whereIsSend tells why an invoice's one delivery has no email yet:
// "waiting for a retry" when its send or delivery task waits in asynq,
// "lost" when the delivery is queued and no task for it exists; and
// describes the delivery and its tasks.
func whereIsSend(t *testing.T, f *fleet, inspector *asynq.Inspector, token, tenantID, invoiceID string) (what, detail string) {
	t.Helper()
	var v struct {
		Data struct {
			Deliveries []struct{ ID, SendID, Status string }
		}
	}
	_ = json.Unmarshal(f.do("GET", "/api/v1/invoices/"+invoiceID+"/delivery-status", token, nil).Raw, &v)
	if len(v.Data.Deliveries) != 1 {
		return "without a delivery", ""
	}
	d := v.Data.Deliveries[0]
	what = "lost"
	state := func(id string) string {
		info, err := inspector.GetTaskInfo(tasks.QueueCritical, id)
		if err != nil {
			return err.Error()
		}
		what = "waiting for a retry"
		return fmt.Sprintf("%s, retried %d, next at %s, last error %q", info.State, info.Retried, info.NextProcessAt.Format(time.TimeOnly), info.LastErr)
	}
	detail = fmt.Sprintf("delivery %s; send task: %s; delivery task: %s", d.Status,
		state(tasks.SendTaskID(tenantID, d.SendID)), state(tasks.DeliveryTaskID(tenantID, d.ID)))
	return what, detail
}
