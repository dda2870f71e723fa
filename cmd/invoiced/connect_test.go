package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/internal/redistest"
)

// TestConnectURLForms checks that the production roles reach Redis through
// each INVOICED_REDIS_URL form: the store answers and a task enqueued
// through the connection is processed.
func TestConnectURLForms(t *testing.T) {
	t.Parallel()
	master := redistest.Start(t)
	sentinel := redistest.StartSentinel(t, master, "mymaster")
	cluster := redistest.StartCluster(t, 3, 0)
	// A master with a password, watched by Sentinels with the same
	// password and with their own.
	locked := redistest.Start(t, "--requirepass", "m4ster:pw")
	sameAuth := redistest.StartSentinelWithPassword(t, locked, "locked", "m4ster:pw")
	ownAuth := redistest.StartSentinelWithPassword(t, locked, "locked", "sent1nel")
	lockedDB2 := redis.NewClient(&redis.Options{Addr: locked.Addr, Password: locked.Password, DB: 2})
	t.Cleanup(func() { _ = lockedDB2.Close() })
	tests := []struct {
		name, url string
		// rdb reads what was written, bypassing invoiced.
		rdb redis.UniversalClient
	}{
		{"redis", master.URL(), master.Client(t)},
		{"sentinel", "redis-sentinel://" + sentinel + "?master=mymaster", master.Client(t)},
		{"cluster", cluster.URL(), cluster.Client(t)},
		{"sentinel password", "redis-sentinel://:m4ster%3Apw@" + sameAuth + "?master=locked", locked.Client(t)},
		{"sentinel own password", "redis-sentinel://:m4ster%3Apw@" + ownAuth + "/2?master=locked&sentinel_password=sent1nel", lockedDB2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config{RedisURL: tt.url, SecretKey: bytes.Repeat([]byte{1}, 32), PDFCacheSize: 4}
			d, err := connect(cfg, zap.NewNop(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			ctx := context.Background()
			if err := d.Store.Ping(ctx); err != nil {
				t.Fatalf("store ping through the %s URL: %v", tt.name, err)
			}
			ten, _, err := d.Store.CreateTenant(ctx, "via "+tt.name)
			if err != nil {
				t.Fatal(err)
			}
			// The same data is visible on the server itself.
			if n, err := tt.rdb.Exists(ctx, "ivd:{"+ten.ID+"}:tenant").Result(); err != nil || n != 1 {
				t.Fatalf("tenant not in redis: %d, %v", n, err)
			}
			done := make(chan struct{})
			srv := asynq.NewServer(d.RedisOpt, asynq.Config{Concurrency: 1, Queues: map[string]int{tt.name: 1}, LogLevel: asynq.FatalLevel, TaskCheckInterval: 50 * time.Millisecond})
			mux := asynq.NewServeMux()
			mux.HandleFunc("probe", func(context.Context, *asynq.Task) error { close(done); return nil })
			if err := srv.Start(mux); err != nil {
				t.Fatal(err)
			}
			defer srv.Shutdown()
			if _, err := d.Client.Enqueue(asynq.NewTask("probe", nil), asynq.Queue(tt.name)); err != nil {
				t.Fatal(err)
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the task enqueued through this URL was not processed")
			}
		})
	}
}

// TestSentinelTLS reaches a master through a Sentinel over TLS, as
// rediss-sentinel:// asks: the Sentinel's certificate names only
// localhost, the master's only 127.0.0.1 (the address the Sentinel
// reports), so each server must be checked against the name it is
// reached at; go-redis's own parser checks every server against the
// first Sentinel's name and fails on the master.
func TestSentinelTLS(t *testing.T) {
	t.Parallel()
	ca := redistest.NewTLSCA(t)
	master := redistest.StartTLS(t, ca, ca.Issue(t, "127.0.0.1"))
	sentinel := redistest.StartTLSSentinel(t, ca, ca.Issue(t, "localhost"), master, "secure")
	_, port, _ := net.SplitHostPort(sentinel)
	url := "rediss-sentinel://localhost:" + port + "?master=secure"
	ctx := context.Background()
	ping := func(t *testing.T, opt asynq.RedisConnOpt, tweak func(*tls.Config)) error {
		t.Helper()
		o := opt.(failoverOpt)
		if tweak != nil {
			cp := *o.opts
			cp.TLSConfig = o.opts.TLSConfig.Clone()
			tweak(cp.TLSConfig)
			o = failoverOpt{&cp}
		}
		rdb := o.MakeRedisClient().(*redis.Client)
		defer rdb.Close()
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return rdb.Set(cctx, "probe", "1", 0).Err()
	}
	opt, err := parseRedisURL(url)
	if err != nil {
		t.Fatal(err)
	}
	trustCA := func(c *tls.Config) { c.RootCAs = ca.Pool }
	if err := ping(t, opt, trustCA); err != nil {
		t.Fatalf("through the Sentinel to the master, each checked against its own name: %v", err)
	}
	if n, err := master.Client(t).Exists(ctx, "probe").Result(); err != nil || n != 1 {
		t.Fatalf("the write did not reach the master: %d, %v", n, err)
	}
	firstSentinelName := func(c *tls.Config) { c.RootCAs, c.ServerName = ca.Pool, "localhost" }
	if err := ping(t, opt, firstSentinelName); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("with every server checked against the first Sentinel's name: %v, want a certificate error", err)
	}
	if err := ping(t, opt, nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("with a CA the system does not trust: %v, want a certificate error", err)
	}

	// skip_verify=true, through the whole stack: store and queue.
	cfg := config{RedisURL: url + "&skip_verify=true", SecretKey: bytes.Repeat([]byte{1}, 32), PDFCacheSize: 4}
	d, err := connect(cfg, zap.NewNop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Store.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	ten, _, err := d.Store.CreateTenant(ctx, "TLS SRL")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := master.Client(t).Exists(ctx, "ivd:{"+ten.ID+"}:tenant").Result(); err != nil || n != 1 {
		t.Fatalf("tenant not on the master: %d, %v", n, err)
	}
	if _, err := d.Client.Enqueue(asynq.NewTask("probe", nil), asynq.Queue("tls")); err != nil {
		t.Fatalf("enqueue over TLS: %v", err)
	}
}
