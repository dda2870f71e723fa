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
// milliseconds) in one sorted set per status and channel, a delivery in
// exactly one of them (Transition moves it). A query reads the sets its
// filters select — one for a status and a channel, up to all eighteen for
// none — and merges them a page at a time: a page costs O(sets × (log n +
// page)), however many deliveries the tenant has, and a delivery costs one
// index entry.

// deliveryLogKey is the index of the deliveries with status and channel.
func deliveryLogKey(tenantID string, status DeliveryStatus, channel Channel) string {
	return tenantKey(tenantID, "dlv-log", string(status), string(channel))
}

// deliveryChannels are the channels a delivery may have.
var deliveryChannels = []Channel{ChannelEmail, ChannelSMS}

// deliveryLogIndexedKey marks a tenant whose deliveries are all in the
// delivery log: every tenant created since it exists, and older ones once
// indexDeliveryLog has run.
func deliveryLogIndexedKey(tenantID string) string { return tenantKey(tenantID, "dlv-log-indexed") }

// logDelivery adds d, in status, to the delivery log in p.
func logDelivery(ctx context.Context, p redis.Pipeliner, d *Delivery, status DeliveryStatus) {
	p.ZAdd(ctx, deliveryLogKey(d.TenantID, status, d.Channel), redis.Z{Score: float64(d.CreatedAt.UnixMilli()), Member: d.ID})
}

// moveInDeliveryLog moves d from status from's set to its current
// status's.
func moveInDeliveryLog(ctx context.Context, p redis.Pipeliner, d *Delivery, from DeliveryStatus) {
	p.ZRem(ctx, deliveryLogKey(d.TenantID, from, d.Channel), d.ID)
	logDelivery(ctx, p, d, d.Status)
}

// unlogDelivery removes delivery id of channel (any, when empty) from the
// delivery log in p.
func unlogDelivery(ctx context.Context, p redis.Pipeliner, tenantID, id string, channel Channel) {
	channels := deliveryChannels
	if channel != "" {
		channels = []Channel{channel}
	}
	for _, st := range deliveryStatuses {
		for _, ch := range channels {
			p.ZRem(ctx, deliveryLogKey(tenantID, st, ch), id)
		}
	}
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
	var sets []logSet
	for _, st := range deliveryStatuses {
		for _, ch := range deliveryChannels {
			if (q.Status == "" || q.Status == st) && (q.Channel == "" || q.Channel == ch) {
				sets = append(sets, logSet{key: deliveryLogKey(tenantID, st, ch), status: st})
			}
		}
	}
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
	m := &logMerge{s: s, sets: sets, lo: lo, hi: hi, oldest: q.Oldest, batch: int64(q.Limit + 1)}
	var out []*Delivery
	for {
		// The next candidates, as many as the page still needs.
		var ids []string
		var from []DeliveryStatus
		for len(ids) < q.Limit+1-len(out) {
			z, st, ok, err := m.next(ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("query deliveries: %w", err)
			}
			if !ok {
				break
			}
			id := z.Member.(string)
			if q.After != nil && int64(z.Score) == q.After.At.UnixMilli() && seen(id, q.After.ID, q.Oldest) {
				continue // on an earlier page
			}
			ids, from = append(ids, id), append(from, st)
		}
		if len(ids) == 0 {
			return out, nil, nil
		}
		ds, err := mgetJSON[Delivery](ctx, s.rdb, deliveryKey, tenantID, ids)
		if err != nil {
			return nil, nil, err
		}
		for i, id := range ids {
			d, ok := ds[id]
			if !ok || d.Status != from[i] {
				continue // gone, or left behind in a status set
			}
			d.TenantID = tenantID
			if len(out) == q.Limit {
				last := out[q.Limit-1]
				return out, &DeliveryCursor{At: last.CreatedAt, ID: last.ID}, nil
			}
			out = append(out, d)
		}
	}
}

// logSet is one sorted set of the delivery log a query reads, with what it
// has read of it and not yet used.
type logSet struct {
	key    string
	status DeliveryStatus
	offset int64
	buf    []redis.Z
	done   bool
}

// logMerge yields the members of sets in the log's order: newest first
// (by score, then member backwards, as ZREVRANGEBYSCORE gives them), or
// oldest first, reading each set batch members at a time.
type logMerge struct {
	s      *Store
	sets   []logSet
	lo, hi string
	oldest bool
	batch  int64
}

// next returns the next member and the status of its set, or ok false when
// every set is read.
func (m *logMerge) next(ctx context.Context) (z redis.Z, status DeliveryStatus, ok bool, err error) {
	if err := m.refill(ctx); err != nil {
		return z, "", false, err
	}
	best := -1
	for i := range m.sets {
		if len(m.sets[i].buf) > 0 && (best < 0 || m.before(m.sets[i].buf[0], m.sets[best].buf[0])) {
			best = i
		}
	}
	if best < 0 {
		return z, "", false, nil
	}
	z = m.sets[best].buf[0]
	m.sets[best].buf = m.sets[best].buf[1:]
	return z, m.sets[best].status, true, nil
}

// refill reads the next batch of every set whose buffer is empty, in one
// pipeline.
func (m *logMerge) refill(ctx context.Context) error {
	var cmds []*redis.ZSliceCmd
	var which []int
	p := m.s.rdb.Pipeline()
	for i := range m.sets {
		set := &m.sets[i]
		if len(set.buf) > 0 || set.done {
			continue
		}
		by := &redis.ZRangeBy{Min: m.lo, Max: m.hi, Offset: set.offset, Count: m.batch}
		if m.oldest {
			cmds = append(cmds, p.ZRangeByScoreWithScores(ctx, set.key, by))
		} else {
			cmds = append(cmds, p.ZRevRangeByScoreWithScores(ctx, set.key, by))
		}
		which = append(which, i)
	}
	if len(cmds) == 0 {
		return nil
	}
	if _, err := p.Exec(ctx); err != nil {
		return err
	}
	for j, cmd := range cmds {
		set := &m.sets[which[j]]
		set.buf = cmd.Val()
		set.offset += int64(len(set.buf))
		set.done = int64(len(set.buf)) < m.batch
	}
	return nil
}

// before reports whether a comes before b in the merge's order.
func (m *logMerge) before(a, b redis.Z) bool {
	if a.Score != b.Score {
		return (a.Score < b.Score) == m.oldest
	}
	return (a.Member.(string) < b.Member.(string)) == m.oldest
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
