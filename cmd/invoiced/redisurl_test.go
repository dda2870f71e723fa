package main

import (
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
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
			o, ok := opt.(asynq.RedisFailoverClientOpt)
			if !ok || o.MasterName != "mymaster" || len(o.SentinelAddrs) != 2 {
				t.Fatalf("opt = %#v", opt)
			}
		}},
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
