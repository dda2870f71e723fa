package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/invoice"
)

// creditNumbersKey is a tenant's hash of credit note numbers to the ids of
// their credit notes.
func creditNumbersKey(tenantID string) string { return tenantKey(tenantID, "creditnumbers") }

// ErrNotCreditable is returned by CreateCreditNote for an invoice that
// cannot be credited: a draft, which is not issued yet, or a credit note.
var ErrNotCreditable = errors.New("not creditable")

// CreateCreditNote stores the credit note cn, computed and validated,
// and records it on the invoice it corrects (cn.Corrects.ID), both in one
// transaction: the credit note is issued at once (open, finalized by
// "api"), and the invoice's amountCredited goes up and its amountDue down
// by cn's total (invoice.Credit). An invoice that had a payment link loses
// it, since the link asks for the amount due before the credit; the
// returned oldLinkID is that link's gateway id, for the caller to switch
// off, and the caller asks for a new link when something is left to pay.
//
// A draft or a credit note is ErrNotCreditable; a void invoice, an id
// already taken, or a number that another of the tenant's credit notes or
// the corrected invoice has, is ErrConflict; a credit beyond what is left
// uncredited is invoice.ErrOverCredit.
func (s *Store) CreateCreditNote(ctx context.Context, cn *invoice.Invoice) (credited *invoice.Invoice, oldLinkID string, err error) {
	if cn.Corrects == nil {
		return nil, "", errors.New("store: the credit note corrects no invoice")
	}
	tenantID := cn.TenantID
	origKey, cnKey, numbersKey := invoiceKey(tenantID, cn.Corrects.ID), invoiceKey(tenantID, cn.ID), creditNumbersKey(tenantID)
	txf := func(tx *redis.Tx) error {
		orig := new(invoice.Invoice)
		if err := getJSON(ctx, tx, origKey, orig); err != nil {
			return err
		}
		switch {
		case orig.IsCreditNote():
			return fmt.Errorf("%w: %s is a credit note; only an invoice is credited", ErrNotCreditable, orig.ID)
		case orig.Status == invoice.StatusDraft:
			return fmt.Errorf("%w: invoice %s is a draft; finalize it before crediting it", ErrNotCreditable, orig.ID)
		case orig.Status == invoice.StatusVoid:
			return fmt.Errorf("%w: invoice %s is void; a void invoice is not credited", ErrConflict, orig.ID)
		case orig.Number == cn.Number:
			return fmt.Errorf("%w: number %s is the corrected invoice's own; a credit note has its own number", ErrConflict, cn.Number)
		}
		n, err := tx.Exists(ctx, cnKey).Result()
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: id %s is taken", ErrConflict, cn.ID)
		}
		other, err := tx.HGet(ctx, numbersKey, cn.Number).Result()
		switch {
		case err == nil:
			return fmt.Errorf("%w: number %s is credit note %s's", ErrConflict, cn.Number, other)
		case !errors.Is(err, redis.Nil):
			return err
		}
		if err := invoice.Credit(orig, cn); err != nil {
			return err
		}
		now := s.Now()
		cn.Corrects = &invoice.Reference{ID: orig.ID, Number: orig.Number, IssueDate: orig.IssueDate}
		cn.Status, cn.CreatedAt, cn.UpdatedAt = invoice.StatusOpen, now, now
		cn.FinalizedAt, cn.FinalizedBy = &now, "api"
		cn.AutoAdvance, cn.FinalizeAt = false, nil
		oldLinkID = ""
		if orig.PaymentLink != "" {
			oldLinkID = orig.PaymentLinkID
			orig.PaymentLink, orig.PaymentLinkID, orig.PaymentLinkExpiresAt = "", "", nil
			orig.PaymentLinkError, orig.PaymentLinkDeactivatedAt = "", nil
		}
		orig.UpdatedAt = now
		cnJSON, err := encodeRecord(cn)
		if err != nil {
			return err
		}
		origJSON, err := encodeRecord(orig)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, cnKey, cnJSON, 0)
			p.Set(ctx, origKey, origJSON, redis.KeepTTL)
			p.HSet(ctx, numbersKey, cn.Number, cn.ID)
			indexInvoice(ctx, p, tenantID, cn, nil)
			markFinal(ctx, p, tenantID, cn)
			return nil
		})
		orig.TenantID = tenantID
		credited = orig
		return err
	}
	if err := s.watch(ctx, txf, "create credit note "+cn.ID, origKey, cnKey, numbersKey); err != nil {
		return nil, "", err
	}
	return credited, oldLinkID, nil
}
