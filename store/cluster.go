package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ErrClusterDown is returned by Ping when a Redis Cluster does not serve
// all its hash slots, for example while a master is down and not yet
// replaced by its replica.
var ErrClusterDown = errors.New("redis cluster state is not ok")

// pingCluster checks a Redis Cluster as a whole: the node asked reports
// cluster_state:ok and every master answers. A plain PING goes to one
// node and succeeds even while the cluster refuses every command that
// names a key.
func pingCluster(ctx context.Context, c *redis.ClusterClient) error {
	info, err := c.ClusterInfo(ctx).Result()
	if err != nil {
		return fmt.Errorf("cluster info: %w", err)
	}
	if !strings.Contains(info, "cluster_state:ok") {
		return ErrClusterDown
	}
	return c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		if err := m.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("master %s: %w", m.Options().Addr, err)
		}
		return nil
	})
}
