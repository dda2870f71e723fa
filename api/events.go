package api

import (
	"context"

	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// emit records events about subject and queues their fan-out to the
// tenant's webhook endpoints; the worker delivers them. Event ids derive
// from subject and type, so emitting twice sends once. A failure is
// logged: the change it reports has already happened.
func (a *API) emit(ctx context.Context, tenantID, subject string, types []string, data map[string]any) {
	if len(types) == 0 {
		return
	}
	ids, err := a.st.RecordEvents(ctx, tenantID, subject, types, data)
	if err != nil {
		a.log.Error("events not recorded", zap.String("tenant_id", tenantID), zap.Strings("types", types), zap.Error(err))
		return
	}
	for _, id := range ids {
		task, err := tasks.NewWebhookFanoutTask(tasks.WebhookFanoutPayload{TenantID: tenantID, EventID: id})
		if err == nil {
			_, err = a.cfg.Enqueuer.EnqueueContext(ctx, task)
		}
		if err != nil && !isTaskConflict(err) {
			a.log.Error("event fan-out not queued", zap.String("tenant_id", tenantID), zap.String("event_id", id), zap.Error(err))
		}
	}
}

// emitDelivery counts a delivery's move to its current status and emits
// its events, and its send's invoice.sent when this move was the last of
// the send's deliveries to leave queued.
func (a *API) emitDelivery(ctx context.Context, d *store.Delivery) {
	a.cfg.Metrics.DeliveryStatus(d)
	a.emit(ctx, d.TenantID, d.ID, store.DeliveryEventTypes(d.Channel, d.Status), store.DeliveryEventData(d))
	if !d.LeftQueued() {
		return
	}
	data, complete, err := a.st.SentEventData(ctx, d.TenantID, d.SendID, d)
	if err != nil {
		a.log.Error("invoice.sent not recorded", zap.String("tenant_id", d.TenantID), zap.String("send_id", d.SendID), zap.Error(err))
		return
	}
	if complete {
		a.emit(ctx, d.TenantID, d.SendID, []string{store.EventInvoiceSent}, data)
	}
}

// emitFinalized emits invoice.finalized and asks the worker to schedule
// the invoice's payment reminders.
func (a *API) emitFinalized(ctx context.Context, inv *invoice.Invoice) {
	a.emit(ctx, inv.TenantID, inv.ID, []string{store.EventInvoiceFinalized}, store.FinalizedEventData(inv))
	// Only for invoices that may get reminders; the task decides for good.
	if settings, err := a.st.Settings(ctx, inv.TenantID); err == nil && !settings.Reminders.Apply(inv) {
		return
	}
	task, err := tasks.NewRemindersTask(tasks.RemindersPayload{TenantID: inv.TenantID, InvoiceID: inv.ID})
	if err == nil {
		_, err = a.cfg.Enqueuer.EnqueueContext(ctx, task)
	}
	if err != nil && !isTaskConflict(err) {
		a.log.Error("reminders not queued", zap.String("tenant_id", inv.TenantID), zap.String("invoice_id", inv.ID), zap.Error(err))
	}
}
