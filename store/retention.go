package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/invoice"
)

// Retention bounds, in days, of a tenant's defaults.retentionDays.
const (
	DefaultRetentionDays = 90
	MinRetentionDays     = 7
	MaxRetentionDays     = 3650
)

// finalKey indexes a tenant's invoices that reached a final state, scored
// by when (Unix milliseconds): paid, void, or a credit note issued. An
// open invoice is not final, however long it stays unpaid: it is kept
// while it is open. Drafts are not final either.
func finalKey(tenantID string) string { return tenantKey(tenantID, "final") }

// finalIndexedKey marks a tenant whose final invoices are all in
// finalKey: every tenant created since the index exists, and older ones
// once indexFinal has run.
func finalIndexedKey(tenantID string) string { return tenantKey(tenantID, "final-indexed") }

// finalAt returns when inv reached its final state, and whether it has.
func finalAt(inv *invoice.Invoice) (time.Time, bool) {
	switch {
	case inv.Status == invoice.StatusPaid && inv.PaidAt != nil:
		return *inv.PaidAt, true
	case inv.Status == invoice.StatusVoid && inv.VoidedAt != nil:
		return *inv.VoidedAt, true
	case inv.IsCreditNote() && inv.Status != invoice.StatusDraft:
		return inv.CreatedAt, true
	}
	return time.Time{}, false
}

// markFinal queues, in p, inv's entry in the final index if it is final.
func markFinal(ctx context.Context, p redis.Pipeliner, tenantID string, inv *invoice.Invoice) {
	if at, ok := finalAt(inv); ok {
		p.ZAddNX(ctx, finalKey(tenantID), redis.Z{Score: float64(at.UnixMilli()), Member: inv.ID})
	}
}

// indexFinal builds, once, the final index of a tenant whose invoices
// predate it (see buildOnce).
func (s *Store) indexFinal(ctx context.Context, tenantID string) error {
	return s.buildOnce(ctx, tenantID, finalIndexedKey(tenantID), func() error {
		ids, err := s.scanIDs(ctx, tenantID, invoiceKey(tenantID, ""))
		if err != nil {
			return err
		}
		invs, err := mgetJSON[invoice.Invoice](ctx, s.rdb, invoiceKey, tenantID, ids)
		if err != nil {
			return err
		}
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, inv := range invs {
				markFinal(ctx, p, tenantID, inv)
			}
			return nil
		})
		return err
	})
}

// ExpireInvoices deletes up to limit of tenant's invoices that became
// final before before, oldest first, with everything that names them: the
// invoice, its sends and deliveries (with their status history), its list
// of deliveries, and its entries in the invoice list, the drafts, the
// scheduled sends, the open deliveries and the delivery log. It returns
// how many it deleted. Its cost is in the number expired, not in the
// tenant's keyspace. Events, webhook attempts, provider message ids and
// idempotency records expire by their own key TTLs; the suppression list
// and the tenant's settings are kept.
func (s *Store) ExpireInvoices(ctx context.Context, tenantID string, before time.Time, limit int64) (int, error) {
	if err := s.indexFinal(ctx, tenantID); err != nil {
		return 0, err
	}
	ids, err := s.rdb.ZRangeByScore(ctx, finalKey(tenantID), &redis.ZRangeBy{
		Min: "-inf", Max: "(" + strconv.FormatInt(before.UnixMilli(), 10), Count: limit,
	}).Result()
	if err != nil {
		return 0, fmt.Errorf("expire invoices: %w", err)
	}
	for _, id := range ids {
		if err := s.expireInvoice(ctx, tenantID, id); err != nil {
			return 0, fmt.Errorf("expire invoice %s: %w", id, err)
		}
	}
	return len(ids), nil
}

// deliveryStatuses lists every status, for removing a delivery from each
// status's set of the delivery log: one left behind in an old status's set
// (see indexDeliveryLog) goes too.
var deliveryStatuses = []DeliveryStatus{
	DeliveryScheduled, DeliveryQueued, DeliverySent, DeliveryDelivered, DeliveryOpened,
	DeliveryClicked, DeliveryBounced, DeliveryFailed, DeliveryCanceled,
}

// expireInvoice deletes one final invoice and what names it, in one
// transaction that a delivery added meanwhile makes run again.
func (s *Store) expireInvoice(ctx context.Context, tenantID, id string) error {
	invKey, listKey := invoiceKey(tenantID, id), invoiceDeliveriesKey(tenantID, id)
	txf := func(tx *redis.Tx) error {
		var inv invoice.Invoice
		err := getJSON(ctx, tx, invKey, &inv)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if _, final := finalAt(&inv); err == nil && !final {
			// Not final (any more): it leaves the index and stays.
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.ZRem(ctx, finalKey(tenantID), id)
				return nil
			})
			return err
		}
		dlvIDs, err := tx.LRange(ctx, listKey, 0, -1).Result()
		if err != nil {
			return err
		}
		ds, err := mgetJSON[Delivery](ctx, tx, deliveryKey, tenantID, dlvIDs)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, invKey, listKey)
			p.ZRem(ctx, finalKey(tenantID), id)
			p.ZRem(ctx, invoicesKey(tenantID), id)
			for _, k := range invoiceIndexKeys(tenantID, &inv) {
				p.ZRem(ctx, k, id)
			}
			p.ZRem(ctx, draftsKey(tenantID), id)
			if inv.IsCreditNote() && inv.Number != "" {
				p.HDel(ctx, creditNumbersKey(tenantID), inv.Number)
			}
			sends := map[string]bool{}
			for _, did := range dlvIDs {
				p.Del(ctx, deliveryKey(tenantID, did))
				p.ZRem(ctx, openDeliveriesKey(tenantID), did)
				d, ok := ds[did]
				if !ok {
					unlogDelivery(ctx, p, tenantID, did, "")
					continue
				}
				unlogDelivery(ctx, p, tenantID, did, d.Channel)
				if !sends[d.SendID] {
					sends[d.SendID] = true
					p.Del(ctx, sendKey(tenantID, d.SendID))
					p.ZRem(ctx, scheduledSendsKey(tenantID), d.SendID)
				}
			}
			return nil
		})
		return err
	}
	return s.watch(ctx, txf, "expire", invKey, listKey)
}
