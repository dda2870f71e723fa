package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/internal/redistest"
)

func TestParseRedisURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url string
		wantErr   string
		check     func(t *testing.T, opt asynq.RedisConnOpt)
	}{
		{name: "single", url: "redis://:pw@redis:6379/2", check: func(t *testing.T, opt asynq.RedisConnOpt) {
			o, ok := opt.(asynq.RedisClientOpt)
			if !ok || o.Addr != "redis:6379" || o.DB != 2 || o.Password != "pw" {
				t.Fatalf("opt = %#v", opt)
			}
		}},
		{name: "sentinel", url: "redis-sentinel://s1:26379,s2:26379?master=mymaster", check: func(t *testing.T, opt asynq.RedisConnOpt) {
			o := opt.(failoverOpt).opts
			if o.MasterName != "mymaster" || strings.Join(o.SentinelAddrs, " ") != "s1:26379 s2:26379" || o.DB != 0 {
				t.Fatalf("opts = %+v", o)
			}
			if o.Password != "" || o.SentinelPassword != "" || o.TLSConfig != nil {
				t.Fatalf("credentials or TLS nobody asked for: %+v", o)
			}
			c, ok := opt.MakeRedisClient().(*redis.Client)
			if !ok {
				t.Fatalf("client = %T, want *redis.Client", c)
			}
			_ = c.Close()
		}},
		{name: "sentinel password reaches the master too", url: "redis-sentinel://:s%3Acret@s1:26379,s2:26379,s3:26379/3?master=mymaster&dial_timeout=2s",
			check: func(t *testing.T, opt asynq.RedisConnOpt) {
				o := opt.(failoverOpt).opts
				if o.Password != "s:cret" || o.SentinelPassword != "s:cret" || o.Username != "" || o.SentinelUsername != "" {
					t.Fatalf("credentials = user %q pass %q, sentinel %q %q", o.Username, o.Password, o.SentinelUsername, o.SentinelPassword)
				}
				if o.DB != 3 || len(o.SentinelAddrs) != 3 || o.DialTimeout != 2*time.Second {
					t.Fatalf("opts = %+v", o)
				}
			}},
		{name: "sentinel with its own credentials", url: "redis-sentinel://app:pw@s1:26379?master=m&sentinel_username=watch&sentinel_password=spw",
			check: func(t *testing.T, opt asynq.RedisConnOpt) {
				o := opt.(failoverOpt).opts
				if o.Username != "app" || o.Password != "pw" || o.SentinelUsername != "watch" || o.SentinelPassword != "spw" {
					t.Fatalf("credentials = user %q pass %q, sentinel %q %q", o.Username, o.Password, o.SentinelUsername, o.SentinelPassword)
				}
			}},
		{name: "sentinel without a password", url: "redis-sentinel://:pw@s1:26379?master_name=m&sentinel_password=",
			check: func(t *testing.T, opt asynq.RedisConnOpt) {
				o := opt.(failoverOpt).opts
				if o.MasterName != "m" || o.Password != "pw" || o.SentinelPassword != "" {
					t.Fatalf("master %q, password %q, sentinel password %q", o.MasterName, o.Password, o.SentinelPassword)
				}
			}},
		{name: "sentinel tls", url: "rediss-sentinel://s1.example.com:26379,s2.example.com:26379?master=m", check: func(t *testing.T, opt asynq.RedisConnOpt) {
			o := opt.(failoverOpt).opts
			// Each server is checked against its own name, not the first Sentinel's.
			if o.TLSConfig == nil || o.TLSConfig.ServerName != "" || o.TLSConfig.InsecureSkipVerify {
				t.Fatalf("tls = %+v", o.TLSConfig)
			}
		}},
		{name: "sentinel no master", url: "redis-sentinel://s1:26379,s2:26379", wantErr: "no master name"},
		{name: "sentinel no port", url: "redis-sentinel://s1?master=m", wantErr: `"s1": want host:port`},
		{name: "sentinel no host", url: "redis-sentinel://?master=m", wantErr: "no Sentinel"},
		{name: "sentinel database", url: "redis-sentinel://:hunter2@s1:26379/x?master=m", wantErr: "invalid database number"},
		{name: "sentinel unknown option", url: "redis-sentinel://:hunter2@s1:26379?master=m&cluster=yes", wantErr: "unexpected option: cluster"},
		{name: "cluster", url: "redis-cluster://app:p%40ss@n1:7000,n2:7001,n3:7002?dial_timeout=2s&pool_size=50&route_by_latency=true",
			check: func(t *testing.T, opt asynq.RedisConnOpt) {
				o := opt.(clusterOpt).opts
				if strings.Join(o.Addrs, " ") != "n1:7000 n2:7001 n3:7002" || o.Username != "app" || o.Password != "p@ss" {
					t.Fatalf("addrs, user = %v %q %q", o.Addrs, o.Username, o.Password)
				}
				if o.DialTimeout != 2*time.Second || o.PoolSize != 50 || !o.RouteByLatency || o.TLSConfig != nil {
					t.Fatalf("options = %+v", o)
				}
				c, ok := opt.MakeRedisClient().(*redis.ClusterClient)
				if !ok {
					t.Fatalf("client = %T, want *redis.ClusterClient", c)
				}
				_ = c.Close()
			}},
		{name: "cluster one seed, db 0", url: "redis-cluster://n1:7000/0", check: func(t *testing.T, opt asynq.RedisConnOpt) {
			if o := opt.(clusterOpt).opts; len(o.Addrs) != 1 {
				t.Fatalf("addrs = %v", o.Addrs)
			}
		}},
		{name: "cluster tls", url: "rediss-cluster://cfg.cache.example.com:6379,n2.cache.example.com:6379", check: func(t *testing.T, opt asynq.RedisConnOpt) {
			o := opt.(clusterOpt).opts
			if o.TLSConfig == nil || o.TLSConfig.ServerName != "cfg.cache.example.com" {
				t.Fatalf("tls = %+v", o.TLSConfig)
			}
		}},
		{name: "cluster database", url: "redis-cluster://n1:7000,n2:7001/3", wantErr: "only database 0"},
		{name: "cluster no port", url: "redis-cluster://n2,n1:7000", wantErr: `"n2": want host:port`},
		{name: "cluster no host", url: "redis-cluster://", wantErr: "no host"},
		{name: "cluster unknown option", url: "redis-cluster://n1:7000?master=x", wantErr: "unexpected option: master"},
		{name: "cluster bad duration", url: "redis-cluster://n1:7000?read_timeout=soon", wantErr: "read_timeout"},
		{name: "unknown scheme", url: "memcached://m:11211", wantErr: `scheme "memcached"`},
		{name: "password kept out of errors", url: "redis://:hunter2@redis:port/0", wantErr: "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt, err := parseRedisURL(tt.url)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %s", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("the error repeats the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, opt)
		})
	}
}

// TestClusterClientFollowsFailover kills a master of a cluster with
// replicas: once its replica has taken over, a client made from a
// redis-cluster:// URL reaches the key's slot again within a few seconds
// (a second or less here), well before the periodic reload of the slot
// map (clusterStateReloadInterval).
func TestClusterClientFollowsFailover(t *testing.T) {
	t.Parallel()
	cluster := redistest.StartCluster(t, 3, 1)
	opt, err := parseRedisURL(cluster.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := opt.MakeRedisClient().(*redis.ClusterClient)
	defer rdb.Close()
	ctx := context.Background()
	const key = "asynq:{critical}:probe"
	if err := rdb.Incr(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	m, err := rdb.MasterForKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cluster.Nodes {
		if s.Addr == m.Options().Addr {
			s.Stop()
		}
	}
	// When did a replica take over, as a fresh client sees it?
	killed := time.Now()
	var promoted time.Time
	for promoted.IsZero() {
		if time.Since(killed) > 30*time.Second {
			t.Fatal("no replica took over within 30s")
		}
		fresh := cluster.Client(t)
		if err := fresh.Incr(ctx, key).Err(); err == nil {
			promoted = time.Now()
		}
		_ = fresh.Close()
		time.Sleep(20 * time.Millisecond)
	}
	// The long-lived client follows within a second.
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		err := rdb.Incr(cctx, key).Err()
		cancel()
		if err == nil {
			break
		}
		if time.Since(promoted) > 3*time.Second {
			t.Fatalf("the client still fails %v after the replica took over: %v", time.Since(promoted), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("replica took over %v after the kill; the client followed %v later",
		promoted.Sub(killed).Round(time.Millisecond), time.Since(promoted).Round(time.Millisecond))
	if n, err := rdb.Get(ctx, key).Int(); err != nil || n < 2 {
		t.Fatalf("counter after the failover = %d, %v", n, err)
	}
}
