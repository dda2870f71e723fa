package redistest

import (
	"context"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Counter is a go-redis hook that counts a client's round trips to Redis
// (a command alone is one, a pipeline one), the commands it sends (each
// command of a pipeline or transaction one) and the scripts among them
// (EVALSHA, and EVAL when Redis did not know the script). Those that set
// up a new connection (HELLO, CLIENT) are not counted.
type Counter struct{ Trips, Commands, Scripts atomic.Int64 }

// TripsOf returns how many round trips fn took.
func (c *Counter) TripsOf(fn func()) int64 {
	before := c.Trips.Load()
	fn()
	return c.Trips.Load() - before
}

func (c *Counter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *Counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !connSetup(cmd) {
			c.Trips.Add(1)
			c.count(cmd)
		}
		return next(ctx, cmd)
	}
}

func (c *Counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && !connSetup(cmds[0]) {
			c.Trips.Add(1)
			for _, cmd := range cmds {
				c.count(cmd)
			}
		}
		return next(ctx, cmds)
	}
}

func (c *Counter) count(cmd redis.Cmder) {
	c.Commands.Add(1)
	if n := cmd.Name(); n == "evalsha" || n == "eval" {
		c.Scripts.Add(1)
	}
}

func connSetup(cmd redis.Cmder) bool { return cmd.Name() == "hello" || cmd.Name() == "client" }
