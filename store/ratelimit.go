package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limits are enforced in Redis with GCRA (go-redis/redis_rate), so every
// API and worker process shares one budget per tenant.

// ErrOverHourlyLimit is returned for a take of more emails than the whole
// hourly limit: it would never fit, however long the caller waited.
var ErrOverHourlyLimit = errors.New("more emails than the hourly limit")

// EmailTake is the answer of TakeEmails.
type EmailTake struct {
	// OK reports whether the emails were taken.
	OK bool
	// Left is how many emails the budget has left: after the take, or
	// now when it was refused.
	Left int
	// RetryAfter is, for a refused take, how long until it would fit.
	RetryAfter time.Duration
}

// emailBudgetOnce is how long a delivery stays marked as counted; longer
// than the retries of a delivery last.
const emailBudgetOnce = 7 * 24 * time.Hour

// TakeEmails takes n emails (every envelope recipient of a message) from
// tenant's hourly budget of perHour, all of them or none: a take that does
// not fit what is left takes nothing and says how long until it would.
// The budget is a GCRA in Redis (one email frees up every hour/perHour,
// up to perHour at once), kept by one script so that every API replica and
// worker shares it and concurrent takes cannot overspend. A perHour of
// zero or less is no limit; n above perHour is ErrOverHourlyLimit.
func (s *Store) TakeEmails(ctx context.Context, tenantID string, n, perHour int) (EmailTake, error) {
	return s.takeEmails(ctx, tenantID, "", n, perHour)
}

// TakeDeliveryEmails is TakeEmails for the message of delivery, counted
// once however often the delivery is tried: once taken, a later call takes
// nothing and is OK.
func (s *Store) TakeDeliveryEmails(ctx context.Context, tenantID, deliveryID string, n, perHour int) (EmailTake, error) {
	return s.takeEmails(ctx, tenantID, tenantKey(tenantID, "email-budget", deliveryID), n, perHour)
}

func (s *Store) takeEmails(ctx context.Context, tenantID, onceKey string, n, perHour int) (EmailTake, error) {
	if perHour <= 0 {
		return EmailTake{OK: true}, nil
	}
	if n > perHour {
		return EmailTake{}, fmt.Errorf("%d emails, %d per hour: %w", n, perHour, ErrOverHourlyLimit)
	}
	keys := []string{emailBudgetKey(tenantID)}
	if onceKey != "" {
		keys = append(keys, onceKey)
	}
	v, err := takeEmailsScript.Run(ctx, s.rdb, keys, perHour, time.Hour.Seconds(), n, int(emailBudgetOnce.Seconds())).Slice()
	if err != nil {
		return EmailTake{}, fmt.Errorf("email budget of %s: %w", tenantID, err)
	}
	return emailTake(tenantID, v)
}

// emailTake reads takeEmailsScript's answer v.
func emailTake(tenantID string, v []any) (EmailTake, error) {
	ok, _ := v[0].(int64)
	left, _ := v[1].(int64)
	retry, _ := v[2].(string)
	secs, err := strconv.ParseFloat(retry, 64)
	if err != nil {
		return EmailTake{}, fmt.Errorf("email budget of %s: retry %q: %w", tenantID, retry, err)
	}
	return EmailTake{OK: ok == 1, Left: int(left), RetryAfter: time.Duration(secs * float64(time.Second))}, nil
}

// TakeEmailsEach is TakeEmails for each of ns in turn, in one round trip:
// a take that does not fit is refused on its own, and the takes after it
// are still tried. Every n must be at most perHour.
func (s *Store) TakeEmailsEach(ctx context.Context, tenantID string, ns []int, perHour int) ([]EmailTake, error) {
	out := make([]EmailTake, len(ns))
	if perHour <= 0 {
		for i := range out {
			out[i].OK = true
		}
		return out, nil
	}
	for _, n := range ns {
		if n > perHour {
			return nil, fmt.Errorf("%d emails, %d per hour: %w", n, perHour, ErrOverHourlyLimit)
		}
	}
	if len(ns) == 0 {
		return out, nil
	}
	if err := takeEmailsScript.Load(ctx, s.rdb).Err(); err != nil {
		return nil, fmt.Errorf("email budget of %s: %w", tenantID, err)
	}
	keys := []string{emailBudgetKey(tenantID)}
	cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, n := range ns {
			takeEmailsScript.EvalSha(ctx, p, keys, perHour, time.Hour.Seconds(), n, int(emailBudgetOnce.Seconds()))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("email budget of %s: %w", tenantID, err)
	}
	for i, c := range cmds {
		v, err := c.(*redis.Cmd).Slice()
		if err != nil {
			return nil, fmt.Errorf("email budget of %s: %w", tenantID, err)
		}
		if out[i], err = emailTake(tenantID, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// takeEmailsLua defines takeEmails, redis_rate's GCRA (its state, at key,
// is the theoretical arrival time, in seconds since 2017) with a burst of
// the whole limit, that also answers what is left when it refuses, and
// skips a take whose onceKey (nil for none) is already set; the onceKey
// it sets lives onceTTL seconds. It returns {1, left, "0"} for a take,
// {0, left, seconds until it would fit} for a refusal.
const takeEmailsLua = `
local function takeEmails(key, onceKey, limit, period, n, onceTTL)
	redis.replicate_commands()
	limit, period, n = tonumber(limit), tonumber(period), tonumber(n)
	local interval = period / limit
	local t = redis.call("TIME")
	local now = (t[1] - 1483228800) + t[2] / 1000000
	local tat = redis.call("GET", key)
	if tat then tat = math.max(tonumber(tat), now) else tat = now end
	-- the epsilon keeps float error from hiding a whole email
	local left = math.floor((now - (tat - period)) / interval + 1e-6)
	if left > limit then left = limit end
	if onceKey and redis.call("EXISTS", onceKey) == 1 then
		return {1, left, "0"}
	end
	if left < n then
		return {0, left, tostring(tat + n * interval - period - now)}
	end
	local new_tat = tat + n * interval
	if new_tat > now then
		redis.call("SET", key, new_tat, "EX", math.ceil(new_tat - now))
	end
	if onceKey then
		redis.call("SET", onceKey, "1", "EX", onceTTL)
	end
	return {1, left - n, "0"}
end
`

// takeEmailsScript runs takeEmails on KEYS[1] with the once-key KEYS[2],
// if given. ARGV: limit, period in seconds, n, the once-key's lifetime in
// seconds.
var takeEmailsScript = redis.NewScript(takeEmailsLua + `return takeEmails(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])`)

// emailTakeArgs is a take of n emails from tenant's hourly budget of
// perHour, made by a compare-and-write before it writes (casScript).
type emailTakeArgs struct {
	tenantID   string
	n, perHour int
}

// emailBudgetKey is the key of tenant's hourly email budget: the one
// redis_rate kept it under, so a budget spent before an upgrade stays
// spent.
func emailBudgetKey(tenantID string) string { return "rate:" + tenantKey(tenantID, "emails-per-hour") }

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
