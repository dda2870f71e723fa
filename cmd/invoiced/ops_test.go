package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/redistest"
)

// get fetches url, with auth applied to the request when given.
func get(t *testing.T, url string, auth func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != nil {
		auth(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitListening waits until role's probe listener on addr answers
// /healthz.
func waitListening(t *testing.T, role, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the %s's listener on %s never answered /healthz", role, addr)
}

// series returns the value of one series in a Prometheus text exposition,
// named with its labels in alphabetical order.
func series(exposition, name string) (float64, bool) {
	for line := range strings.Lines(exposition) {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// TestOpsListeners runs an api, a worker and a scheduler process, each
// with its own metrics listener, sends one invoice, and reads what
// Prometheus and Kubernetes would: the worker counts the send, the
// scheduler reports the queues, every process answers its probes and logs
// JSON, and the API serves /metrics and /monitoring/ to the admin token.
func TestOpsListeners(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	redis := redistest.Start(t)
	f := newFleet(t, redis)
	ops := map[string]string{}
	for _, role := range []string{"api", "worker", "scheduler"} {
		ops[role] = "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
		f.start(role, role, "INVOICED_METRICS_ADDR="+ops[role], "INVOICED_LOG_LEVEL=info")
	}
	f.waitReady()
	// The api being ready says nothing of the other processes: wait for
	// each one's own listener.
	for role, addr := range ops {
		waitListening(t, role, addr)
	}

	status, body := f.post("/admin/v1/tenants", "fleet-admin", map[string]any{"name": "Ops SRL"})
	if status != http.StatusCreated {
		t.Fatalf("create tenant: %d %v", status, body)
	}
	token := body["data"].(map[string]any)["token"].(string)
	inv := map[string]any{"id": "inv_ops", "number": "OPS-1", "currency": "EUR",
		"customer": map[string]any{"name": "Ana Popescu", "email": "ana@example.com"},
		"lines":    []any{map[string]any{"description": "Plan", "quantity": "1", "unitPrice": "10.00", "taxRate": "19"}}}
	if s, b := f.post("/api/v1/invoices", token, inv); s != http.StatusCreated {
		t.Fatalf("create invoice: %d %v", s, b)
	}
	if s, b := f.post("/api/v1/invoices/inv_ops/send", token, nil); s != http.StatusAccepted {
		t.Fatalf("send: %d %v", s, b)
	}

	var worker string
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, worker = get(t, "http://"+ops["worker"]+"/metrics", nil)
		if _, ok := series(worker, `invoiced_task_duration_seconds_count{outcome="ok",type="invoice:send"}`); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker's metrics never showed the delivery:\n%s", worker)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for name, want := range map[string]float64{
		`invoiced_deliveries_total{channel="email",provider="outbox",status="sent"}`:                    1,
		`invoiced_provider_call_duration_seconds_count{channel="email",outcome="ok",provider="outbox"}`: 1,
		`invoiced_pdf_render_duration_seconds_count`:                                                    1,
	} {
		if got, ok := series(worker, name); got != want {
			t.Errorf("worker: %s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	if _, ok := series(worker, `asynq_queue_size{queue="default"}`); ok {
		t.Error("the worker reports the queues; only the scheduler should")
	}

	_, scheduler := get(t, "http://"+ops["scheduler"]+"/metrics", nil)
	for _, name := range []string{`asynq_queue_size{queue="default"}`, `asynq_queue_size{queue="critical"}`, `go_goroutines`} {
		if _, ok := series(scheduler, name); !ok {
			t.Errorf("scheduler: no %s in\n%s", name, scheduler)
		}
	}

	for role, addr := range ops {
		for _, probe := range []string{"/healthz", "/readyz"} {
			if code, b := get(t, "http://"+addr+probe, nil); code != http.StatusOK {
				t.Errorf("%s %s: %d %s", role, probe, code, b)
			}
		}
	}

	// The API's own listener keeps /metrics and the dashboard for the
	// admin token.
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer fleet-admin") }
	basic := func(r *http.Request) { r.SetBasicAuth("ops", "fleet-admin") }
	if code, _ := get(t, f.url+"/metrics", nil); code != http.StatusUnauthorized {
		t.Errorf("api /metrics without a token: %d, want 401", code)
	}
	if code, b := get(t, f.url+"/metrics", bearer); code != http.StatusOK || !strings.Contains(b, "go_goroutines") {
		t.Errorf("api /metrics with the admin token: %d\n%.300s", code, b)
	}
	if code, b := get(t, f.url+"/monitoring/api/queues", basic); code != http.StatusOK || !strings.Contains(b, `"queue":"critical"`) {
		t.Errorf("api /monitoring/api/queues: %d %.300s", code, b)
	}

	// A second worker cannot take the first one's metrics address.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.bin, "worker")
	cmd.Env = append(slices.Clip(f.env), "INVOICED_METRICS_ADDR="+ops["worker"])
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "INVOICED_METRICS_ADDR="+ops["worker"]) {
		t.Errorf("a worker on a taken metrics address: %v\n%s", err, out)
	}

	// Production roles log JSON, one object a line.
	for role := range ops {
		logs, err := os.Open(filepath.Join(f.logs, role+".log"))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(logs)
		lines, listening := 0, false
		for sc.Scan() {
			var entry struct{ Level, Msg, Role string }
			if err := json.Unmarshal(sc.Bytes(), &entry); err != nil || entry.Level == "" || entry.Msg == "" {
				t.Errorf("%s logged a line that is not a JSON entry: %q", role, sc.Text())
				continue
			}
			lines++
			listening = listening || (entry.Msg == "metrics listening" && entry.Role == role)
		}
		logs.Close()
		if lines == 0 || !listening {
			t.Errorf("%s: %d JSON lines, metrics listening logged: %v", role, lines, listening)
		}
	}
}

// TestDevMonitoring runs `invoiced dev` as a person would: its banner
// names the dashboard, /metrics and the admin token it made up, and both
// pages answer to that token.
func TestDevMonitoring(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildDevBinary(t)
	dir := t.TempDir()
	base := "http://127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	cmd := exec.Command(bin, "dev")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "INVOICED_ADDR="+strings.TrimPrefix(base, "http://"), "INVOICED_REDIS_URL=",
		"INVOICED_ADMIN_TOKEN=", "INVOICED_METRICS_ADDR=", "INVOICED_LOG_LEVEL=warn", "INVOICED_OUTBOX_DIR="+filepath.Join(dir, "outbox"))
	var banner syncBuffer
	cmd.Stdout = &banner
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	var adminToken string
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "var", "dev-admin-token")); err == nil && len(b) > 1 {
			adminToken = strings.TrimSpace(string(b))
			resp, err := http.Get(base + "/readyz")
			if err == nil {
				resp.Body.Close()
			}
			if err == nil && resp.StatusCode == http.StatusOK && strings.Contains(banner.String(), "Stop with Ctrl-C") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("invoiced dev did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, want := range []string{
		"admin token:       " + adminToken + "   (also in var/dev-admin-token)",
		"queue dashboard:   " + base + "/monitoring/",
		"metrics:           " + base + "/metrics",
	} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("the banner lacks %q:\n%s", want, banner.String())
		}
	}

	basic := func(r *http.Request) { r.SetBasicAuth("me", adminToken) }
	if code, _ := get(t, base+"/monitoring/", nil); code != http.StatusUnauthorized {
		t.Errorf("/monitoring/ without the token: %d, want 401", code)
	}
	if code, b := get(t, base+"/monitoring/", basic); code != http.StatusOK || !strings.Contains(b, "<html") {
		t.Errorf("/monitoring/ with the token: %d %.200s", code, b)
	}
	// A first send, with the demo tenant.
	tenant, err := os.ReadFile(filepath.Join(dir, "var", "dev-token"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fleet{t: t, url: base}
	inv := map[string]any{"id": "inv_1001", "number": "INV-1001", "currency": "EUR",
		"customer": map[string]any{"name": "Ana Popescu", "email": "ana@example.com"},
		"lines":    []any{map[string]any{"description": "Consulting", "quantity": "10", "unit": "h", "unitPrice": "95.00", "taxRate": "19"}}}
	if s, b := f.post("/api/v1/invoices", strings.TrimSpace(string(tenant)), inv); s != http.StatusCreated {
		t.Fatalf("create invoice: %d %v", s, b)
	}
	if s, b := f.post("/api/v1/invoices/inv_1001/send", strings.TrimSpace(string(tenant)), nil); s != http.StatusAccepted {
		t.Fatalf("send: %d %v", s, b)
	}
	// One process: the scheduler's queue gauges beside the worker's series.
	var m string
	for deadline := time.Now().Add(20 * time.Second); ; {
		code, body := get(t, base+"/metrics", basic)
		if code != http.StatusOK {
			t.Fatalf("/metrics: %d %s", code, body)
		}
		m = body
		if v, _ := series(m, `invoiced_deliveries_total{channel="email",provider="outbox",status="sent"}`); v == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev /metrics never counted the send:\n%s", m)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, name := range []string{
		`asynq_queue_size{queue="critical"}`, `go_goroutines`, `invoiced_pdf_render_duration_seconds_count`,
		`invoiced_provider_call_duration_seconds_count{channel="email",outcome="ok",provider="outbox"}`,
	} {
		if _, ok := series(m, name); !ok {
			t.Errorf("dev /metrics lacks %s", name)
		}
	}
	// The listings and void, on the embedded Redis.
	token := strings.TrimSpace(string(tenant))
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
	at := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if s, b := f.post("/api/v1/invoices/inv_1001/send", token, map[string]any{"scheduledAt": at}); s != http.StatusAccepted {
		t.Fatalf("scheduled send: %d %v", s, b)
	}
	if code, b := get(t, base+"/api/v1/scheduled-sends", bearer); code != http.StatusOK || strings.Count(b, `"sendId"`) != 1 {
		t.Errorf("scheduled sends: %d %s", code, b)
	}
	if s, b := f.post("/api/v1/invoices/inv_1001/void", token, nil); s != http.StatusOK || b["data"].(map[string]any)["status"] != "void" {
		t.Errorf("void: %d %v", s, b)
	}
	if code, b := get(t, base+"/api/v1/scheduled-sends", bearer); code != http.StatusOK || strings.Contains(b, `"sendId"`) {
		t.Errorf("scheduled sends after the void canceled them: %d %s", code, b)
	}
	if code, b := get(t, base+"/api/v1/invoices?status=void", bearer); code != http.StatusOK || !strings.Contains(b, `"id":"inv_1001"`) {
		t.Errorf("invoice listing: %d %s", code, b)
	}
}

// syncBuffer is a strings.Builder a process may write to while a test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
