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
	// The send, its invoice and the settings are read in one round trip
	// first; the send's start and the invoice's finalization then write
	// from what was read (a change made in between makes them read again).
	var inv *invoice.Invoice
	var settings *store.Settings
	if p.InvoiceID != "" {
		if _, jobInv, jobSettings, err := st.SendJob(ctx, p.TenantID, p.SendID, p.InvoiceID); err == nil {
			inv, settings = jobInv, &jobSettings
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
	if inv.Status == invoice.StatusDraft {
		var finalized bool
		inv, finalized, err = st.Finalize(ctx, p.TenantID, inv.ID, "send")
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
	h.w.linkBeforeSending(ctx, inv, settings)

	// A send never scheduled made its deliveries queued: they need no
	// transition, and one no longer queued (sent by an earlier run of
	// this task) finds its task does nothing.
	queued, made := send.QueuedDeliveries()
	for _, id := range send.DeliveryIDs {
		channel, ok := queued[id]
		if !made {
			d, _, err := st.Transition(ctx, p.TenantID, id, store.DeliveryQueued, "worker", "", nil)
			if err != nil {
				return err
			}
			if d.Status != store.DeliveryQueued {
				continue // canceled, or already delivered by an earlier run
			}
			channel, ok = d.Channel, true
		}
		if !ok {
			continue
		}
		payload := tasks.DeliveryPayload{TenantID: p.TenantID, DeliveryID: id, SendID: send.ID, InvoiceID: send.InvoiceID}
		err = enqueue(ctx, h.w.cfg.Enqueuer, func() (*asynq.Task, error) {
			retries := asynq.MaxRetry(h.w.cfg.MaxDeliveryRetries)
			if channel == store.ChannelSMS {
				return tasks.NewDeliverySMSTask(payload, retries)
			}
			return tasks.NewDeliveryEmailTask(payload, retries)
		})
		if err != nil {
			return err
		}
	}
	log.Debug("send started", zap.Int("deliveries", len(send.DeliveryIDs)))
	return nil
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
