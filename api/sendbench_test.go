//go:build unix

package api

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/internal/redistest"
)

// BenchmarkSendRequest measures one POST /api/v1/invoices/{id}/send with
// the body {} (the load test's send) through the API's handler, its
// store and its queue on a real redis-server, a token the API has seen:
// round trips per op, this process's CPU per op (getrusage: the handler,
// go-redis and the runtime; the HTTP server's reading and writing of the
// request are not in it), and redis-server's (INFO cpu). The sends cycle
// over 200 drafts of 10 lines.
func BenchmarkSendRequest(b *testing.B) {
	f := setupAPI(b)
	const invoices = 200
	paths := make([]string, invoices)
	for i := range paths {
		id := "inv_" + strconv.Itoa(i)
		f.newInvoice(f.token, id)
		paths[i] = "/api/v1/invoices/" + id + "/send"
	}
	header := http.Header{"Authorization": {"Bearer " + f.token}, "Content-Type": {"application/json"}}
	send := func(i int) {
		r := httptest.NewRequest("POST", paths[i%invoices], strings.NewReader(`{}`))
		r.Header = header.Clone()
		w := httptest.NewRecorder()
		f.handler.ServeHTTP(w, r)
		if w.Code != http.StatusAccepted {
			b.Fatalf("send = %d %s", w.Code, w.Body)
		}
	}
	send(0)
	redisCPU := redistest.ServerCPU(b, f.rdb)
	trips, cpu := f.trips.Trips.Load(), redistest.ProcessCPU(b)
	ops := 0
	for b.Loop() {
		send(ops)
		ops++
	}
	b.ReportMetric(float64(f.trips.Trips.Load()-trips)/float64(ops), "round-trips/op")
	b.ReportMetric(float64((redistest.ProcessCPU(b)-cpu).Microseconds())/float64(ops), "cpu-µs/op")
	b.ReportMetric(float64((redistest.ServerCPU(b, f.rdb)-redisCPU).Microseconds())/float64(ops), "redis-cpu-µs/op")
}
