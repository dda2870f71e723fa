package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// TestRedisOutOfMemory runs invoiced on a redis-server with a memory limit
// under noeviction and fills it: writes are answered 503 with Retry-After
// (never 500), /readyz says not ready and why, and both recover once
// memory frees. An evicting policy makes /readyz refuse too.
func TestRedisOutOfMemory(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) {
		o.noWorker = true
		o.redisArgs = []string{"--maxmemory", "64mb", "--maxmemory-policy", "noeviction"}
	})
	token := h.tenant("ACME SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_before")))
	h.must(http.StatusOK, h.do("GET", "/readyz", "", nil))

	rdb := redis.NewClient(&redis.Options{Addr: h.RedisAddr})
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	if err := rdb.Set(ctx, "filler", strings.Repeat("x", 3<<20), 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", "2mb").Err(); err != nil {
		t.Fatal(err)
	}

	for _, req := range []struct{ method, path string }{
		{"POST", "/api/v1/invoices"},
		{"POST", "/api/v1/invoices/inv_before/send"},
		{"POST", "/api/v1/invoices/inv_before/finalize"},
		{"POST", "/api/v1/invoices/inv_before/send-email"},
	} {
		var body any
		if req.path == "/api/v1/invoices" {
			body = sampleInvoice("inv_full")
		}
		r := h.do(req.method, req.path, token, body)
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s with Redis full: %d Retry-After %q: %s; want 503 unavailable with Retry-After",
				req.method, req.path, r.Status, r.Header.Get("Retry-After"), r.Raw)
		}
	}
	r := h.do("GET", "/readyz", "", nil)
	if r.Status != http.StatusServiceUnavailable || !strings.Contains(string(r.Raw), "out of memory") {
		t.Errorf("/readyz with Redis full: %d %s; want 503 saying it is out of memory", r.Status, r.Raw)
	}

	if err := rdb.Del(ctx, "filler").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", "64mb").Err(); err != nil {
		t.Fatal(err)
	}
	h.must(http.StatusOK, h.do("GET", "/readyz", "", nil))
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_after")))
	if _, err := h.Store.Invoice(ctx, h.tenantID(token), "inv_full"); err == nil {
		t.Error("the invoice refused with 503 was stored")
	}

	if err := rdb.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	r = h.do("GET", "/readyz", "", nil)
	if r.Status != http.StatusServiceUnavailable || !strings.Contains(string(r.Raw), "allkeys-lru") {
		t.Errorf("/readyz under allkeys-lru: %d %s; want 503 naming the policy", r.Status, r.Raw)
	}
}

// TestStartupWarnsOfEvictingRedis: a Redis that may evict keys is named
// in one warning when invoiced connects.
func TestStartupWarnsOfEvictingRedis(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) {
		o.noWorker = true
		o.redisArgs = []string{"--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru"}
	})
	warned := h.Logs.FilterLevelExact(zap.WarnLevel).FilterMessageSnippet("evict").All()
	if len(warned) != 1 || warned[0].ContextMap()["maxmemory_policy"] != "volatile-lru" {
		t.Fatalf("startup warnings about eviction: %v, want one naming volatile-lru", warned)
	}
}

// TestWorkerWaitsOutRedisOutOfMemory: while Redis is out of memory the
// worker's components fail every second or so; the worker says so in one
// line, and once memory frees the send that waited goes out by itself.
func TestWorkerWaitsOutRedisOutOfMemory(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) {
		o.redisArgs = []string{"--maxmemory", "64mb", "--maxmemory-policy", "noeviction"}
	})
	token := h.tenant("ACME SRL", acmeSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_wait")))
	at := time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_wait/send", token, map[string]any{"scheduledAt": at}))

	rdb := redis.NewClient(&redis.Options{Addr: h.RedisAddr})
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	if err := rdb.Set(ctx, "filler", strings.Repeat("x", 3<<20), 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", "2mb").Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second) // past the send's time: it cannot start
	if n := len(h.emails()); n != 0 {
		t.Fatalf("%d emails went out while Redis refused writes", n)
	}
	said := h.Logs.FilterMessageSnippet("out of memory").All()
	if len(said) != 1 || said[0].Level != zap.WarnLevel {
		t.Errorf("the worker said Redis is out of memory %d times in 5s (%v), want once, as a warning", len(said), said)
	}
	for _, e := range h.Logs.FilterLevelExact(zap.ErrorLevel).All() {
		if strings.Contains(e.Message, "OOM") {
			t.Errorf("error line about the refusal: %q", e.Message)
		}
	}

	if err := rdb.Del(ctx, "filler").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", "64mb").Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the waiting send to go out once memory freed", func() bool { return len(h.emails()) == 1 })
}

// TestRedisOutOfMemoryBurst sends bursts of requests (100 invoice
// creations, each followed by a send of the invoice when it was created)
// from 8 clients while Redis runs out of memory partway through, under
// noeviction: no answer is a 500, every refusal is a 503 with
// Retry-After, and every invoice answered 201 is there once memory frees.
func TestRedisOutOfMemoryBurst(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) {
		o.noWorker = true
		o.redisArgs = []string{"--maxmemory", "64mb", "--maxmemory-policy", "noeviction"}
	})
	settings := acmeSettings()
	settings["defaults"] = map[string]any{"emailsPerHour": 1000} // the burst is not about the hourly limit
	token := h.tenant("ACME SRL", settings)
	rdb := redis.NewClient(&redis.Options{Addr: h.RedisAddr})
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	// 3 MB in small values, so that no large query buffer inflates the
	// memory read below while it lasts.
	var filler []string
	for i := range 48 {
		filler = append(filler, fmt.Sprintf("filler%d", i))
		if err := rdb.Set(ctx, filler[i], strings.Repeat("x", 64<<10), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Room for some of the burst, not all of it.
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	var used int64
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			used, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", strconv.FormatInt(used+1<<20, 10)).Err(); err != nil {
		t.Fatal(err)
	}

	type answer struct {
		what       string
		id         string
		status     int
		retryAfter string
		raw        string
	}
	// Bursts of invoices until Redis refuses some: how many fit depends
	// on the size of the records and on the connections' buffers.
	const invoices, clients, maxRounds = 100, 8, 20
	var all []answer
	for round := 0; round < maxRounds; round++ {
		answers := make(chan answer, 2*invoices)
		ids := make(chan string)
		var wg sync.WaitGroup
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range ids {
					r := h.do("POST", "/api/v1/invoices", token, sampleInvoice(id))
					answers <- answer{"create", id, r.Status, r.Header.Get("Retry-After"), string(r.Raw)}
					if r.Status != http.StatusCreated {
						continue
					}
					r = h.do("POST", "/api/v1/invoices/"+id+"/send", token, nil)
					answers <- answer{"send", id, r.Status, r.Header.Get("Retry-After"), string(r.Raw)}
				}
			}()
		}
		for i := range invoices {
			ids <- fmt.Sprintf("inv_burst%02d_%03d", round, i)
		}
		close(ids)
		wg.Wait()
		close(answers)
		refused := false
		for a := range answers {
			all = append(all, a)
			// A send may be refused before any create is (its email
			// budget's script needs memory too); the burst goes on
			// until Redis refuses invoices.
			refused = refused || (a.what == "create" && a.status == http.StatusServiceUnavailable)
		}
		if refused {
			break
		}
	}

	counts := map[string]int{}
	var created []string
	for _, a := range all {
		counts[fmt.Sprintf("%s %d", a.what, a.status)]++
		switch {
		case a.status == http.StatusCreated && a.what == "create":
			created = append(created, a.id)
		case a.status == http.StatusAccepted && a.what == "send":
		case a.status == http.StatusServiceUnavailable:
			if a.retryAfter == "" {
				t.Errorf("%s %s: 503 without Retry-After: %s", a.what, a.id, a.raw)
			}
		default:
			t.Errorf("%s %s: %d %s; want success or 503", a.what, a.id, a.status, a.raw)
		}
	}
	t.Logf("answers by status: %v", counts)
	if len(created) == 0 || counts["create 503"] == 0 {
		t.Fatalf("answers %v: the burst should fill Redis partway through", counts)
	}

	if err := rdb.Del(ctx, filler...).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", "64mb").Err(); err != nil {
		t.Fatal(err)
	}
	for _, id := range created {
		if r := h.do("GET", "/api/v1/invoices/"+id, token, nil); r.Status != http.StatusOK {
			t.Errorf("invoice %s, answered 201, reads %d %s after memory freed", id, r.Status, r.Raw)
		}
	}
}
