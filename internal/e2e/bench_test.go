package e2e

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/invoiced/invoiced/store"
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
