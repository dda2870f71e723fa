package e2e

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

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
// A send makes two such hops (invoice:send, then delivery:email).
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
