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

// sendRateSlack stretches the per-second window by 2%, so the jitter
// between the limiter's decision and the provider call (a goroutine
// scheduled late) cannot bring one second more than its share.
const sendRateSlack = time.Second / 50

// AllowSend takes one send from the fleet-wide per-second budget of tenant
// at provider. Sends are spaced evenly (no burst), so N workers together
// never put more than perSecond into any one-second window.
func (s *Store) AllowSend(ctx context.Context, tenantID, provider string, perSecond int) (bool, time.Duration, error) {
	return s.allow(ctx, tenantKey(tenantID, "send-rate", provider),
		redis_rate.Limit{Rate: perSecond, Burst: 1, Period: time.Second + sendRateSlack})
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
