package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers/webhook"
)

// receiver is a tenant's webhook endpoint: it records what it gets and
// answers with the statuses it is told to, in order, then 200.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	got      []received
	srv      *httptest.Server
}

type received struct {
	Header http.Header
	Body   []byte
	Event  map[string]any
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	rc := &receiver{statuses: statuses}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev map[string]any
		_ = json.Unmarshal(b, &ev)
		rc.mu.Lock()
		rc.got = append(rc.got, received{Header: r.Header.Clone(), Body: b, Event: ev})
		status := http.StatusOK
		if len(rc.statuses) > 0 {
			status, rc.statuses = rc.statuses[0], rc.statuses[1:]
		}
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) types() []string {
	var out []string
	for _, r := range rc.received() {
		out = append(out, r.Event["type"].(string))
	}
	return out
}

func TestWebhooksSignedAndDelivered(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", acmeSettings())
	rc := newReceiver(t)
	r := h.must(http.StatusCreated, h.do("POST", "/api/v1/webhooks", token, map[string]any{
		"url": rc.srv.URL + "/hooks", "events": []string{"invoice.finalized", "invoice.sent"},
	}))
	secret := r.data()["secret"].(string)
	endpointID := r.data()["id"].(string)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret = %q", secret)
	}
	if got := h.must(http.StatusOK, h.do("GET", "/api/v1/webhooks/"+endpointID, token, nil)); strings.Contains(string(got.Raw), secret) {
		t.Fatal("GET shows the signing secret again")
	}

	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_w")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_w/send", token, nil))
	eventually(t, 10*time.Second, "invoice.finalized and invoice.sent", func() bool { return len(rc.received()) == 2 })
	for _, got := range rc.received() {
		if err := webhook.Verify(secret, got.Header, got.Body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("%s: signature does not verify: %v", got.Event["type"], err)
		}
		if got.Header.Get("webhook-id") != got.Event["id"] {
			t.Errorf("webhook-id %q differs from the event id %v", got.Header.Get("webhook-id"), got.Event["id"])
		}
		data := got.Event["data"].(map[string]any)
		if data["invoiceId"] != "inv_w" {
			t.Errorf("event data = %v", data)
		}
	}
	types := strings.Join(rc.types(), ",")
	if !strings.Contains(types, "invoice.finalized") || !strings.Contains(types, "invoice.sent") {
		t.Fatalf("received %s", types)
	}

	// An attempt is recorded once the receiver has answered, a moment
	// after it has the event.
	var attempts response
	var list struct{ Data []map[string]any }
	eventually(t, 10*time.Second, "two attempts recorded", func() bool {
		attempts = h.must(http.StatusOK, h.do("GET", "/api/v1/webhooks/"+endpointID+"/attempts", token, nil))
		list.Data = nil
		_ = json.Unmarshal(attempts.Raw, &list)
		return len(list.Data) >= 2
	})
	if len(list.Data) != 2 || list.Data[0]["statusCode"] != float64(200) {
		t.Fatalf("attempts = %s", attempts.Raw)
	}

	// A replay delivers the same event again, with the same webhook-id.
	first := rc.received()[0]
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/webhooks/"+endpointID+"/replay", token, map[string]any{"eventId": first.Event["id"]}))
	eventually(t, 10*time.Second, "the replay", func() bool { return len(rc.received()) == 3 })
	if again := rc.received()[2]; again.Header.Get("webhook-id") != first.Header.Get("webhook-id") {
		t.Fatalf("replay webhook-id %q, want %q", again.Header.Get("webhook-id"), first.Header.Get("webhook-id"))
	}
}

func TestWebhookRetryAndGone(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", acmeSettings())
	flaky := newReceiver(t, http.StatusInternalServerError) // then 200
	gone := newReceiver(t, http.StatusGone)
	for _, url := range []string{flaky.srv.URL, gone.srv.URL} {
		h.must(http.StatusCreated, h.do("POST", "/api/v1/webhooks", token, map[string]any{"url": url, "events": []string{"invoice.finalized"}}))
	}
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_r")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_r/finalize", token, nil))

	// The schedule's second attempt comes 5 s after the first.
	eventually(t, 20*time.Second, "the retry after a 500", func() bool { return len(flaky.received()) == 2 })
	a, b := flaky.received()[0], flaky.received()[1]
	if a.Header.Get("webhook-id") != b.Header.Get("webhook-id") {
		t.Fatal("webhook-id changed between retries")
	}
	eventually(t, 5*time.Second, "the 410", func() bool { return len(gone.received()) == 1 })
	var list struct{ Data []map[string]any }
	eventually(t, 5*time.Second, "the endpoint disabled", func() bool {
		_ = json.Unmarshal(h.must(http.StatusOK, h.do("GET", "/api/v1/webhooks", token, nil)).Raw, &list)
		for _, e := range list.Data {
			if e["url"] == gone.srv.URL && e["disabled"] == true {
				return true
			}
		}
		return false
	})
	// A disabled endpoint gets nothing more.
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_r2")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_r2/finalize", token, nil))
	eventually(t, 10*time.Second, "the next event at the healthy endpoint", func() bool { return len(flaky.received()) == 3 })
	if n := len(gone.received()); n != 1 {
		t.Fatalf("the disabled endpoint got %d deliveries", n)
	}
	var m string
	eventually(t, 5*time.Second, "the third delivery counted", func() bool {
		m = h.scrape()
		n, _ := sample(m, `invoiced_webhook_attempts_total{outcome="delivered"}`)
		return n == 2
	})
	wantSamples(t, m, map[string]float64{
		`invoiced_webhook_attempts_total{outcome="retry"}`: 1,
		`invoiced_webhook_attempts_total{outcome="gone"}`:  1,
	})
}

func TestWebhookURLChecks(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.noWorker = true })
	token := h.tenant("ACME SRL", nil)
	for _, url := range []string{"ftp://example.com/x", "https://user:pw@example.com/", "http://10.0.0.1/hook", "http://169.254.169.254/latest", "not a url"} {
		r := h.must(http.StatusBadRequest, h.do("POST", "/api/v1/webhooks", token, map[string]any{"url": url}))
		if _, ok := r.errorFields()["url"]; !ok {
			t.Errorf("%s: %s", url, r.Raw)
		}
	}
	r := h.must(http.StatusBadRequest, h.do("POST", "/api/v1/webhooks", token, map[string]any{"url": "https://example.com/h", "events": []string{"invoice.exploded"}}))
	if _, ok := r.errorFields()["events[0]"]; !ok {
		t.Errorf("unknown event type accepted: %s", r.Raw)
	}
}
