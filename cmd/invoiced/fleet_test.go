package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/store"
)

// fleet is invoiced run as separate processes against one redis-server.
type fleet struct {
	t      *testing.T
	bin    string
	env    []string
	url    string
	outbox string
	logs   string
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, b := range []*builtBinary{&built, &builtDev} {
		if b.dir != "" {
			_ = os.RemoveAll(b.dir)
		}
	}
	os.Exit(code)
}

// builtBinary is a binary the tests run, built once per test process.
type builtBinary struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// built is the production binary, builtDev the one with -tags dev.
var built, builtDev builtBinary

// buildBinary returns the path of this package's production binary, built
// the first time a test asks (its folder is removed when the tests end,
// see TestMain).
func buildBinary(t *testing.T) string {
	t.Helper()
	return build(t, &built)
}

// buildDevBinary returns the path of this package's binary built with
// -tags dev, the one with `invoiced dev` that `make run` runs.
func buildDevBinary(t *testing.T) string {
	t.Helper()
	return build(t, &builtDev, "-tags", "dev")
}

func build(t *testing.T, b *builtBinary, flags ...string) string {
	t.Helper()
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "invoiced-bin-"); b.err != nil {
			return
		}
		b.bin = filepath.Join(b.dir, "invoiced")
		if out, err := exec.Command("go", append(append([]string{"build"}, flags...), "-o", b.bin, ".")...).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %v: %v\n%s", flags, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

func newFleet(t *testing.T, redis *redistest.Server) *fleet {
	port := redistest.FreePort(t)
	f := &fleet{t: t, bin: buildBinary(t), outbox: t.TempDir(), logs: t.TempDir(),
		url: "http://127.0.0.1:" + strconv.Itoa(port)}
	f.env = append(os.Environ(),
		"INVOICED_REDIS_URL="+redis.URL(),
		"INVOICED_SECRET_KEY="+hex.EncodeToString(bytes.Repeat([]byte{3}, 32)),
		"INVOICED_ADMIN_TOKEN=fleet-admin",
		"INVOICED_ADDR=127.0.0.1:"+strconv.Itoa(port),
		"INVOICED_OUTBOX_DIR="+f.outbox,
		"INVOICED_DEFAULT_EMAIL_PROVIDER=outbox",
		"INVOICED_LOG_LEVEL=warn",
		// The fleet's tenants send thousands of emails in minutes.
		"INVOICED_MAX_EMAILS_PER_HOUR=1000000",
		// Each process's metrics listener on a port of its own.
		"INVOICED_METRICS_ADDR=127.0.0.1:0",
	)
	return f
}

// start runs one role, with env added to the fleet's, until the test ends;
// SIGINT then stops it. A process started again under the same name adds
// to the same log.
func (f *fleet) start(role, name string, env ...string) *exec.Cmd {
	f.t.Helper()
	logf, err := os.OpenFile(filepath.Join(f.logs, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		f.t.Fatal(err)
	}
	cmd := exec.Command(f.bin, role)
	cmd.Env = append(slices.Clone(f.env), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
		}
		if f.t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			f.t.Logf("%s log:\n%s", name, b)
		}
	})
	return cmd
}

func (f *fleet) post(path, token string, body any) (int, map[string]any) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", f.url+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (f *fleet) put(path, token string, body any) {
	f.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("PUT", f.url+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("PUT %s: %d", path, resp.StatusCode)
	}
}

func (f *fleet) waitReady(others ...string) {
	f.t.Helper()
	for _, base := range append([]string{f.url}, others...) {
		f.waitURLReady(base)
	}
}

// waitURLReady waits until the api at base answers /readyz with 200.
func (f *fleet) waitURLReady(base string) {
	f.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.t.Fatalf("the api at %s did not become ready", base)
}

// TestFleet runs one api and two worker processes against one Redis and
// sends 1,000 invoices: exactly 1,000 emails arrive, each delivery sent by
// exactly one successful provider call.
func TestFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("the fleet test builds and runs the binary; skipped with -short")
	}
	redis := redistest.Start(t)
	f := newFleet(t, redis)
	f.start("api", "api")
	f.start("worker", "worker-1")
	f.start("worker", "worker-2")
	f.waitReady()

	status, body := f.post("/admin/v1/tenants", "fleet-admin", map[string]any{"name": "Fleet SRL"})
	if status != http.StatusCreated {
		t.Fatalf("create tenant: %d %v", status, body)
	}
	token := body["data"].(map[string]any)["token"].(string)
	f.put("/api/v1/settings", token, map[string]any{"defaults": map[string]any{"emailsPerHour": 1_000_000}})

	const n = 1000
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				id := fmt.Sprintf("inv_%04d", i)
				inv := map[string]any{"id": id, "number": "F-" + strconv.Itoa(i), "currency": "EUR", "autoAdvance": false,
					"customer": map[string]any{"name": "Customer " + strconv.Itoa(i), "email": fmt.Sprintf("c%d@example.com", i)},
					"lines":    []any{map[string]any{"description": "Plan", "quantity": "1", "unitPrice": "10.00", "taxRate": "19"}}}
				if s, b := f.post("/api/v1/invoices", token, inv); s != http.StatusCreated {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("create %s: %d %v", id, s, b))
					mu.Unlock()
					continue
				}
				if s, b := f.post("/api/v1/invoices/"+id+"/send", token, nil); s != http.StatusAccepted {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("send %s: %d %v", id, s, b))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d requests failed, first: %s", len(failures), failures[0])
	}

	count := func() int {
		files, _ := filepath.Glob(filepath.Join(f.outbox, "email", "*.eml"))
		return len(files)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for count() < n && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if got := count(); got != n {
		t.Fatalf("outbox holds %d emails, want exactly %d", got, n)
	}

	// Every delivery was handed to the provider exactly once.
	st, err := store.New(redis.Client(t), store.Config{SecretKey: bytes.Repeat([]byte{3}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ten, err := st.TenantByToken(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	var latencies []time.Duration
	for i := range n {
		ds, err := st.InvoiceDeliveries(ctx, ten.ID, fmt.Sprintf("inv_%04d", i))
		if err != nil || len(ds) != 1 {
			t.Fatalf("invoice %d: %d deliveries, %v", i, len(ds), err)
		}
		d := ds[0]
		ok := 0
		for _, a := range d.Attempts {
			if a.Error == "" {
				ok++
			}
		}
		if d.Status != store.DeliverySent || ok != 1 {
			t.Fatalf("delivery %s: status %s with %d successful attempts", d.ID, d.Status, ok)
		}
		latencies = append(latencies, d.SentAt.Sub(d.CreatedAt))
	}
	t.Logf("%d sends through 2 worker processes; median queued→sent under load %s", n, median(latencies))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
