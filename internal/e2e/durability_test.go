package e2e

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/invoiced/invoiced/internal/redistest"
	"github.com/invoiced/invoiced/internal/wiring"
	"github.com/invoiced/invoiced/store"
)

// TestStartupWarnsOfRedisNotDurable: a Redis that fsyncs its append-only
// file only every second is named in one warning when invoiced connects,
// and one that fsyncs every write in none.
func TestStartupWarnsOfRedisNotDurable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		fsync string
		warns int
	}{{"everysec", 1}, {"always", 0}} {
		t.Run(tt.fsync, func(t *testing.T) {
			t.Parallel()
			h := setup(t, func(o *options) {
				o.noWorker = true
				o.redisArgs = []string{"--appendonly", "yes", "--appendfsync", tt.fsync}
			})
			warned := h.Logs.FilterLevelExact(zap.WarnLevel).FilterMessageSnippet("machine crash").All()
			if len(warned) != tt.warns {
				t.Fatalf("startup warnings about durability: %v, want %d", warned, tt.warns)
			}
			if tt.warns > 0 && warned[0].ContextMap()["appendfsync"] != tt.fsync {
				t.Errorf("the warning names appendfsync %v, want %s", warned[0].ContextMap()["appendfsync"], tt.fsync)
			}
			if r := h.do("GET", "/readyz", "", nil); r.Status != http.StatusOK {
				t.Errorf("/readyz without RequireDurableRedis: %d %s, want 200", r.Status, r.Raw)
			}
		})
	}
}

// TestRequireDurableRedis: with RequireDurableRedis (INVOICED_REDIS_REQUIRE_FSYNC)
// a role does not start on a Redis that fsyncs only every second, and
// /readyz answers 503 naming appendfsync when Redis is switched to it later.
func TestRequireDurableRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "everysec")
	cfg := wiring.Config{SecretKey: bytes.Repeat([]byte{7}, 32), RequireDurableRedis: true}
	d, err := wiring.Connect(cfg, zaptest.NewLogger(t), asynq.RedisClientOpt{Addr: srv.Addr})
	if err == nil {
		d.Close()
		t.Fatal("Connect to a Redis with appendfsync everysec succeeded; want a refusal")
	}
	if !errors.Is(err, store.ErrNotDurable) || !strings.Contains(err.Error(), "appendfsync is everysec") {
		t.Fatalf("Connect = %v, want ErrNotDurable naming appendfsync everysec", err)
	}

	h := setup(t, func(o *options) {
		o.noWorker = true
		o.requireDurable = true
		o.redisArgs = []string{"--appendonly", "yes", "--appendfsync", "always"}
	})
	if r := h.do("GET", "/readyz", "", nil); r.Status != http.StatusOK {
		t.Fatalf("/readyz under appendfsync always: %d %s, want 200", r.Status, r.Raw)
	}
	if err := h.Redis.Client(t).ConfigSet(t.Context(), "appendfsync", "everysec").Err(); err != nil {
		t.Fatal(err)
	}
	if r := h.do("GET", "/readyz", "", nil); r.Status != http.StatusServiceUnavailable || !strings.Contains(string(r.Raw), "appendfsync is everysec") {
		t.Errorf("/readyz under appendfsync everysec: %d %s, want 503 naming it", r.Status, r.Raw)
	}
}
