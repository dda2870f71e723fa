package store

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// Limits are enforced in Redis with GCRA (go-redis/redis_rate), so every
// API and worker process shares one budget per tenant.

// AllowEmail takes one email from tenant's hourly budget of perHour. When
// the budget is spent it returns false and how long until one frees up.
func (s *Store) AllowEmail(ctx context.Context, tenantID string, perHour int) (bool, time.Duration, error) {
	return s.allow(ctx, tenantKey(tenantID, "emails-per-hour"), redis_rate.Limit{Rate: perHour, Burst: perHour, Period: time.Hour})
}

// AllowSend takes one send from the fleet-wide per-second budget of tenant
// at provider. Burst is one second's worth, so N workers together never
// exceed perSecond.
func (s *Store) AllowSend(ctx context.Context, tenantID, provider string, perSecond int) (bool, time.Duration, error) {
	return s.allow(ctx, tenantKey(tenantID, "send-rate", provider), redis_rate.PerSecond(perSecond))
}

func (s *Store) allow(ctx context.Context, key string, limit redis_rate.Limit) (bool, time.Duration, error) {
	if limit.Rate <= 0 {
		return true, 0, nil
	}
	res, err := s.limiter.Allow(ctx, key, limit)
	if err != nil {
		return false, 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	return res.Allowed > 0, res.RetryAfter, nil
}
