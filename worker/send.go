package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

var zeroTime time.Time

// SendHandler starts a send: it finalizes a draft first, then queues the
// send's deliveries. A canceled send does nothing; a retried one resumes
// where it stopped, since each delivery is queued under its own task id.
type SendHandler struct{ w *Worker }

// ProcessTask handles tasks.TypeSend.
func (h *SendHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.SendPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	log := h.w.logFrom(ctx)
	st := h.w.cfg.Store
	// The send, its invoice, its deliveries and the settings are read in
	// one round trip first; the send's start, the invoice's finalization
	// and the deliveries' claims then write from what was read (a change
	// made in between makes them read again).
	var inv *invoice.Invoice
	var settings *store.Settings
	read := map[string]*store.Delivery{}
	if p.InvoiceID != "" {
		if _, jobInv, ds, jobSettings, err := st.StartJob(ctx, p.TenantID, p.SendID, p.InvoiceID, p.DeliveryIDs); err == nil {
			inv, settings = jobInv, &jobSettings
			for _, d := range ds {
				read[d.ID] = d
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	send, err := st.StartSend(ctx, p.TenantID, p.SendID)
	switch {
	case errors.Is(err, store.ErrConflict):
		log.Info("send canceled before it started")
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("send %s: %w: %w", p.SendID, err, asynq.SkipRetry)
	case err != nil:
		return err
	}

	if inv == nil || inv.ID != send.InvoiceID {
		if inv, err = st.Invoice(ctx, p.TenantID, send.InvoiceID); err != nil {
			return fmt.Errorf("load invoice: %w", err)
		}
	}
	if skipped, err := h.skipReminder(ctx, send, inv); skipped || err != nil {
		return err
	}
	linked := false
	if inv.Status == invoice.StatusDraft {
		var finalized bool
		inv, finalized, linked, err = h.finalize(ctx, inv, settings)
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("finalize before send: %w", err)
		}
		if finalized {
			h.w.emitFinalized(ctx, inv, settings)
		}
	}
	if inv == nil || !inv.Status.Sendable() {
		return h.failAll(ctx, send, "the invoice is void and cannot be sent")
	}
	if !linked {
		inv = h.w.linkBeforeSending(ctx, inv, settings)
	}

	// A send never scheduled made its deliveries queued: they need no
	// transition, and one no longer queued (sent by an earlier run of
	// this task) is left be. Each queued one gets its first attempt here
	// (see deliverInPlace).
	queued, made := send.QueuedDeliveries()
	for _, id := range send.DeliveryIDs {
		var d *store.Delivery
		if made {
			if _, ok := queued[id]; !ok {
				continue
			}
			if d = read[id]; d == nil || d.SendID != send.ID {
				if d, err = st.Delivery(ctx, p.TenantID, id); err != nil {
					return err
				}
			}
		} else if d, _, err = st.Transition(ctx, p.TenantID, id, store.DeliveryQueued, "worker", "", nil); err != nil {
			return err
		}
		if d.Status != store.DeliveryQueued {
			continue // canceled, or already delivered by an earlier run
		}
		if settings == nil {
			s, err := st.Settings(ctx, p.TenantID)
			if err != nil {
				return err
			}
			settings = &s
		}
		job := deliveryJob{delivery: d, send: send, invoice: inv, settings: *settings}
		if err := h.w.deliverInPlace(ctx, job); err != nil {
			return err
		}
	}
	log.Debug("send started", zap.Int("deliveries", len(send.DeliveryIDs)))
	return nil
}

// finalize finalizes the draft inv and stores its payment link (or why
// there is none) in the same write: the gateway is asked first, for the
// invoice as finalizing makes it. It reports whether the link went with
// the finalization; it did not when another finalized the invoice first,
// or changed what the link was asked for while the gateway answered, and
// then the caller gives it its link as any open invoice (linkBeforeSending).
// A link made for an invoice voided meanwhile is stored and switched off,
// as ensurePaymentLink does.
func (h *SendHandler) finalize(ctx context.Context, draft *invoice.Invoice, settings *store.Settings) (inv *invoice.Invoice, finalized, linked bool, err error) {
	w := h.w
	open := *draft
	open.Status = invoice.StatusOpen
	linkCtx, cancel := context.WithTimeout(ctx, linkWaitBeforeSend)
	o, _ := w.newPaymentLink(linkCtx, &open, settings)
	cancel()
	var fanout []string
	inv, finalized, fanout, err = w.cfg.Store.FinalizeWith(ctx, draft.TenantID, draft.ID, "send", func(inv *invoice.Invoice) {
		linked = false
		if o == nil || !inv.Payable() || !sameLinkRequest(inv, &open) {
			return // the invoice changed since the gateway was asked
		}
		if o.link != nil {
			inv.PaymentLink, inv.PaymentLinkID, inv.PaymentLinkExpiresAt = o.link.URL, o.link.ID, o.link.ExpiresAt
		}
		inv.PaymentLinkError = o.problem
		linked = true
	})
	if errors.Is(err, store.ErrConflict) && o != nil && o.link != nil {
		if stored, serr := w.cfg.Store.SetPaymentLink(ctx, draft.TenantID, draft.ID, o.link.URL, o.link.ID, o.link.ExpiresAt, ""); serr == nil {
			w.queueDeactivateLink(ctx, stored)
		}
	}
	w.fanOut(ctx, draft.TenantID, fanout)
	linked = linked && finalized && err == nil
	switch {
	case !linked:
	case o.err != nil:
		w.logFrom(ctx).Warn("payment link not created before sending", zap.Error(o.err))
		w.queuePaymentLink(ctx, inv)
	case o.link != nil:
		w.logFrom(ctx).Info("payment link created", zap.String("gateway", o.gateway))
	}
	return inv, finalized, linked, err
}

// sameLinkRequest reports whether a and b ask a gateway for the same
// payment link: what paymentRequest, publicURL and linkKey read of them
// is the same.
func sameLinkRequest(a, b *invoice.Invoice) bool {
	return a.ID == b.ID && a.AmountDue == b.AmountDue && a.Currency == b.Currency && a.Number == b.Number &&
		a.Customer.Name == b.Customer.Name && a.Customer.Email == b.Customer.Email &&
		a.DueDate == b.DueDate && a.IssueDate == b.IssueDate && a.CreatedAt.Equal(b.CreatedAt) &&
		a.PaymentLink == b.PaymentLink && sameTime(a.PaymentLinkExpiresAt, b.PaymentLinkExpiresAt)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func (h *SendHandler) failAll(ctx context.Context, send *store.Send, reason string) error {
	for _, id := range send.DeliveryIDs {
		d, changed, err := h.w.cfg.Store.Transition(ctx, send.TenantID, id, store.DeliveryFailed, "worker", reason, nil)
		if err != nil {
			return err
		}
		if changed {
			h.w.emitDelivery(ctx, d)
		}
	}
	return nil
}
