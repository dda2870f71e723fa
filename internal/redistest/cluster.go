package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of local redis-server processes started for
// one test.
type Cluster struct {
	// Addrs are the masters' addresses, then the replicas'.
	Addrs []string
	// Nodes are the servers in the order of Addrs; stopping one is how a
	// test takes a node down.
	Nodes []*Server
}

// NodeTimeout is the cluster-node-timeout of a started cluster: how long
// a node may be unreachable before the others mark it failed. It is short
// so that tests of failures end quickly.
const NodeTimeout = time.Second

// StartCluster runs masters redis-server processes in cluster mode, plus
// replicas replicas of each master, joins them with `redis-cli --cluster
// create` (the 16,384 slots split evenly between the masters), and waits
// until every node reports cluster_state:ok. It needs redis-server and
// redis-cli (Debian's redis-tools, which redis-server depends on); Redis
// Cluster needs at least 3 masters.
func StartCluster(t testing.TB, masters, replicas int) *Cluster {
	t.Helper()
	cli := RequireTool(t, "redis-cli")
	RequireTool(t, "redis-server")
	n := masters * (1 + replicas)
	c := &Cluster{}
	for range n {
		s := Start(t,
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			// The bus port is its own free port: the default, the client
			// port + 10000, may belong to someone else.
			"--cluster-port", fmt.Sprint(FreePort(t)),
			"--cluster-node-timeout", fmt.Sprint(NodeTimeout.Milliseconds()),
			// Replicas sync at once instead of after Redis's default 5 s.
			"--repl-diskless-sync-delay", "0",
		)
		c.Nodes = append(c.Nodes, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", fmt.Sprint(replicas), "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c.waitOK(t, n)
	return c
}

// waitOK waits until every node sees n nodes and the cluster as ok, and
// every replica has synced with its master: a replica that never synced
// does not take over when its master fails.
func (c *Cluster) waitOK(t testing.TB, n int) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range c.Addrs {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		for {
			info, err := rdb.ClusterInfo(ctx).Result()
			repl, rerr := rdb.Info(ctx, "replication").Result()
			if err == nil && rerr == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d\r\n", n)) &&
				(strings.Contains(repl, "role:master") || strings.Contains(repl, "master_link_status:up")) {
				break
			}
			if time.Now().After(deadline) {
				_ = rdb.Close()
				t.Fatalf("cluster node %s not ok: %v\n%s\n%s", addr, err, info, repl)
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = rdb.Close()
	}
}

// URL returns the cluster's INVOICED_REDIS_URL:
// redis-cluster://host1:port1,host2:port2,…
func (c *Cluster) URL() string { return "redis-cluster://" + strings.Join(c.Addrs, ",") }

// Client returns a cluster client, closed when the test ends.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
