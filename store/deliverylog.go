package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The delivery log indexes a tenant's deliveries by creation time (Unix
// milliseconds), whole and by status, channel, and both, so that a query
// with any of those filters reads one sorted set from its first match on:
// a page costs O(log n + page), however many deliveries the tenant has.
// A delivery is in exactly one status set at a time; Transition moves it.

// deliveryLogKey is the index of the deliveries with status and channel,
// either of which may be empty for "any".
func deliveryLogKey(tenantID string, status DeliveryStatus, channel Channel) string {
	return tenantKey(tenantID, "dlv-log", string(status), string(channel))
}

// deliveryLogIndexedKey marks a tenant whose deliveries are all in the
// delivery log: every tenant created since it exists, and older ones once
// indexDeliveryLog has run.
func deliveryLogIndexedKey(tenantID string) string { return tenantKey(tenantID, "dlv-log-indexed") }

// logDelivery adds d, in status, to the delivery log in p.
func logDelivery(ctx context.Context, p redis.Pipeliner, d *Delivery, status DeliveryStatus) {
	z := redis.Z{Score: float64(d.CreatedAt.UnixMilli()), Member: d.ID}
	for _, key := range []string{
		deliveryLogKey(d.TenantID, "", ""),
		deliveryLogKey(d.TenantID, "", d.Channel),
		deliveryLogKey(d.TenantID, status, ""),
		deliveryLogKey(d.TenantID, status, d.Channel),
	} {
		p.ZAdd(ctx, key, z)
	}
}

// moveInDeliveryLog moves d from status from's sets to its current
// status's.
func moveInDeliveryLog(ctx context.Context, p redis.Pipeliner, d *Delivery, from DeliveryStatus) {
	p.ZRem(ctx, deliveryLogKey(d.TenantID, from, ""), d.ID)
	p.ZRem(ctx, deliveryLogKey(d.TenantID, from, d.Channel), d.ID)
	z := redis.Z{Score: float64(d.CreatedAt.UnixMilli()), Member: d.ID}
	p.ZAdd(ctx, deliveryLogKey(d.TenantID, d.Status, ""), z)
	p.ZAdd(ctx, deliveryLogKey(d.TenantID, d.Status, d.Channel), z)
}

// indexDeliveryLog builds, once, the delivery log of a tenant whose
// deliveries predate it (see buildOnce). A delivery that changes status
// while this runs may be left in its old status's set as well; queries
// check each delivery's status, so it is only skipped there.
func (s *Store) indexDeliveryLog(ctx context.Context, tenantID string) error {
	return s.buildOnce(ctx, tenantID, deliveryLogIndexedKey(tenantID), func() error {
		ids, err := s.scanIDs(ctx, tenantID, deliveryKey(tenantID, ""))
		if err != nil {
			return err
		}
		ds, err := mgetJSON[Delivery](ctx, s.rdb, deliveryKey, tenantID, ids)
		if err != nil {
			return err
		}
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, d := range ds {
				d.TenantID = tenantID
				logDelivery(ctx, p, d, d.Status)
			}
			return nil
		})
		return err
	})
}

// DeliveryCursor is where a listing of the delivery log goes on from:
// after the delivery with ID, created at At.
type DeliveryCursor struct {
	At time.Time
	ID string
}

// String writes the cursor as "<Unix ms>.<delivery id>".
func (c DeliveryCursor) String() string { return strconv.FormatInt(c.At.UnixMilli(), 10) + "." + c.ID }

// ParseDeliveryCursor reads a DeliveryCursor's String.
func ParseDeliveryCursor(s string) (DeliveryCursor, error) {
	c, err := ParseSendCursor(s)
	return DeliveryCursor(c), err
}

// DeliveryQuery selects deliveries from the log: with Status and Channel
// when set, created in [Since, Until) (zero for no bound), newest first
// unless Oldest, after the cursor After.
type DeliveryQuery struct {
	Status  DeliveryStatus
	Channel Channel
	Since   time.Time
	Until   time.Time
	Oldest  bool
	After   *DeliveryCursor
	Limit   int
}

// QueryDeliveries returns up to q.Limit deliveries of the tenant's log and
// the cursor of the page after them (nil when there is none).
func (s *Store) QueryDeliveries(ctx context.Context, tenantID string, q DeliveryQuery) ([]*Delivery, *DeliveryCursor, error) {
	if q.Limit < 1 {
		return nil, nil, errors.New("query deliveries: limit must be positive")
	}
	if err := s.indexDeliveryLog(ctx, tenantID); err != nil {
		return nil, nil, err
	}
	key := deliveryLogKey(tenantID, q.Status, q.Channel)
	lo, hi := "-inf", "+inf"
	if !q.Since.IsZero() {
		lo = strconv.FormatInt(q.Since.UnixMilli(), 10)
	}
	if !q.Until.IsZero() {
		hi = "(" + strconv.FormatInt(q.Until.UnixMilli(), 10)
	}
	if q.After != nil {
		at := strconv.FormatInt(q.After.At.UnixMilli(), 10)
		if q.Oldest {
			lo = at
		} else {
			hi = at
		}
	}
	var out []*Delivery
	batch := int64(q.Limit + 1)
	for offset := int64(0); ; offset += batch {
		by := &redis.ZRangeBy{Min: lo, Max: hi, Offset: offset, Count: batch}
		var zs []redis.Z
		var err error
		if q.Oldest {
			zs, err = s.rdb.ZRangeByScoreWithScores(ctx, key, by).Result()
		} else {
			zs, err = s.rdb.ZRevRangeByScoreWithScores(ctx, key, by).Result()
		}
		if err != nil {
			return nil, nil, fmt.Errorf("query deliveries: %w", err)
		}
		ids := make([]string, 0, len(zs))
		for _, z := range zs {
			id := z.Member.(string)
			if q.After != nil && int64(z.Score) == q.After.At.UnixMilli() && seen(id, q.After.ID, q.Oldest) {
				continue // on an earlier page
			}
			ids = append(ids, id)
		}
		ds, err := mgetJSON[Delivery](ctx, s.rdb, deliveryKey, tenantID, ids)
		if err != nil {
			return nil, nil, err
		}
		for _, id := range ids {
			d, ok := ds[id]
			if !ok || (q.Status != "" && d.Status != q.Status) {
				continue // gone, or left behind in a status set
			}
			d.TenantID = tenantID
			if len(out) == q.Limit {
				last := out[q.Limit-1]
				return out, &DeliveryCursor{At: last.CreatedAt, ID: last.ID}, nil
			}
			out = append(out, d)
		}
		if int64(len(zs)) < batch {
			return out, nil, nil
		}
	}
}

// seen reports whether id, created in the same millisecond as the cursor's
// delivery, came on the cursor's page or before it. Redis orders members
// of one score by their bytes, forwards for the oldest first and backwards
// for the newest first.
func seen(id, cursorID string, oldest bool) bool {
	if oldest {
		return strings.Compare(id, cursorID) <= 0
	}
	return strings.Compare(id, cursorID) >= 0
}
