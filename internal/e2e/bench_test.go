package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
	"github.com/invoiced/invoiced/worker"
)

// BenchmarkSendToSent measures, one send at a time on an idle system, the
// time from POST …/send to the delivery recorded as sent by the worker
// (outbox provider, PDF attached), and reports the median and p90 of 100
// sends per iteration.
func BenchmarkSendToSent(b *testing.B) {
	h := setup(b)
	token := h.tenant("ACME SRL", acmeSettings())
	tenantID := h.tenantID(token)
	const sends = 100
	for i := range sends {
		inv := sampleInvoice("inv_b" + strconv.Itoa(i))
		inv["autoAdvance"] = false
		h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, inv))
	}
	var all []time.Duration
	for b.Loop() {
		for i := range sends {
			id := "inv_b" + strconv.Itoa(i)
			start := time.Now()
			r := h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/"+id+"/send", token, nil))
			dlv := r.data()["deliveryIds"].([]any)[0].(string)
			var sentAt time.Time
			for {
				d, err := h.Store.Delivery(b.Context(), tenantID, dlv)
				if err != nil {
					b.Fatal(err)
				}
				if d.Status == store.DeliverySent {
					sentAt = *d.SentAt
					break
				}
				time.Sleep(time.Millisecond)
			}
			all = append(all, sentAt.Sub(start))
		}
	}
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(all[len(all)*9/10].Microseconds())/1000, "p90-ms")
}

// BenchmarkAsynqHop is the baseline for BenchmarkSendToSent, measured the
// same way on the same kind of redis-server: the median time from enqueuing
// a no-op task to its handler running, with the workers' polling interval.
// A send makes one such hop (invoice:send, which sends the email).
func BenchmarkAsynqHop(b *testing.B) {
	srv := redistest.Start(b)
	opt := asynq.RedisClientOpt{Addr: srv.Addr}
	client := asynq.NewClient(opt)
	defer client.Close()
	ran := make(chan time.Time, 1)
	sc := worker.ServerConfig(10, zap.NewNop())
	aq := asynq.NewServer(opt, sc)
	mux := asynq.NewServeMux()
	mux.HandleFunc("noop", func(context.Context, *asynq.Task) error { ran <- time.Now(); return nil })
	if err := aq.Start(mux); err != nil {
		b.Fatal(err)
	}
	defer aq.Shutdown()
	const hops = 100
	var all []time.Duration
	for b.Loop() {
		for range hops {
			start := time.Now()
			if _, err := client.Enqueue(asynq.NewTask("noop", nil), asynq.Queue(tasks.QueueCritical)); err != nil {
				b.Fatal(err)
			}
			all = append(all, (<-ran).Sub(start))
		}
	}
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(all[len(all)*9/10].Microseconds())/1000, "p90-ms")
}

// benchPaths are the ways BenchmarkInvoicesBatch pushes invoices in: one
// request per invoice (and one per send) from benchClients clients, or
// batches of the given size from as many clients as there are batches,
// up to benchClients.
var benchPaths = []struct {
	name  string
	batch int
}{{"single", 0}, {"batch100", 100}, {"batch1000", 1000}}

const benchClients = 16

// BenchmarkInvoicesBatch measures invoices per second through the API,
// against a real redis-server, for each of benchPaths in the same run:
// created (mode=create), created and accepted for sending by email
// (mode=send), and created, sent and in the outbox (mode=sent, with the
// worker running; no PDF attached, so the worker's share is the message
// and the queue). Each reports invoices/s per path and the batches'
// ratios to single requests.
func BenchmarkInvoicesBatch(b *testing.B) {
	for _, mode := range []struct {
		name string
		n    int
	}{{"create", 3000}, {"send", 3000}, {"sent", 1000}} {
		b.Run("mode="+mode.name, func(b *testing.B) {
			h := setup(b, func(o *options) { o.noWorker = mode.name != "sent"; o.maxEmailsPerHour = 1000000 })
			token := h.tenant("ACME SRL", acmeSettings())
			// Over the document's maximum, which is the ceiling's default:
			// the budget is not what is measured.
			st, err := h.Store.Settings(b.Context(), h.tenantID(token))
			if err != nil {
				b.Fatal(err)
			}
			st.Defaults.EmailsPerHour = 1000000
			if err := h.Store.SaveSettings(b.Context(), h.tenantID(token), st); err != nil {
				b.Fatal(err)
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}
			var send any
			if mode.name != "create" {
				send = map[string]any{"attachPdf": false}
			}
			elapsed := make([]time.Duration, len(benchPaths))
			round := 0
			for b.Loop() {
				for p, path := range benchPaths {
					round++
					prefix := fmt.Sprintf("inv_r%dp%d_", round, p)
					start := time.Now()
					before := len(h.emails())
					if path.batch == 0 {
						benchSingles(b, client, h.URL, token, prefix, mode.n, send)
					} else {
						benchBatches(b, client, h.URL, token, prefix, mode.n, path.batch, send)
					}
					if mode.name == "sent" {
						for len(h.emails()) < before+mode.n {
							time.Sleep(10 * time.Millisecond)
						}
					}
					elapsed[p] += time.Since(start)
				}
			}
			loops := float64(round / len(benchPaths))
			rate := make([]float64, len(benchPaths))
			for p, path := range benchPaths {
				rate[p] = float64(mode.n) * loops / elapsed[p].Seconds()
				b.ReportMetric(rate[p], path.name+"-invoices/s")
			}
			for p := 1; p < len(benchPaths); p++ {
				b.ReportMetric(rate[p]/rate[0], benchPaths[p].name+"-x")
			}
		})
	}
}

// benchPost posts body to url and fails b unless the answer is want.
func benchPost(b *testing.B, client *http.Client, url, token string, body []byte, want int) {
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("POST %s: %d, want %d: %.300s", url, resp.StatusCode, want, raw)
	}
}

// benchRun runs f(0) … f(n-1) from up to clients goroutines.
func benchRun(n, clients int, f func(i int)) {
	var g errgroup.Group
	g.SetLimit(max(clients, 1))
	for i := range n {
		g.Go(func() error { f(i); return nil })
	}
	_ = g.Wait()
}

// benchSingles creates n invoices one request each, and, when send is
// set, sends each with another.
func benchSingles(b *testing.B, client *http.Client, base, token, prefix string, n int, send any) {
	invs := make([][]byte, n)
	for i := range invs {
		invs[i], _ = json.Marshal(sampleInvoice(prefix + strconv.Itoa(i)))
	}
	sendBody, _ := json.Marshal(send)
	benchRun(n, benchClients, func(i int) {
		benchPost(b, client, base+"/api/v1/invoices", token, invs[i], http.StatusCreated)
		if send != nil {
			benchPost(b, client, base+"/api/v1/invoices/"+prefix+strconv.Itoa(i)+"/send", token, sendBody, http.StatusAccepted)
		}
	})
}

// benchBatches creates (and sends) n invoices in batches of size.
func benchBatches(b *testing.B, client *http.Client, base, token, prefix string, n, size int, send any) {
	var bodies [][]byte
	for start := 0; start < n; start += size {
		var invs []any
		for i := start; i < min(start+size, n); i++ {
			invs = append(invs, sampleInvoice(prefix+strconv.Itoa(i)))
		}
		body := map[string]any{"invoices": invs}
		if send != nil {
			body["send"] = send
		}
		j, _ := json.Marshal(body)
		bodies = append(bodies, j)
	}
	benchRun(len(bodies), benchClients, func(i int) {
		benchPost(b, client, base+"/api/v1/invoices/batch", token, bodies[i], http.StatusOK)
	})
}
