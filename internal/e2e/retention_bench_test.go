package e2e

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// BenchmarkMemoryPerInvoice drives invoices through create → send → sent
// → paid with an Idempotency-Key on every POST, as a billing system does, on a
// real redis-server, and reports the Redis memory each one costs: in
// all (used_memory before and after, per invoice) and by key family
// (MEMORY USAGE of every key, summed by the key's kind), so a change that
// shrinks one family shows in the same run.
func BenchmarkMemoryPerInvoice(b *testing.B) {
	const n = 200
	for b.Loop() {
		h := setup(b)
		settings := acmeSettings()
		settings["defaults"].(map[string]any)["emailsPerHour"] = 1000
		token := h.tenant("ACME SRL", settings)
		rdb := redis.NewClient(&redis.Options{Addr: h.RedisAddr})
		ctx := context.Background()
		before := usedMemory(b, rdb)
		for i := range n {
			id := "inv_m" + strconv.Itoa(i)
			inv := sampleInvoice(id)
			inv["autoAdvance"] = false
			h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, inv, "Idempotency-Key", "create-"+id))
			h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/"+id+"/send", token, nil, "Idempotency-Key", "send-"+id))
		}
		waitAllSent(b, h, token, n)
		for i := range n {
			id := "inv_m" + strconv.Itoa(i)
			h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/"+id+"/mark-paid", token, nil, "Idempotency-Key", "paid-"+id))
		}
		after := usedMemory(b, rdb)
		fams := keyFamilies(b, ctx, rdb)
		b.ReportMetric(float64(after-before)/n, "used-B/invoice")
		var total int64
		for fam, bytes := range fams {
			total += bytes
			b.ReportMetric(float64(bytes)/n, fam+"-B/invoice")
		}
		b.ReportMetric(float64(total)/n, "keys-B/invoice")
		rdb.Close()
	}
}

// waitAllSent waits until each of the n invoices' first delivery is sent.
func waitAllSent(b *testing.B, h *harness, token string, n int) {
	tenantID := h.tenantID(token)
	for i := 0; i < n; {
		ds, err := h.Store.InvoiceDeliveries(b.Context(), tenantID, "inv_m"+strconv.Itoa(i))
		if err != nil {
			b.Fatal(err)
		}
		if len(ds) > 0 && ds[0].SentAt != nil {
			i++
			continue
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func usedMemory(b *testing.B, rdb *redis.Client) int64 {
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	b.Fatal("no used_memory in INFO")
	return 0
}

// keyFamilies sums MEMORY USAGE by key family: the key with its tenant and
// ids taken out ("inv", "dlv", "idem", "dlv-log", asynq's "asynq").
func keyFamilies(b *testing.B, ctx context.Context, rdb *redis.Client) map[string]int64 {
	out := map[string]int64{}
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		n, err := rdb.MemoryUsage(ctx, key, 0).Result()
		if err != nil {
			b.Fatal(err)
		}
		out[family(key)] += n
	}
	if err := iter.Err(); err != nil {
		b.Fatal(err)
	}
	return out
}

func family(key string) string {
	if strings.HasPrefix(key, "asynq:") {
		return "asynq"
	}
	rest, ok := strings.CutPrefix(key, "ivd:")
	if !ok {
		return "other"
	}
	if i := strings.Index(rest, "}:"); i >= 0 {
		rest = rest[i+2:]
	}
	parts := strings.Split(rest, ":")
	switch parts[0] {
	case "inv":
		if len(parts) > 2 {
			return "inv-dlv"
		}
		return "inv"
	case "dlv-log":
		return "dlv-log"
	case "provider-msg":
		return "provider-msg"
	}
	if len(parts) > 1 && (parts[0] == "dlv" || parts[0] == "send" || parts[0] == "idem" || parts[0] == "evt") {
		return parts[0]
	}
	return "tenant"
}
