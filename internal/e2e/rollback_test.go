package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisSnapshot is every key of a Redis database with its value (DUMP) and
// time to live, as a restore from an older AOF would bring them back.
type redisSnapshot map[string]struct {
	dump string
	ttl  time.Duration
}

func snapshotRedis(t *testing.T, rdb *redis.Client) redisSnapshot {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	snap := redisSnapshot{}
	for _, k := range keys {
		dump, err := rdb.Dump(ctx, k).Result()
		if err == redis.Nil {
			continue // expired meanwhile
		}
		if err != nil {
			t.Fatal(err)
		}
		ttl := rdb.PTTL(ctx, k).Val()
		if ttl < 0 {
			ttl = 0
		}
		snap[k] = struct {
			dump string
			ttl  time.Duration
		}{dump, ttl}
	}
	return snap
}

// rollBack replaces the database with snap: every write since it is lost.
func (snap redisSnapshot) rollBack(t *testing.T, rdb *redis.Client) {
	t.Helper()
	ctx := context.Background()
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for k, v := range snap {
		if err := rdb.RestoreReplace(ctx, k, v.ttl, v.dump).Err(); err != nil {
			t.Fatalf("restore %s: %v", k, err)
		}
	}
}

// TestAutoEmailAfterRollbackIsTheSameEmail: Redis loses the writes of a
// draft's finalization and auto-email (a machine crash under appendfsync
// everysec) but keeps the finalize task, which runs again. The second run
// makes the same send and the same delivery, so the provider gets the same
// Message-ID: the outbox holds one email, not two.
func TestAutoEmailAfterRollbackIsTheSameEmail(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["defaults"] = map[string]any{"gracePeriod": "1s", "autoEmailOnFinalize": true}
	token := h.tenant("ACME SRL", settings)
	rdb := h.Redis.Client(t)

	inv := sampleInvoice("inv_rollback")
	inv["autoAdvance"] = true
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, inv))
	before := snapshotRedis(t, rdb)

	eventually(t, 15*time.Second, "the auto-email", func() bool { return len(h.emails()) == 1 })
	first := h.deliveries(token, "inv_rollback")
	eventually(t, 5*time.Second, "the auto-email recorded sent", func() bool {
		first = h.deliveries(token, "inv_rollback")
		return len(first) == 1 && first[0]["status"] == "sent"
	})

	before.rollBack(t, rdb)
	if got := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_rollback", token, nil)).data()["status"]; got != "draft" {
		t.Fatalf("after the rollback the invoice is %v, want draft", got)
	}
	eventually(t, 15*time.Second, "the finalize task to run again and send", func() bool {
		ds := h.deliveries(token, "inv_rollback")
		return len(ds) == 1 && ds[0]["status"] == "sent"
	})
	again := h.deliveries(token, "inv_rollback")
	if again[0]["id"] != first[0]["id"] {
		t.Errorf("the second run made delivery %v, the first %v: the customer gets two Message-IDs", again[0]["id"], first[0]["id"])
	}
	time.Sleep(500 * time.Millisecond)
	if files := h.emails(); len(files) != 1 {
		t.Errorf("outbox holds %d emails after the rerun, want the first one only: %v", len(files), files)
	}
}
