package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// sendsIndexedKey marks a tenant whose open deliveries and scheduled sends
// are all in openDeliveriesKey and scheduledSendsKey: every tenant created
// since those indexes exist, and older ones once indexSends has run.
func sendsIndexedKey(tenantID string) string { return tenantKey(tenantID, "sends-indexed") }

// indexSends builds, once, the open-delivery and scheduled-send indexes of
// a tenant whose sends predate them, from its send and delivery keys (see
// buildOnce). Sends and deliveries that change meanwhile index themselves.
func (s *Store) indexSends(ctx context.Context, tenantID string) error {
	return s.buildOnce(ctx, tenantID, sendsIndexedKey(tenantID), func() error {
		sendIDs, err := s.scanIDs(ctx, tenantID, sendKey(tenantID, ""))
		if err != nil {
			return err
		}
		sends, err := mgetJSON[Send](ctx, s.rdb, sendKey, tenantID, sendIDs)
		if err != nil {
			return err
		}
		var scheduled []redis.Z
		for _, send := range sends {
			if send.Status == SendScheduled && send.ScheduledAt != nil {
				scheduled = append(scheduled, redis.Z{Score: float64(send.ScheduledAt.UnixMilli()), Member: send.ID})
			}
		}
		dlvIDs, err := s.scanIDs(ctx, tenantID, deliveryKey(tenantID, ""))
		if err != nil {
			return err
		}
		ds, err := mgetJSON[Delivery](ctx, s.rdb, deliveryKey, tenantID, dlvIDs)
		if err != nil {
			return err
		}
		var open []redis.Z
		for _, d := range ds {
			if !d.Status.open() {
				continue
			}
			due := d.UpdatedAt
			if send, ok := sends[d.SendID]; ok && d.Status == DeliveryScheduled && send.ScheduledAt != nil {
				due = *send.ScheduledAt
			}
			open = append(open, redis.Z{Score: float64(due.UnixMilli()), Member: d.ID})
		}
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := 0; i < len(scheduled); i += 500 {
				p.ZAddNX(ctx, scheduledSendsKey(tenantID), scheduled[i:min(i+500, len(scheduled))]...)
			}
			for i := 0; i < len(open); i += 500 {
				p.ZAddNX(ctx, openDeliveriesKey(tenantID), open[i:min(i+500, len(open))]...)
			}
			return nil
		})
		return err
	})
}

// mgetJSON reads the objects of ids, 500 keys an MGET, into a map by id;
// an id whose key is gone is left out.
func mgetJSON[T any](ctx context.Context, rdb redis.Cmdable, key func(tenantID, id string) string, tenantID string, ids []string) (map[string]*T, error) {
	out := make(map[string]*T, len(ids))
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		keys := make([]string, len(chunk))
		for i, id := range chunk {
			keys[i] = key(tenantID, id)
		}
		vals, err := rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			raw, ok := v.(string)
			if !ok {
				continue
			}
			obj := new(T)
			if err := decodeRecord([]byte(raw), obj); err != nil {
				return nil, fmt.Errorf("decode %s: %w", keys[i], err)
			}
			out[chunk[i]] = obj
		}
	}
	return out, nil
}
