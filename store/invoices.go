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

func invoiceKey(tenantID, id string) string { return tenantKey(tenantID, "inv", id) }

// draftsKey is a tenant's sorted set of drafts waiting for finalization,
// scored by the unix time their grace period ends.
func draftsKey(tenantID string) string { return tenantKey(tenantID, "drafts") }

// SaveDraft creates inv as a draft, or replaces an existing invoice with the
// same id if that one is still a draft (an idempotent upsert by the client's
// id). It fills CreatedAt, UpdatedAt and, for autoAdvance drafts, FinalizeAt
// = creation + grace; a replaced draft keeps its creation time and its
// FinalizeAt, and moves to the indexes of its new customer (see
// ListInvoices). It returns whether the invoice was created. Replacing an
// invoice that is no longer a draft is ErrConflict.
func (s *Store) SaveDraft(ctx context.Context, inv *invoice.Invoice, grace time.Duration) (created bool, err error) {
	key := invoiceKey(inv.TenantID, inv.ID)
	now := s.Now()
	// The first try expects no invoice: a new draft takes one round trip
	// (compareAndWrite), a replaced one two.
	var cur []byte
	for range maxTxRetries {
		var old invoice.Invoice
		before := &old
		if cur == nil {
			created, before = true, nil
			newDraft(inv, nil, now, grace)
		} else {
			if err := decodeRecord(cur, &old); err != nil {
				return false, fmt.Errorf("decode %s: %w", key, err)
			}
			if old.Status != invoice.StatusDraft {
				return false, fmt.Errorf("%w: invoice %s is %s; only drafts can be changed", ErrConflict, inv.ID, old.Status)
			}
			created = false
			newDraft(inv, &old, now, grace)
		}
		b, err := encodeRecord(inv)
		if err != nil {
			return false, err
		}
		res, err := s.compareAndWrite(ctx, key, cur, func(p redis.Pipeliner) error {
			putDraft(ctx, p, inv, before, b)
			return nil
		}, casOptions{})
		if err != nil {
			s.seen.drop(key)
			return false, fmt.Errorf("save invoice %s: %w", inv.ID, err)
		}
		if res.written {
			s.seen.put(key, b)
			return created, nil
		}
		cur = res.now
	}
	return false, fmt.Errorf("save invoice %s: too much contention", inv.ID)
}

// newDraft fills the stored fields of inv, a draft that replaces old (nil
// for a new one), as of now.
func newDraft(inv, old *invoice.Invoice, now time.Time, grace time.Duration) {
	if old == nil {
		inv.CreatedAt = now
		if inv.AutoAdvance {
			at := now.Add(grace)
			inv.FinalizeAt = &at
		}
	} else {
		inv.CreatedAt = old.CreatedAt
		inv.FinalizeAt = old.FinalizeAt
		if inv.AutoAdvance && inv.FinalizeAt == nil {
			at := now.Add(grace)
			inv.FinalizeAt = &at
		}
	}
	inv.Status = invoice.StatusDraft
	inv.UpdatedAt = now
	if !inv.AutoAdvance {
		inv.FinalizeAt = nil
	}
}

// putDraft queues the writes of the draft inv, encoded as b, that
// replaces old (nil for a new one).
func putDraft(ctx context.Context, p redis.Pipeliner, inv, old *invoice.Invoice, b []byte) {
	p.Set(ctx, invoiceKey(inv.TenantID, inv.ID), b, 0)
	indexInvoice(ctx, p, inv.TenantID, inv, old)
	if inv.FinalizeAt != nil {
		p.ZAdd(ctx, draftsKey(inv.TenantID), redis.Z{Score: float64(inv.FinalizeAt.Unix()), Member: inv.ID})
	} else {
		p.ZRem(ctx, draftsKey(inv.TenantID), inv.ID)
	}
}

// Invoice returns tenant's invoice id, or ErrNotFound.
func (s *Store) Invoice(ctx context.Context, tenantID, id string) (*invoice.Invoice, error) {
	var inv invoice.Invoice
	if err := s.getRecord(ctx, invoiceKey(tenantID, id), &inv); err != nil {
		return nil, err
	}
	inv.TenantID = tenantID
	return &inv, nil
}

// Finalize moves a draft to open, recording what finalized it ("api",
// "grace", "send"). It reports whether this call made the change: an
// invoice that is already open or paid is returned unchanged, so concurrent
// finalizations agree on one winner. A void invoice is ErrConflict. The
// caller records invoice.finalized (FinalizeWith records it with the
// change).
func (s *Store) Finalize(ctx context.Context, tenantID, id, by string) (*invoice.Invoice, bool, error) {
	inv, changed, _, err := s.finalize(ctx, tenantID, id, by, nil, false)
	return inv, changed, err
}

// FinalizeWith is Finalize that records invoice.finalized
// (FinalizedEventData) in the same step as the change, and returns the ids
// of its events whose fan-out to webhook endpoints is pending (see
// RecordEvents); then, if set, makes further changes to the invoice in
// the same write when this call finalizes it (such as the payment link
// made for it beforehand). then sees the invoice as finalizing makes it,
// and may run more than once.
func (s *Store) FinalizeWith(ctx context.Context, tenantID, id, by string, then func(inv *invoice.Invoice)) (inv *invoice.Invoice, finalized bool, fanout []string, err error) {
	return s.finalize(ctx, tenantID, id, by, then, true)
}

func (s *Store) finalize(ctx context.Context, tenantID, id, by string, then func(inv *invoice.Invoice), record bool) (inv *invoice.Invoice, changed bool, fanout []string, err error) {
	var before invoice.Invoice
	a := also[invoice.Invoice]{extra: func(p redis.Pipeliner, inv *invoice.Invoice) {
		p.ZRem(ctx, draftsKey(tenantID), id)
		indexInvoice(ctx, p, tenantID, inv, &before)
	}}
	if record {
		a.events = func(inv *invoice.Invoice) *eventBatch {
			if !changed {
				return nil
			}
			now := s.Now()
			return &eventBatch{tenantID: tenantID, at: now,
				events: newEvents(id, []string{EventInvoiceFinalized}, FinalizedEventData(inv), now)}
		}
	}
	inv, fanout, err = updateWith(ctx, s, invoiceKey(tenantID, id), func(inv *invoice.Invoice) error {
		changed, before = false, *inv
		switch inv.Status {
		case invoice.StatusDraft:
			now := s.Now()
			inv.Status = invoice.StatusOpen
			inv.FinalizedAt = &now
			inv.FinalizedBy = by
			inv.FinalizeAt = nil
			inv.UpdatedAt = now
			changed = true
			if then != nil {
				then(inv)
			}
			return nil
		case invoice.StatusVoid:
			return fmt.Errorf("%w: invoice %s is void", ErrConflict, id)
		}
		return nil
	}, a)
	if err != nil {
		return nil, false, nil, err
	}
	inv.TenantID = tenantID
	return inv, changed, fanout, nil
}

// FinalizedEventData is the data of inv's invoice.finalized: invoiceId,
// number, total, currency and finalizedBy.
func FinalizedEventData(inv *invoice.Invoice) map[string]any {
	return map[string]any{
		"invoiceId": inv.ID, "number": inv.Number, "total": inv.Total, "currency": inv.Currency,
		"finalizedBy": inv.FinalizedBy,
	}
}

// DraftsDue returns up to limit ids of tenant's autoAdvance drafts whose
// grace period ended at or before now.
func (s *Store) DraftsDue(ctx context.Context, tenantID string, now time.Time, limit int64) ([]string, error) {
	return s.rdb.ZRangeByScore(ctx, draftsKey(tenantID), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.Unix(), 10), Count: limit,
	}).Result()
}

// SetPaymentLink records the gateway's link for an invoice, or, with an
// empty url, why there is none yet.
func (s *Store) SetPaymentLink(ctx context.Context, tenantID, id, url, linkID string, expires *time.Time, problem string) (*invoice.Invoice, error) {
	inv, err := update(ctx, s, invoiceKey(tenantID, id), func(inv *invoice.Invoice) error {
		if url != "" {
			inv.PaymentLink, inv.PaymentLinkID, inv.PaymentLinkExpiresAt = url, linkID, expires
		}
		inv.PaymentLinkError = problem
		inv.UpdatedAt = s.Now()
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	inv.TenantID = tenantID
	return inv, nil
}

// Void moves a draft or open invoice to void: it is never finalized,
// sent or paid after that. It reports whether this call made the change;
// a void invoice is returned unchanged, a paid one or a credit note is
// ErrConflict. A
// voided draft leaves the index of drafts waiting to be finalized.
func (s *Store) Void(ctx context.Context, tenantID, id string) (*invoice.Invoice, bool, error) {
	changed := false
	var before invoice.Invoice
	inv, err := update(ctx, s, invoiceKey(tenantID, id), func(inv *invoice.Invoice) error {
		changed, before = false, *inv
		switch inv.Status {
		case invoice.StatusVoid:
			return nil
		case invoice.StatusDraft, invoice.StatusOpen:
			if inv.IsCreditNote() {
				return fmt.Errorf("%w: %s is a credit note; a credit note is not voided", ErrConflict, id)
			}
		default:
			return fmt.Errorf("%w: invoice %s is %s; only a draft or open invoice can be voided", ErrConflict, id, inv.Status)
		}
		now := s.Now()
		inv.Status, inv.VoidedAt, inv.UpdatedAt = invoice.StatusVoid, &now, now
		inv.FinalizeAt = nil
		changed = true
		return nil
	}, func(p redis.Pipeliner, inv *invoice.Invoice) {
		p.ZRem(ctx, draftsKey(tenantID), id)
		indexInvoice(ctx, p, tenantID, inv, &before)
		markFinal(ctx, p, tenantID, inv)
	})
	if err != nil {
		return nil, false, err
	}
	inv.TenantID = tenantID
	return inv, changed, nil
}

// PaymentLinkDeactivated records that the gateway switched off the link
// with linkID. It changes nothing if the invoice has another link now.
func (s *Store) PaymentLinkDeactivated(ctx context.Context, tenantID, id, linkID string) (*invoice.Invoice, error) {
	inv, err := update(ctx, s, invoiceKey(tenantID, id), func(inv *invoice.Invoice) error {
		if inv.PaymentLinkID != linkID || inv.PaymentLinkDeactivatedAt != nil {
			return errUnchanged
		}
		now := s.Now()
		inv.PaymentLinkDeactivatedAt, inv.PaymentLinkError, inv.UpdatedAt = &now, "", now
		return nil
	}, nil)
	if errors.Is(err, errUnchanged) {
		return s.Invoice(ctx, tenantID, id)
	}
	if err != nil {
		return nil, err
	}
	inv.TenantID = tenantID
	return inv, nil
}

// MarkPaid moves an open invoice to paid, recording what paid it: its
// amount due, less what credit notes took off, is added to amountPaid. It
// reports whether this call made the change; a paid invoice is returned
// unchanged, a draft, void one or a credit note is ErrConflict.
func (s *Store) MarkPaid(ctx context.Context, tenantID, id, by string) (*invoice.Invoice, bool, error) {
	changed := false
	var before invoice.Invoice
	inv, err := update(ctx, s, invoiceKey(tenantID, id), func(inv *invoice.Invoice) error {
		changed, before = false, *inv
		switch inv.Status {
		case invoice.StatusPaid:
			return nil
		case invoice.StatusOpen:
		default:
			return fmt.Errorf("%w: invoice %s is %s; only an open invoice can be paid", ErrConflict, id, inv.Status)
		}
		if inv.IsCreditNote() {
			return fmt.Errorf("%w: %s is a credit note; there is nothing to pay", ErrConflict, id)
		}
		now := s.Now()
		inv.Status, inv.PaidAt, inv.PaidBy, inv.UpdatedAt = invoice.StatusPaid, &now, by, now
		changed = true
		return invoice.PayInFull(inv)
	}, func(p redis.Pipeliner, inv *invoice.Invoice) {
		indexInvoice(ctx, p, tenantID, inv, &before)
		markFinal(ctx, p, tenantID, inv)
	})
	if err != nil {
		return nil, false, err
	}
	inv.TenantID = tenantID
	return inv, changed, nil
}
