package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/tasks"
)

// scrape returns the API's /metrics, read with the admin token.
func (h *harness) scrape() string {
	h.t.Helper()
	r := h.must(http.StatusOK, h.do("GET", "/metrics", adminToken, nil))
	return string(r.Raw)
}

// sample returns the value of one series of a Prometheus text exposition,
// named as it is printed: labels in alphabetical order, e.g.
// `invoiced_deliveries_total{channel="email",provider="outbox",status="sent"}`.
func sample(exposition, series string) (float64, bool) {
	sc := bufio.NewScanner(strings.NewReader(exposition))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), series+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		return v, err == nil
	}
	return 0, false
}

// wantSamples checks series of an exposition against their values; a
// negative value asks only that the series be there.
func wantSamples(t *testing.T, exposition string, want map[string]float64) {
	t.Helper()
	for series, v := range want {
		got, ok := sample(exposition, series)
		switch {
		case !ok:
			t.Errorf("no %s in /metrics", series)
		case v >= 0 && got != v:
			t.Errorf("%s = %v, want %v", series, got, v)
		}
	}
}

func TestMetricsAfterSend(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_m")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_m/send", token, nil))
	eventually(t, 10*time.Second, "the delivery sent", func() bool {
		ds := h.deliveries(token, "inv_m")
		return len(ds) == 1 && ds[0]["status"] == "sent"
	})
	// The PDF is cached now: downloading it renders nothing more.
	h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_m/pdf", token, nil))

	var m string
	// The task's own duration is recorded just after it returns.
	eventually(t, 5*time.Second, "the send task recorded", func() bool {
		m = h.scrape()
		_, ok := sample(m, `invoiced_task_duration_seconds_count{outcome="ok",type="invoice:send"}`)
		return ok
	})
	wantSamples(t, m, map[string]float64{
		`invoiced_deliveries_total{channel="email",provider="outbox",status="sent"}`:                    1,
		`invoiced_provider_call_duration_seconds_count{channel="email",outcome="ok",provider="outbox"}`: 1,
		`invoiced_pdf_render_duration_seconds_count`:                                                    1,
		`invoiced_task_duration_seconds_count{outcome="ok",type="invoice:send"}`:                        1,
		`asynq_queue_size{queue="default"}`:                                                             -1,
		`asynq_tasks_enqueued_total{queue="default",state="pending"}`:                                   -1,
		`go_goroutines`:                 -1,
		`process_resident_memory_bytes`: -1,
	})
	if sum, _ := sample(m, `invoiced_provider_call_duration_seconds_sum{channel="email",outcome="ok",provider="outbox"}`); sum <= 0 {
		t.Errorf("provider call duration sum = %v, want the time the call took", sum)
	}
	// The send task sent the email itself: no delivery task ran.
	if strings.Contains(m, `type="`+tasks.TypeDeliveryEmail+`"`) {
		t.Errorf("a delivery task ran for an email its send task sent")
	}
	if strings.Contains(m, `status="queued"`) || strings.Contains(m, `status="failed"`) {
		t.Errorf("statuses that were not reached are counted:\n%s", m)
	}
	// A tenant without webhook endpoints costs no fan-out task: a send is
	// its send task. The events are recorded all the same.
	time.Sleep(500 * time.Millisecond)
	if m := h.scrape(); strings.Contains(m, `type="`+tasks.TypeWebhookFanout+`"`) {
		t.Errorf("webhook fan-out tasks ran for a tenant without endpoints")
	}
	if _, err := h.Store.Event(t.Context(), h.tenantID(token), "evt_inv_m_invoice.finalized"); err != nil {
		t.Errorf("invoice.finalized was not recorded: %v", err)
	}
}

func TestMonitoringNeedsAdminToken(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	tenantToken := h.tenant("ACME SRL", nil)
	get := func(path string, auth func(*http.Request)) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest("GET", h.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		auth(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	basic := func(user, password string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(user, password) }
	}
	tests := []struct {
		name string
		auth func(*http.Request)
		want int
	}{
		{"no credentials", func(*http.Request) {}, http.StatusUnauthorized},
		{"wrong bearer token", bearer("admin-secret-for-test"), http.StatusUnauthorized},
		{"a tenant's token", bearer(tenantToken), http.StatusUnauthorized},
		{"wrong basic password", basic("admin", "nope"), http.StatusUnauthorized},
		{"admin token as basic user name", basic(adminToken, ""), http.StatusUnauthorized},
		{"basic auth", basic("ops", adminToken), http.StatusOK},
		{"basic auth, empty user name", basic("", adminToken), http.StatusOK},
		{"bearer token", bearer(adminToken), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/monitoring/", "/metrics"} {
				resp, body := get(path, tt.auth)
				if resp.StatusCode != tt.want {
					t.Fatalf("GET %s: %d, want %d: %s", path, resp.StatusCode, tt.want, body)
				}
				challenge := resp.Header.Get("WWW-Authenticate")
				if tt.want == http.StatusUnauthorized && !strings.HasPrefix(challenge, "Basic ") {
					t.Errorf("GET %s: 401 with WWW-Authenticate %q, want a Basic challenge", path, challenge)
				}
				if tt.want == http.StatusUnauthorized && strings.Contains(string(body), "asynq") {
					t.Errorf("GET %s: a refusal shows the page: %s", path, body)
				}
			}
		})
	}

	// The dashboard's page, and its API answering JSON under the same prefix.
	resp, body := get("/monitoring/", basic("ops", adminToken))
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(string(body), "/monitoring") {
		t.Errorf("GET /monitoring/: %s, root path missing from the page:\n%.500s", ct, body)
	}
	resp, body = get("/monitoring/api/queues", bearer(adminToken))
	var queues struct {
		Queues []struct {
			Queue string `json:"queue"`
			Size  int    `json:"size"`
		} `json:"queues"`
	}
	if err := json.Unmarshal(body, &queues); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /monitoring/api/queues: %d %v: %s", resp.StatusCode, err, body)
	}
	// Creating the tenant queued nothing, but the finalize task of a
	// draft waits in the default queue.
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", tenantToken, sampleInvoice("inv_q")))
	_, body = get("/monitoring/api/queues", bearer(adminToken))
	if err := json.Unmarshal(body, &queues); err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int{}
	for _, q := range queues.Queues {
		sizes[q.Queue] = q.Size
	}
	if sizes["default"] != 1 {
		t.Errorf("queues = %s, want the draft's finalize task in default", body)
	}

	// Read-only: nothing can be deleted, paused or run from the dashboard.
	req, _ := http.NewRequest("POST", h.URL+"/monitoring/api/queues/default:pause", nil)
	req.SetBasicAuth("ops", adminToken)
	pause, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pause.Body.Close()
	if pause.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("pausing a queue answered %d, want 405", pause.StatusCode)
	}
	// A page on another site cannot use the browser's cached credentials.
	req, _ = http.NewRequest("POST", h.URL+"/monitoring/api/queues/default:pause", nil)
	req.SetBasicAuth("ops", adminToken)
	req.Header.Set("Origin", "https://evil.example")
	forged, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	forged.Body.Close()
	if forged.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site POST with Basic credentials answered %d, want 403", forged.StatusCode)
	}
	paused, err := h.Inspector.GetQueueInfo("default")
	if err != nil || paused.Paused {
		t.Errorf("default queue: %+v, %v; want it running", paused, err)
	}
}

func TestOperatorPagesOffWithoutAdminToken(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true; o.noAdmin = true })
	for _, path := range []string{"/monitoring/", "/monitoring/api/queues", "/metrics"} {
		r := h.do("GET", path, adminToken, nil)
		if r.Status != http.StatusNotFound {
			t.Errorf("GET %s without an admin token configured: %d, want 404", path, r.Status)
		}
	}
}
