package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrWritesRefused is matched by errors.Is when Redis answers but refuses
// writes: it is out of memory under the noeviction policy, a read-only
// replica, or failing to persist.
var ErrWritesRefused = errors.New("redis refuses writes")

// ErrEvicting is matched by errors.Is when Redis may evict keys to make
// room (a maxmemory with a policy other than noeviction): invoices, sends
// and queued tasks would vanish without an error.
var ErrEvicting = errors.New("redis may evict keys")

// refusals are the reply prefixes of a Redis that is up but cannot take
// the command now; each passes without a change on the client's side.
// EXECABORT is how a MULTI/EXEC answers when Redis refused a queued
// command (the store's commands are well-formed, so the refusal was one of
// the others).
var refusals = []string{"OOM ", "READONLY ", "MISCONF ", "LOADING ", "MASTERDOWN ", "CLUSTERDOWN ", "TRYAGAIN ", "NOREPLICAS ", "BUSY ", "EXECABORT "}

// Unavailable reports whether err means Redis cannot take requests for
// now, rather than that the request was wrong: it is unreachable, timed
// out, or refused the command for one of the passing conditions above (out
// of memory, read-only, persistence failing, loading, cluster down). The
// API answers such an error with 503 and Retry-After, never 500.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var rerr redis.Error
	if errors.As(err, &rerr) && refused(rerr.Error()) {
		return true
	}
	// Scripts and wrappers (asynq) may report a refusal inside their own
	// message.
	msg := err.Error()
	for _, s := range []string{"OOM command not allowed", "READONLY You can't write", "MISCONF "} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	var nerr net.Error
	return errors.Is(err, ErrClusterDown) || errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, context.DeadlineExceeded) || errors.As(err, &nerr)
}

func refused(msg string) bool {
	for _, p := range refusals {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// NotReadyReason is what a readiness probe says of err, an error of Ready:
// the reason when Redis answers but refuses writes, may evict keys or may
// lose acknowledged writes; that it is not reachable otherwise, without
// the network error's details.
func NotReadyReason(err error) string {
	if errors.Is(err, ErrWritesRefused) || errors.Is(err, ErrEvicting) || errors.Is(err, ErrNotDurable) {
		return err.Error()
	}
	return "redis is not reachable"
}

// readyKey is written by Ready to prove that writes go through.
const readyKey = keyPrefix + "readyz"

// Ready reports whether the store can take writes that will stay: Redis
// answers (Ping), takes a write, and does not evict keys. A Redis out of
// memory under noeviction, a read-only replica or a failing disk is
// ErrWritesRefused; an evicting maxmemory-policy is ErrEvicting; with
// Config.RequireDurable, a Redis that does not fsync every write is
// ErrNotDurable. On a Redis Cluster every master is asked.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.Ping(ctx); err != nil {
		return err
	}
	if s.requireDurable {
		if err := s.CheckDurable(ctx); err != nil {
			return err
		}
	}
	if c, ok := s.rdb.(*redis.ClusterClient); ok {
		return c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			if err := checkMemory(ctx, m); err != nil {
				return fmt.Errorf("master %s: %w", m.Options().Addr, err)
			}
			return nil
		})
	}
	if err := s.rdb.Set(ctx, readyKey, s.Now().UnixMilli(), 10*time.Second).Err(); err != nil {
		if strings.HasPrefix(err.Error(), "OOM ") {
			return fmt.Errorf("%w: out of memory (maxmemory reached under noeviction): %v", ErrWritesRefused, err)
		}
		if Unavailable(err) {
			return fmt.Errorf("%w: %v", ErrWritesRefused, err)
		}
		return err
	}
	return checkMemory(ctx, s.rdb)
}

// MemoryState is what Redis says of its memory limit (INFO memory).
type MemoryState struct {
	Used      int64  // used_memory, bytes
	Max       int64  // maxmemory, bytes; 0 is no limit
	Policy    string // maxmemory_policy
	Available bool   // whether the used memory is below the limit
}

// Evicting reports whether Redis may evict keys: it has a memory limit
// and a policy other than noeviction.
func (m MemoryState) Evicting() bool { return m.Max > 0 && m.Policy != "noeviction" }

// Memory reads Redis's memory state (on a Redis Cluster, of one node).
func (s *Store) Memory(ctx context.Context) (MemoryState, error) { return memory(ctx, s.rdb) }

func memory(ctx context.Context, c redis.Cmdable) (MemoryState, error) {
	info, err := c.Info(ctx, "memory").Result()
	if err != nil {
		return MemoryState{}, err
	}
	var m MemoryState
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch k {
		case "used_memory":
			m.Used, _ = strconv.ParseInt(v, 10, 64)
		case "maxmemory":
			m.Max, _ = strconv.ParseInt(v, 10, 64)
		case "maxmemory_policy":
			m.Policy = v
		}
	}
	m.Available = m.Max == 0 || m.Used < m.Max
	return m, nil
}

// checkMemory refuses a Redis that evicts or is out of memory. One that
// does not report its memory (INFO renamed away, the embedded Redis of
// invoiced dev) passes: the write probe still speaks for it.
func checkMemory(ctx context.Context, c redis.Cmdable) error {
	m, err := memory(ctx, c)
	var rerr redis.Error
	if errors.As(err, &rerr) {
		return nil
	}
	if err != nil {
		return err
	}
	if m.Evicting() {
		return fmt.Errorf("%w: maxmemory-policy is %s; set it to noeviction", ErrEvicting, m.Policy)
	}
	if !m.Available {
		return fmt.Errorf("%w: out of memory (%d of %d bytes used)", ErrWritesRefused, m.Used, m.Max)
	}
	return nil
}
