package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// SweepHandler finds autoAdvance drafts whose grace period has passed and
// enqueues their finalization. It is the safety net for a finalize task that
// was lost (Redis restored from an old snapshot, a task deleted by hand): a
// finalize task still waiting keeps its task id, so the sweep never doubles
// one. It also deletes the invoices that have been final (paid, void, a
// credit note) for longer than their tenant's retention, with their sends,
// deliveries and index entries (store.Store.ExpireInvoices), up to
// SweepBatch a tenant each time.
type SweepHandler struct{ w *Worker }

// ProcessTask handles tasks.TypeSweepFinalize.
func (h *SweepHandler) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	log := h.w.logFrom(ctx)
	st := h.w.cfg.Store
	tenants, err := st.TenantIDs(ctx)
	if err != nil {
		return err
	}
	now := st.Now()
	enqueued := 0
	for _, tenantID := range tenants {
		ids, err := st.DraftsDue(ctx, tenantID, now, h.w.cfg.SweepBatch)
		if err != nil {
			return err
		}
		for _, id := range ids {
			p := tasks.FinalizePayload{TenantID: tenantID, InvoiceID: id, Reason: tasks.ReasonSweep}
			err := enqueue(ctx, h.w.cfg.Enqueuer, func() (*asynq.Task, error) {
				return tasks.NewFinalizeTask(p, time.Time{})
			})
			if err != nil {
				return err
			}
			enqueued++
		}
	}
	if enqueued > 0 {
		log.Info("sweep enqueued overdue finalizations", zap.Int("drafts", enqueued))
	}
	expired := 0
	for _, tenantID := range tenants {
		settings, err := st.Settings(ctx, tenantID)
		if err != nil {
			return err
		}
		days := settings.Defaults.Retention(h.w.cfg.RetentionDays)
		n, err := st.ExpireInvoices(ctx, tenantID, now.AddDate(0, 0, -days), h.w.cfg.SweepBatch)
		if err != nil {
			return err
		}
		expired += n
	}
	if expired > 0 {
		log.Info("sweep deleted invoices past their retention", zap.Int("invoices", expired))
	}
	return nil
}

// fanoutGrace is how long an event waits for its fan-out before the sweep
// queues it again; a fan-out normally runs within a second of its event.
const fanoutGrace = time.Minute

// EventSweepHandler queues the webhook fan-out of events recorded more than
// a minute ago whose fan-out has not run: the change they report was
// recorded, but Redis went away before their task was queued. A fan-out
// still waiting keeps its task id, so the sweep never doubles one.
type EventSweepHandler struct{ w *Worker }

// ProcessTask handles tasks.TypeSweepEvents.
func (h *EventSweepHandler) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	st := h.w.cfg.Store
	tenants, err := st.TenantIDs(ctx)
	if err != nil {
		return err
	}
	before := st.Now().Add(-fanoutGrace)
	enqueued := 0
	for _, tenantID := range tenants {
		ids, err := st.PendingFanouts(ctx, tenantID, before, h.w.cfg.SweepBatch)
		if err != nil {
			return err
		}
		for _, id := range ids {
			p := tasks.WebhookFanoutPayload{TenantID: tenantID, EventID: id}
			if err := enqueue(ctx, h.w.cfg.Enqueuer, func() (*asynq.Task, error) { return tasks.NewWebhookFanoutTask(p) }); err != nil {
				return err
			}
			enqueued++
		}
	}
	if enqueued > 0 {
		h.w.logFrom(ctx).Info("sweep queued the webhook fan-out of events", zap.Int("events", enqueued))
	}
	return nil
}

// deliveryGrace is how long a delivery may stay scheduled past its time,
// or queued, before the delivery sweep looks for its task. Both normally
// move on within a second; a delivery whose task is still waiting (a
// backlog, a retry backoff) is looked at again a grace later.
const deliveryGrace = 5 * time.Minute

// DeliverySweepHandler finds deliveries left scheduled past their time, or
// queued, for longer than deliveryGrace, and queues the task that moves
// each on again if Redis lost it: a failover before the task reached the
// replica, a restore from an older snapshot, or Redis gone between the API
// storing a send and queuing its task. A task still waiting keeps its task
// id, so the sweep never doubles one, and a delivery's claim keeps it to
// one message however many tasks run it. A send canceled halfway (its
// deliveries not yet canceled) is finished.
type DeliverySweepHandler struct{ w *Worker }

// ProcessTask handles tasks.TypeSweepDeliveries.
func (h *DeliverySweepHandler) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	st := h.w.cfg.Store
	tenants, err := st.TenantIDs(ctx)
	if err != nil {
		return err
	}
	now := st.Now()
	requeued := 0
	for _, tenantID := range tenants {
		ids, err := st.OverdueDeliveries(ctx, tenantID, now.Add(-deliveryGrace), h.w.cfg.SweepBatch)
		if err != nil {
			return err
		}
		for _, id := range ids {
			queued, err := h.resume(ctx, tenantID, id)
			if err != nil {
				return fmt.Errorf("delivery %s: %w", id, err)
			}
			if queued {
				requeued++
			}
			if err := st.RecheckDeliveryAt(ctx, tenantID, id, now); err != nil {
				return err
			}
		}
	}
	if requeued > 0 {
		h.w.logFrom(ctx).Warn("sweep queued again the tasks of deliveries that had none", zap.Int("tasks", requeued))
	}
	return nil
}

// resume queues the task that moves an overdue delivery on: its send's
// while the send has not run past it, else its own. It reports whether a
// task was queued, not one found still waiting.
func (h *DeliverySweepHandler) resume(ctx context.Context, tenantID, id string) (bool, error) {
	st := h.w.cfg.Store
	d, err := st.Delivery(ctx, tenantID, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	send, err := st.Send(ctx, tenantID, d.SendID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var task *asynq.Task
	switch {
	case send.Status == store.SendCanceled:
		dd, changed, err := st.Transition(ctx, tenantID, id, store.DeliveryCanceled, "worker", "send canceled", nil)
		if err == nil && changed {
			h.w.emitDelivery(ctx, dd)
		}
		return false, err
	case d.Status == store.DeliveryScheduled || send.Status != store.SendStarted:
		task, err = tasks.NewSendTask(tasks.SendPayload{TenantID: tenantID, InvoiceID: send.InvoiceID, SendID: send.ID, DeliveryIDs: send.DeliveryIDs}, time.Time{})
	case d.Status == store.DeliveryQueued:
		p := tasks.DeliveryPayload{TenantID: tenantID, DeliveryID: id, SendID: d.SendID, InvoiceID: d.InvoiceID}
		task, err = deliveryTask(d.Channel, p, asynq.MaxRetry(h.w.cfg.MaxDeliveryRetries))
	default:
		return false, nil // moved on meanwhile
	}
	if err != nil {
		return false, err
	}
	_, err = h.w.cfg.Enqueuer.EnqueueContext(ctx, task)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", task.Type(), err)
	}
	h.w.logFrom(ctx).Info("sweep queued a lost task again", zap.String("task_type", task.Type()),
		zap.String("delivery_id", id), zap.String("send_id", send.ID), zap.String("status", string(d.Status)))
	return true, nil
}
