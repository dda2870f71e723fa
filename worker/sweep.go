package worker

import (
	"context"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/tasks"
)

// SweepHandler finds autoAdvance drafts whose grace period has passed and
// enqueues their finalization. It is the safety net for a finalize task that
// was lost (Redis restored from an old snapshot, a task deleted by hand): a
// finalize task still waiting keeps its task id, so the sweep never doubles
// one.
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
