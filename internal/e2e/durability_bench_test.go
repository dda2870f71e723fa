package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/invoiced/invoiced/store"
)

// BenchmarkDurableSend measures what appendfsync always costs against
// everysec (the baseline), each on its own redis-server with an
// append-only file, in one run: 300 sends (no PDF, outbox provider) from
// 16 clients per iteration (at most three iterations: the tenant may send
// 1,000 emails an hour), through the API and one worker of
// concurrency 10. It reports the POST …/send round trip's p50 and p99 and
// the sends per second from the first POST to the last delivery sent.
func BenchmarkDurableSend(b *testing.B) {
	for _, fsync := range []string{"everysec", "always"} {
		b.Run("appendfsync="+fsync, func(b *testing.B) {
			h := setup(b, func(o *options) {
				o.redisArgs = []string{"--appendonly", "yes", "--appendfsync", fsync}
				o.maxEmailsPerHour = 1_000_000
			})
			settings := acmeSettings()
			settings["defaults"] = map[string]any{"emailsPerHour": 1000}
			token := h.tenant("ACME SRL", settings)
			tenantID := h.tenantID(token)
			const sends, clients = 300, 16
			var latencies []time.Duration
			var elapsed time.Duration
			round := 0
			for b.Loop() {
				b.StopTimer()
				ids := make([]string, sends)
				for i := range ids {
					ids[i] = fmt.Sprintf("inv_r%d_%d", round, i)
					inv := sampleInvoice(ids[i])
					inv["autoAdvance"] = false
					h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, inv))
				}
				round++
				b.StartTimer()
				start := time.Now()
				var mu sync.Mutex
				var dlvs []string
				refused := 0
				jobs := make(chan string)
				var wg sync.WaitGroup
				for range clients {
					wg.Go(func() {
						for id := range jobs {
							t0 := time.Now()
							r := h.do("POST", "/api/v1/invoices/"+id+"/send", token, map[string]any{"attachPdf": false})
							took := time.Since(t0)
							mu.Lock()
							if r.Status == http.StatusAccepted {
								latencies = append(latencies, took)
								dlvs = append(dlvs, r.data()["deliveryIds"].([]any)[0].(string))
							} else {
								refused++
							}
							mu.Unlock()
						}
					})
				}
				for _, id := range ids {
					jobs <- id
				}
				close(jobs)
				wg.Wait()
				if refused > 0 {
					b.Fatalf("%d sends refused", refused)
				}
				for _, dlv := range dlvs {
					for {
						d, err := h.Store.Delivery(b.Context(), tenantID, dlv)
						if err != nil {
							b.Fatal(err)
						}
						if d.Status == store.DeliverySent {
							break
						}
						time.Sleep(2 * time.Millisecond)
					}
				}
				elapsed += time.Since(start)
			}
			slices.Sort(latencies)
			b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "sends/s")
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
