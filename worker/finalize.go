package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// FinalizeHandler finalizes a draft whose grace period has passed and, when
// the tenant's auto-email is on, emails it to the customer exactly once.
type FinalizeHandler struct{ w *Worker }

// ProcessTask handles tasks.TypeFinalize.
func (h *FinalizeHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.FinalizePayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	log := h.w.logFrom(ctx)
	inv, changed, fanout, err := h.w.cfg.Store.FinalizeWith(ctx, p.TenantID, p.InvoiceID, "grace", nil)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
		log.Info("invoice not finalized", zap.Error(err))
		return nil
	case err != nil:
		return fmt.Errorf("finalize: %w", err)
	}
	if changed {
		log.Info("invoice finalized", zap.String("reason", p.Reason))
		h.w.fanOut(ctx, p.TenantID, fanout)
		h.w.emitFinalized(ctx, inv, nil)
	}
	// A rerun after a crash between the transition and the auto-send still
	// sends: the send's id is derived from the invoice, so it is created once.
	if inv.FinalizedBy != "grace" {
		return nil
	}
	h.w.linkBeforeSending(ctx, inv, nil)
	return h.autoSend(ctx, log, inv)
}

// autoSendID is the id of the one automatic send of an invoice.
func autoSendID(invoiceID string) string { return "snd_auto_" + invoiceID }

func (h *FinalizeHandler) autoSend(ctx context.Context, log *zap.Logger, inv *invoice.Invoice) error {
	settings, err := h.w.cfg.Store.Settings(ctx, inv.TenantID)
	if err != nil {
		return err
	}
	if !settings.Defaults.AutoEmail() {
		return nil
	}
	if inv.Customer.Email == "" {
		log.Info("auto-email skipped: the customer has no email address")
		return nil
	}
	if other, err := h.pendingEmailSend(ctx, inv); err != nil {
		return err
	} else if other != "" {
		log.Info("auto-email skipped: a send not yet made will email the invoice", zap.String("send_id", other))
		return nil
	}
	send, _, err := h.w.cfg.Store.CreateSend(ctx, &store.Send{
		ID:        autoSendID(inv.ID),
		TenantID:  inv.TenantID,
		InvoiceID: inv.ID,
		Kind:      store.SendKindAuto,
		Channels:  []store.Channel{store.ChannelEmail},
		Email:     inv.Customer.Email,
		AttachPDF: true,
		Language:  inv.Language,
	})
	if err != nil {
		return fmt.Errorf("create auto send: %w", err)
	}
	if send.Status != store.SendQueued {
		return nil
	}
	return enqueue(ctx, h.w.cfg.Enqueuer, func() (*asynq.Task, error) {
		return tasks.NewSendTask(tasks.SendPayload{TenantID: inv.TenantID, InvoiceID: inv.ID, SendID: send.ID, DeliveryIDs: send.DeliveryIDs}, zeroTime)
	})
}

// pendingEmailSend returns the id of a send of inv, other than its
// auto-send, that will email it and has not yet (test-mode sends aside):
// one scheduled for later, or one queued before the grace period ended.
// Such a send wins over the auto-email, so the customer gets one email. Once the auto-send exists
// (a rerun after a crash), it is kept whatever came after it.
func (h *FinalizeHandler) pendingEmailSend(ctx context.Context, inv *invoice.Invoice) (string, error) {
	if _, err := h.w.cfg.Store.Send(ctx, inv.TenantID, autoSendID(inv.ID)); err == nil {
		return "", nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	ds, err := h.w.cfg.Store.InvoiceDeliveries(ctx, inv.TenantID, inv.ID)
	if err != nil {
		return "", err
	}
	for _, d := range ds {
		if d.Channel == store.ChannelEmail && !d.TestMode && (d.Status == store.DeliveryScheduled || d.Status == store.DeliveryQueued) {
			return d.SendID, nil
		}
	}
	return "", nil
}

// enqueue builds and enqueues a task, treating a task id conflict as
// "already accepted".
func enqueue(ctx context.Context, q Enqueuer, build func() (*asynq.Task, error)) error {
	task, err := build()
	if err != nil {
		return err
	}
	_, err = q.EnqueueContext(ctx, task)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue %s: %w", task.Type(), err)
	}
	return nil
}
