package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/invoice"
)

// invoicesKey indexes a tenant's invoices by creation time (Unix
// milliseconds), for listing them newest first.
func invoicesKey(tenantID string) string { return tenantKey(tenantID, "invoices") }

// invoicesIndexedKey marks a tenant whose invoices are all in invoicesKey:
// every tenant created since the index exists, and older ones once the
// index has been built from their keys (see indexInvoices).
func invoicesIndexedKey(tenantID string) string { return tenantKey(tenantID, "invoices-indexed") }

// InvoiceQuery selects a page of a tenant's invoices, newest first.
type InvoiceQuery struct {
	// Status keeps only invoices in that status; empty keeps all.
	Status invoice.Status
	// Limit is the most invoices a page holds. Defaults to 20.
	Limit int
	// After is the cursor of the page before (InvoicePage.NextCursor): the
	// page starts after that invoice. Empty starts at the newest.
	After string
}

// maxListScan bounds how many invoices one page looks at per invoice it
// may return, so a filter that matches few costs a bounded amount: the
// page may then hold fewer than Limit, with a cursor to go on from.
const maxListScan = 10

// InvoicePage is one page of invoices, newest first.
type InvoicePage struct {
	Invoices []*invoice.Invoice
	// NextCursor continues the listing (InvoiceQuery.After); empty when
	// there is nothing after this page.
	NextCursor string
}

// ErrBadCursor is returned by ListInvoices for a cursor that names no
// invoice of the tenant.
var ErrBadCursor = errors.New("cursor names no invoice")

// ListInvoices returns a page of tenant's invoices, newest first.
func (s *Store) ListInvoices(ctx context.Context, tenantID string, q InvoiceQuery) (*InvoicePage, error) {
	if q.Limit <= 0 {
		q.Limit = 20
	}
	if err := s.indexInvoices(ctx, tenantID); err != nil {
		return nil, err
	}
	key := invoicesKey(tenantID)
	maxScore := "+inf"
	var afterScore float64
	if q.After != "" {
		sc, err := s.rdb.ZScore(ctx, key, q.After).Result()
		if errors.Is(err, redis.Nil) {
			return nil, ErrBadCursor
		}
		if err != nil {
			return nil, fmt.Errorf("list invoices: %w", err)
		}
		afterScore, maxScore = sc, fmt.Sprint(int64(sc))
	}
	page := &InvoicePage{Invoices: []*invoice.Invoice{}}
	budget := q.Limit * maxListScan
	batch := int64(min(max(q.Limit*2, 50), 500))
	var last string
	for offset := int64(0); budget > 0; offset += batch {
		zs, err := s.rdb.ZRevRangeByScoreWithScores(ctx, key, &redis.ZRangeBy{Max: maxScore, Min: "-inf", Offset: offset, Count: batch}).Result()
		if err != nil {
			return nil, fmt.Errorf("list invoices: %w", err)
		}
		var ids []string
		for _, z := range zs {
			id := z.Member.(string)
			// Invoices created in the cursor's millisecond come in
			// descending id order; those up to the cursor were on
			// earlier pages.
			if q.After != "" && z.Score == afterScore && id >= q.After {
				continue
			}
			ids = append(ids, id)
		}
		invs, err := s.invoices(ctx, tenantID, ids)
		if err != nil {
			return nil, err
		}
		for i, inv := range invs {
			if budget == 0 {
				page.NextCursor = last
				return page, nil
			}
			budget--
			last = ids[i]
			if inv == nil || (q.Status != "" && inv.Status != q.Status) {
				continue
			}
			if len(page.Invoices) == q.Limit {
				// One more matches: there is a next page.
				page.NextCursor = page.Invoices[q.Limit-1].ID
				return page, nil
			}
			page.Invoices = append(page.Invoices, inv)
		}
		if int64(len(zs)) < batch {
			return page, nil // the end of the index
		}
	}
	page.NextCursor = last
	return page, nil
}

// invoices reads ids with one MGET; an invoice that is gone is nil.
func (s *Store) invoices(ctx context.Context, tenantID string, ids []string) ([]*invoice.Invoice, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = invoiceKey(tenantID, id)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("list invoices: %w", err)
	}
	out := make([]*invoice.Invoice, len(ids))
	for i, v := range vals {
		raw, ok := v.(string)
		if !ok {
			continue
		}
		inv := new(invoice.Invoice)
		if err := decodeRecord([]byte(raw), inv); err != nil {
			return nil, fmt.Errorf("decode invoice %s: %w", ids[i], err)
		}
		inv.TenantID = tenantID
		out[i] = inv
	}
	return out, nil
}

// indexInvoices builds the invoice index of a tenant created before it
// existed, once, from the tenant's invoice keys (see buildOnce). Invoices
// saved meanwhile index themselves, so the two never disagree.
func (s *Store) indexInvoices(ctx context.Context, tenantID string) error {
	return s.buildOnce(ctx, tenantID, invoicesIndexedKey(tenantID), func() error {
		ids, err := s.scanIDs(ctx, tenantID, invoiceKey(tenantID, ""))
		if err != nil {
			return err
		}
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), 500)]
			ids = ids[len(chunk):]
			invs, err := s.invoices(ctx, tenantID, chunk)
			if err != nil {
				return err
			}
			var zs []redis.Z
			for _, inv := range invs {
				if inv != nil {
					zs = append(zs, redis.Z{Score: float64(inv.CreatedAt.UnixMilli()), Member: inv.ID})
				}
			}
			if len(zs) > 0 {
				if err := s.rdb.ZAddNX(ctx, invoicesKey(tenantID), zs...).Err(); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// buildOnce runs build unless marker is set, then sets it: the one-time
// building of an index for a tenant whose data predates it. Tenants
// created since have every marker from the start (CreateTenant).
func (s *Store) buildOnce(ctx context.Context, tenantID, marker string, build func() error) error {
	n, err := s.rdb.Exists(ctx, marker).Result()
	if err == nil && n == 0 {
		if err = build(); err == nil {
			err = s.rdb.Set(ctx, marker, "1", 0).Err()
		}
	}
	if err != nil {
		return fmt.Errorf("build index %s: %w", marker, err)
	}
	return nil
}

// scanIDs returns the ids of tenant's keys prefix+id, from a SCAN of the
// one node that holds the tenant's slot; a key further below (an invoice's
// delivery list, "…:inv:ID:dlv") is not taken.
func (s *Store) scanIDs(ctx context.Context, tenantID, prefix string) ([]string, error) {
	var node redis.Cmdable = s.rdb
	if c, ok := s.rdb.(*redis.ClusterClient); ok {
		var err error
		if node, err = c.MasterForKey(ctx, prefix); err != nil {
			return nil, err
		}
	}
	iter := node.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var ids []string
	for iter.Next(ctx) {
		if id := strings.TrimPrefix(iter.Val(), prefix); id != "" && !strings.Contains(id, ":") {
			ids = append(ids, id)
		}
	}
	return ids, iter.Err()
}
