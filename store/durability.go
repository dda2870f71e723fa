package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// ErrNotDurable is matched by errors.Is when Redis may acknowledge a write
// that a machine crash or power loss then loses: it keeps no append-only
// file, or does not fsync it before every answer (appendfsync other than
// always), or does not say (CONFIG GET refused).
var ErrNotDurable = errors.New("redis may lose acknowledged writes in a machine crash")

// PersistenceState is how Redis keeps what it acknowledged (CONFIG GET
// appendonly and appendfsync).
type PersistenceState struct {
	AOF   bool   // appendonly yes
	Fsync string // appendfsync: always, everysec or no
}

// Durable reports whether every write Redis acknowledges is on disk first:
// an append-only file with appendfsync always. With everysec a machine
// crash loses up to the last second or two of acknowledged writes; a crash
// of the Redis process alone loses nothing either way.
func (p PersistenceState) Durable() bool { return p.AOF && p.Fsync == "always" }

func (p PersistenceState) String() string {
	if !p.AOF {
		return "appendonly is no"
	}
	return "appendfsync is " + p.Fsync
}

// Persistence reads Redis's persistence settings (on a Redis Cluster, of
// one node; CheckDurable asks every master).
func (s *Store) Persistence(ctx context.Context) (PersistenceState, error) {
	return persistence(ctx, s.rdb)
}

func persistence(ctx context.Context, c redis.Cmdable) (PersistenceState, error) {
	cfg, err := c.ConfigGet(ctx, "append*").Result()
	if err != nil {
		return PersistenceState{}, err
	}
	return PersistenceState{AOF: cfg["appendonly"] == "yes", Fsync: cfg["appendfsync"]}, nil
}

// CheckDurable returns nil when Redis fsyncs every write before it answers
// (see PersistenceState.Durable), else an error matching ErrNotDurable that
// says why; on a Redis Cluster it asks every master. A Redis that refuses
// CONFIG GET (renamed or disabled, as some managed services do) cannot be
// told durable: ErrNotDurable. An unreachable Redis is the connection's
// error.
func (s *Store) CheckDurable(ctx context.Context) error {
	if c, ok := s.rdb.(*redis.ClusterClient); ok {
		return c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			if err := checkDurable(ctx, m); err != nil {
				return fmt.Errorf("master %s: %w", m.Options().Addr, err)
			}
			return nil
		})
	}
	return checkDurable(ctx, s.rdb)
}

func checkDurable(ctx context.Context, c redis.Cmdable) error {
	p, err := persistence(ctx, c)
	var rerr redis.Error
	if errors.As(err, &rerr) {
		return fmt.Errorf("%w: CONFIG GET appendonly/appendfsync refused (%v)", ErrNotDurable, err)
	}
	if err != nil {
		return err
	}
	if !p.Durable() {
		return fmt.Errorf("%w: %s; set appendonly yes and appendfsync always", ErrNotDurable, p)
	}
	return nil
}
