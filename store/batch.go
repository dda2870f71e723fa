package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/invoice"
)

// batchChunk is how many invoices or sends one transaction of SaveDrafts
// or CreateSends writes, so a batch of a thousand never holds Redis for
// long or retries its whole read under contention.
const batchChunk = 100

// DraftResult is what SaveDrafts did with one invoice.
type DraftResult struct {
	// Created reports a new draft. False with a nil Existing, a draft
	// with the same id was replaced.
	Created bool
	// Existing is the stored invoice when it is no longer a draft;
	// nothing was written for it.
	Existing *invoice.Invoice
}

// SaveDrafts is SaveDraft for many invoices of one tenant, whose ids must
// be distinct, in a transaction of a round trip or two per batchChunk
// invoices. Each invoice is saved or not on its own: one that names an
// invoice no longer a draft is left as it is, and its DraftResult holds
// the stored one. The results are in the order of invs.
func (s *Store) SaveDrafts(ctx context.Context, tenantID string, invs []*invoice.Invoice, grace time.Duration) ([]DraftResult, error) {
	out := make([]DraftResult, len(invs))
	for start := 0; start < len(invs); start += batchChunk {
		chunk := invs[start:min(start+batchChunk, len(invs))]
		if err := s.saveDrafts(ctx, tenantID, chunk, grace, out[start:]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) saveDrafts(ctx context.Context, tenantID string, invs []*invoice.Invoice, grace time.Duration, out []DraftResult) error {
	keys := make([]string, len(invs))
	for i, inv := range invs {
		if inv.TenantID != tenantID {
			return fmt.Errorf("save invoice %s of tenant %s with those of %s", inv.ID, inv.TenantID, tenantID)
		}
		keys[i] = invoiceKey(tenantID, inv.ID)
	}
	now := s.Now()
	txf := func(tx *redis.Tx) error {
		vals, err := tx.MGet(ctx, keys...).Result()
		if err != nil {
			return fmt.Errorf("get invoices: %w", err)
		}
		enc := make([][]byte, len(invs))
		olds := make([]*invoice.Invoice, len(invs))
		for i, inv := range invs {
			out[i] = DraftResult{}
			raw, ok := vals[i].(string)
			if !ok {
				out[i].Created = true
				newDraft(inv, nil, now, grace)
			} else {
				var old invoice.Invoice
				if err := decodeRecord([]byte(raw), &old); err != nil {
					return fmt.Errorf("decode %s: %w", keys[i], err)
				}
				if old.Status != invoice.StatusDraft {
					old.TenantID = tenantID
					out[i].Existing = &old
					continue
				}
				newDraft(inv, &old, now, grace)
				olds[i] = &old
			}
			if enc[i], err = encodeRecord(inv); err != nil {
				return err
			}
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for i, inv := range invs {
				if enc[i] != nil {
					putDraft(ctx, p, inv, olds[i], enc[i])
				}
			}
			return nil
		})
		return err
	}
	return s.watch(ctx, txf, fmt.Sprintf("save %d invoices", len(invs)), keys...)
}

// CreateSends is CreateSend for many sends of one tenant, whose ids must
// be distinct, in a transaction of a round trip or two per batchChunk
// sends. It returns each send as stored and whether this call created
// it, in the order of sends: a send whose id exists is answered as it is.
func (s *Store) CreateSends(ctx context.Context, tenantID string, sends []*Send) ([]*Send, []bool, error) {
	out := make([]*Send, len(sends))
	created := make([]bool, len(sends))
	for start := 0; start < len(sends); start += batchChunk {
		end := min(start+batchChunk, len(sends))
		if err := s.createSends(ctx, tenantID, sends[start:end], out[start:end], created[start:end]); err != nil {
			return nil, nil, err
		}
	}
	return out, created, nil
}

func (s *Store) createSends(ctx context.Context, tenantID string, sends, out []*Send, created []bool) error {
	keys := make([]string, len(sends))
	for i, send := range sends {
		if send.TenantID != tenantID {
			return fmt.Errorf("create send %s of tenant %s with those of %s", send.ID, send.TenantID, tenantID)
		}
		keys[i] = sendKey(tenantID, send.ID)
	}
	txf := func(tx *redis.Tx) error {
		vals, err := tx.MGet(ctx, keys...).Result()
		if err != nil {
			return fmt.Errorf("get sends: %w", err)
		}
		now := s.Now()
		type fresh struct {
			send *Send
			b    []byte
			ds   []*Delivery
			due  time.Time
		}
		var writes []fresh
		for i, send := range sends {
			if raw, ok := vals[i].(string); ok {
				var old Send
				if err := decodeRecord([]byte(raw), &old); err != nil {
					return fmt.Errorf("decode %s: %w", keys[i], err)
				}
				old.TenantID = tenantID
				out[i], created[i] = &old, false
				continue
			}
			ds, due := newSend(send, now)
			b, err := encodeRecord(send)
			if err != nil {
				return err
			}
			writes = append(writes, fresh{send, b, ds, due})
			out[i], created[i] = send, true
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, w := range writes {
				if err := putSend(ctx, p, w.send, w.b, w.ds, w.due); err != nil {
					return err
				}
			}
			return nil
		})
		return err
	}
	return s.watch(ctx, txf, fmt.Sprintf("create %d sends", len(sends)), keys...)
}

// SendsByID returns those of tenant's sends ids that exist, by id.
func (s *Store) SendsByID(ctx context.Context, tenantID string, ids []string) (map[string]*Send, error) {
	sends, err := mgetJSON[Send](ctx, s.rdb, sendKey, tenantID, ids)
	if err != nil {
		return nil, fmt.Errorf("get sends: %w", err)
	}
	for _, send := range sends {
		send.TenantID = tenantID
	}
	return sends, nil
}
