package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/providers/webhook"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// WebhookSender posts one signed event to one endpoint;
// *webhook.Sender is one.
type WebhookSender interface {
	Deliver(ctx context.Context, url, secret, eventID string, ts time.Time, body []byte) (webhook.Result, error)
}

// emit records events about subject and queues their fan-out to the
// tenant's webhook endpoints. Event ids derive from subject and type, so
// emitting twice sends once. A failure is logged, not returned: the state
// change it reports has already happened.
func (w *Worker) emit(ctx context.Context, tenantID, subject string, types []string, data map[string]any) {
	if len(types) == 0 {
		return
	}
	ids, err := w.cfg.Store.RecordEvents(ctx, tenantID, subject, types, data)
	if err != nil {
		w.logFrom(ctx).Error("events not recorded", zap.Strings("types", types), zap.Error(err))
		return
	}
	w.fanOut(ctx, tenantID, ids)
}

// fanOut queues the fan-out of tenant's events ids, just recorded, to its
// webhook endpoints. A failure is logged: the sweep queues it later.
func (w *Worker) fanOut(ctx context.Context, tenantID string, ids []string) {
	for _, id := range ids {
		err := enqueue(ctx, w.cfg.Enqueuer, func() (*asynq.Task, error) {
			return tasks.NewWebhookFanoutTask(tasks.WebhookFanoutPayload{TenantID: tenantID, EventID: id})
		})
		if err != nil {
			w.logFrom(ctx).Error("event fan-out not queued", zap.String("event_id", id), zap.Error(err))
		}
	}
}

// emitDelivery counts a delivery's move to its current status and emits
// its events, and its send's invoice.sent when this move was the last of
// the send's deliveries to leave queued.
func (w *Worker) emitDelivery(ctx context.Context, d *store.Delivery) {
	w.cfg.Metrics.DeliveryStatus(d)
	w.emit(ctx, d.TenantID, d.ID, store.DeliveryEventTypes(d.Channel, d.Status), store.DeliveryEventData(d))
	if d.LeftQueued() {
		w.emitSent(ctx, d, nil)
	}
}

// emitMoved counts a delivery's move that the store recorded with its
// events (store.Moved), queues their fan-out, and emits its send's
// invoice.sent when the move left that undecided. send is the delivery's
// send as the caller read it, or nil to read it.
func (w *Worker) emitMoved(ctx context.Context, m store.Moved, send *store.Send) {
	if !m.Changed {
		return
	}
	w.cfg.Metrics.DeliveryStatus(m.Delivery)
	w.fanOut(ctx, m.Delivery.TenantID, m.Fanout)
	if m.SentUndecided {
		w.emitSent(ctx, m.Delivery, send)
	}
}

// emitSent emits the invoice.sent of d's send if d, just recorded, was
// the last of its deliveries to leave queued. send is the send as the
// caller read it, or nil to read it.
func (w *Worker) emitSent(ctx context.Context, d *store.Delivery, send *store.Send) {
	var data map[string]any
	var complete bool
	var err error
	if send != nil && send.ID == d.SendID && send.TenantID == d.TenantID {
		data, complete, err = w.cfg.Store.SendSentEventData(ctx, send, d)
	} else {
		data, complete, err = w.cfg.Store.SentEventData(ctx, d.TenantID, d.SendID, d)
	}
	if err != nil {
		w.logFrom(ctx).Error("invoice.sent not recorded", zap.String("send_id", d.SendID), zap.Error(err))
		return
	}
	if complete {
		w.emit(ctx, d.TenantID, d.SendID, []string{store.EventInvoiceSent}, data)
	}
}

// emitFinalized follows an invoice's finalization, whose invoice.finalized
// was recorded with it (store.FinalizeWith) and its fan-out queued: it
// queues the invoice's payment reminders. settings are the tenant's, or
// nil to read them.
func (w *Worker) emitFinalized(ctx context.Context, inv *invoice.Invoice, settings *store.Settings) {
	w.queueReminders(ctx, inv, settings)
}

// WebhookFanoutHandler queues an event's first delivery attempt to every
// endpoint of its tenant that wants it.
type WebhookFanoutHandler struct{ w *Worker }

// ProcessTask handles tasks.TypeWebhookFanout.
func (h *WebhookFanoutHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.WebhookFanoutPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	st := h.w.cfg.Store
	ev, err := st.Event(ctx, p.TenantID, p.EventID)
	if errors.Is(err, store.ErrNotFound) {
		return h.done(ctx, p) // expired
	}
	if err != nil {
		return err
	}
	endpoints, err := st.Endpoints(ctx, p.TenantID)
	if err != nil {
		return err
	}
	for _, e := range endpoints {
		if !e.Wants(ev.Type) {
			continue
		}
		wp := tasks.WebhookPayload{TenantID: p.TenantID, EndpointID: e.ID, EventID: ev.ID, Attempt: 1}
		if err := enqueue(ctx, h.w.cfg.Enqueuer, func() (*asynq.Task, error) { return tasks.NewWebhookTask(wp, time.Time{}) }); err != nil {
			return err
		}
	}
	return h.done(ctx, p)
}

// done takes the event off the sweep's list. Failing that is logged, not
// retried: a retry would queue the first attempts again once they are
// gone, and so would the sweep; receivers drop the repeat by its
// webhook-id.
func (h *WebhookFanoutHandler) done(ctx context.Context, p tasks.WebhookFanoutPayload) error {
	if err := h.w.cfg.Store.FanoutDone(ctx, p.TenantID, p.EventID); err != nil {
		h.w.logFrom(ctx).Warn("event fanned out but still listed as pending; a sweep may send it again", zap.Error(err))
	}
	return nil
}

// WebhookHandler makes one attempt at delivering an event to an endpoint
// and schedules the next one on failure: immediately, 5 s, 5 min, 30 min,
// 2 h, 5 h, 10 h, 10 h (or later if the endpoint asked with Retry-After).
// A 410 Gone disables the endpoint.
type WebhookHandler struct{ w *Worker }

// ProcessTask handles tasks.TypeWebhook.
func (h *WebhookHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.WebhookPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	st := h.w.cfg.Store
	log := h.w.logFrom(ctx).With(zap.String("endpoint_id", p.EndpointID), zap.String("event_id", p.EventID))
	e, err := st.Endpoint(ctx, p.TenantID, p.EndpointID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted
	}
	if err != nil {
		return err
	}
	if e.Disabled {
		log.Info("webhook endpoint disabled; attempt dropped")
		return nil
	}
	ev, err := st.Event(ctx, p.TenantID, p.EventID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w: %w", err, asynq.SkipRetry)
	}
	// Signed with the attempt's own time: receivers refuse stale
	// timestamps. The id stays the event's, so they can drop repeats.
	now := st.Now()
	res, sendErr := h.w.cfg.Webhooks.Deliver(ctx, e.URL, e.Secret, ev.ID, now, body)
	attempt := store.WebhookAttempt{
		EventID: ev.ID, EventType: ev.Type, Attempt: p.Attempt, At: now,
		StatusCode: res.StatusCode, Duration: res.Duration / time.Millisecond, Response: res.ResponseSnippet,
	}
	var next time.Time
	more := false
	switch {
	case sendErr == nil:
	case errors.Is(sendErr, webhook.ErrGone):
		attempt.Error = sendErr.Error()
		if err := st.DisableEndpoint(ctx, p.TenantID, e.ID, "the endpoint answered 410 Gone"); err != nil {
			return err
		}
		log.Warn("webhook endpoint answered 410 Gone; disabled")
	default:
		attempt.Error = sendErr.Error()
		retryAfter, _ := providers.RetryDelay(sendErr)
		if !providers.IsPermanent(sendErr) {
			next, more = webhook.NextAttempt(p.Attempt, now, retryAfter)
		}
		if more {
			attempt.NextAt = &next
		}
	}
	h.w.cfg.Metrics.WebhookAttempt(webhookOutcome(sendErr, more))
	if err := st.RecordWebhookAttempt(ctx, p.TenantID, e.ID, attempt); err != nil {
		return err
	}
	if !more {
		if sendErr != nil && !errors.Is(sendErr, webhook.ErrGone) {
			log.Warn("webhook delivery gave up", zap.Int("attempts", p.Attempt), zap.Error(sendErr))
		}
		return nil
	}
	np := p
	np.Attempt++
	return enqueue(ctx, h.w.cfg.Enqueuer, func() (*asynq.Task, error) { return tasks.NewWebhookTask(np, next) })
}

// webhookOutcome names how a webhook attempt ended, for metrics:
// delivered, retry (another attempt is scheduled), gone (410, the
// endpoint is disabled) or gave_up.
func webhookOutcome(err error, more bool) string {
	switch {
	case err == nil:
		return "delivered"
	case errors.Is(err, webhook.ErrGone):
		return "gone"
	case more:
		return "retry"
	}
	return "gave_up"
}
