//go:build unix

package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
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
	redisCPU := serverCPU(b, f.rdb)
	trips, cpu := f.trips.n.Load(), processCPU(b)
	ops := 0
	for b.Loop() {
		send(ops)
		ops++
	}
	b.ReportMetric(float64(f.trips.n.Load()-trips)/float64(ops), "round-trips/op")
	b.ReportMetric(float64((processCPU(b)-cpu).Microseconds())/float64(ops), "cpu-µs/op")
	b.ReportMetric(float64((serverCPU(b, f.rdb)-redisCPU).Microseconds())/float64(ops), "redis-cpu-µs/op")
}

// processCPU returns the CPU time this process has used, user and system.
func processCPU(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU returns the CPU time redis-server has used (INFO cpu).
func serverCPU(tb testing.TB, rdb redis.Cmdable) time.Duration {
	tb.Helper()
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var total time.Duration
	for _, line := range strings.Split(info, "\r\n") {
		name, v, _ := strings.Cut(line, ":")
		if name == "used_cpu_sys" || name == "used_cpu_user" {
			secs, err := strconv.ParseFloat(v, 64)
			if err != nil {
				tb.Fatalf("INFO cpu %q: %v", line, err)
			}
			total += time.Duration(secs * float64(time.Second))
		}
	}
	return total
}
