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
	ctx := context.Background()
	rdb := cluster.Client(t)
	inspector := asynq.NewInspectorFromRedisClient(rdb)

	c := f.must(http.StatusCreated, f.do("POST", "/admin/v1/tenants", "fleet-admin", map[string]any{"name": "ACME SRL"}))
	token, tenantID := c.data()["token"].(string), c.data()["id"].(string)
	for _, key := range []string{"ivd:{" + tenantID + "}:tenant", "asynq:{" + tasks.QueueCritical + "}:pending", "asynq:{" + tasks.QueueDefault + "}:pending"} {
		if m, err := rdb.MasterForKey(ctx, key); err == nil {
			t.Logf("%s lives on master %s", key, m.Options().Addr)
		}
	}

	// The README, as a reader would paste it.
	work := t.TempDir()
	tokenFile := filepath.Join(work, "dev-token")
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
	if pdf, _ := os.ReadFile(filepath.Join(work, "inv_1001.pdf")); !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("inv_1001.pdf is not a PDF: %.40q", pdf)
	}
	if xml, _ := os.ReadFile(filepath.Join(work, "inv_1001.xml")); !bytes.Contains(xml, []byte("INV-1001")) {
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
	// the two sweeps.
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
		return slices.Equal(types, []string{tasks.TypeSweepEvents, tasks.TypeSweepFinalize})
	})
	if servers, err := inspector.Servers(); err != nil || len(servers) != 2 {
		t.Errorf("inspector servers = %d, %v; want the 2 workers", len(servers), err)
	}
	time.Sleep(time.Second)
	if n := len(f.emails()); n != 4 {
		t.Errorf("outbox holds %d emails, want 4 (inv_1001, inv_1002 and its reminder, inv_1003)", n)
	}
}
