package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// RemindersHandler schedules the payment reminders of a just-finalized
// invoice (store.Reminders): one scheduled email send per reminder day
// whose time is still ahead, to the customer's address; its texts are
// chosen when it goes out (see EmailHandler.compose). An
// invoice that is not open, has no due date or no customer email gets
// none. A rerun creates nothing twice: each send's id derives from the
// invoice and the day.
type RemindersHandler struct{ w *Worker }

// reminderSendID is the id of an invoice's reminder for day.
func reminderSendID(invoiceID string, day int) string {
	sum := sha256.Sum256([]byte(invoiceID + "\x00" + strconv.Itoa(day)))
	return "snd_rem_" + hex.EncodeToString(sum[:10])
}

// ProcessTask handles tasks.TypeReminders.
func (h *RemindersHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.RemindersPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	st := h.w.cfg.Store
	inv, err := st.Invoice(ctx, p.TenantID, p.InvoiceID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	settings, err := st.Settings(ctx, p.TenantID)
	if err != nil {
		return err
	}
	r := settings.Reminders
	if !inv.Payable() || !r.Apply(inv) {
		return nil
	}
	now := st.Now()
	scheduled := 0
	for _, day := range r.Days {
		at, err := r.At(inv.DueDate, day)
		if err != nil {
			return fmt.Errorf("reminder time: %w: %w", err, asynq.SkipRetry)
		}
		if !at.After(now) {
			continue // finalized after this reminder's time: no late flurry
		}
		at = at.UTC()
		send, _, err := st.CreateSend(ctx, &store.Send{
			ID: reminderSendID(inv.ID, day), TenantID: inv.TenantID, InvoiceID: inv.ID, Kind: store.SendKindReminder,
			Channels: []store.Channel{store.ChannelEmail}, Email: inv.Customer.Email,
			AttachPDF: true, Language: inv.Language, ScheduledAt: &at,
		})
		if err != nil {
			return fmt.Errorf("create reminder: %w", err)
		}
		if send.Status != store.SendScheduled {
			continue
		}
		err = enqueue(ctx, h.w.cfg.Enqueuer, func() (*asynq.Task, error) {
			return tasks.NewSendTask(tasks.SendPayload{TenantID: inv.TenantID, InvoiceID: inv.ID, SendID: send.ID, DeliveryIDs: send.DeliveryIDs}, at)
		})
		if err != nil {
			return err
		}
		scheduled++
	}
	if scheduled > 0 {
		h.w.logFrom(ctx).Info("payment reminders scheduled", zap.Int("reminders", scheduled))
	}
	return nil
}

// queueReminders enqueues the task that schedules inv's reminders.
// settings are the tenant's, or nil to read them.
func (w *Worker) queueReminders(ctx context.Context, inv *invoice.Invoice, settings *store.Settings) {
	if !mayRemind(ctx, w.cfg.Store, inv, settings) {
		return
	}
	err := enqueue(ctx, w.cfg.Enqueuer, func() (*asynq.Task, error) {
		return tasks.NewRemindersTask(tasks.RemindersPayload{TenantID: inv.TenantID, InvoiceID: inv.ID})
	})
	if err != nil {
		w.logFrom(ctx).Error("reminders not queued", zap.Error(err))
	}
}

// mayRemind reports whether inv may get reminders, so that a finalization
// queues the reminders task only then, not once per send of every tenant.
// It errs towards yes: the task decides for good.
func mayRemind(ctx context.Context, st *store.Store, inv *invoice.Invoice, settings *store.Settings) bool {
	if settings != nil {
		return settings.Reminders.Apply(inv)
	}
	read, err := st.Settings(ctx, inv.TenantID)
	return err != nil || read.Reminders.Apply(inv)
}

// skipReminder cancels the deliveries of a reminder whose invoice was paid,
// voided or credited in full before its time, and reports whether it did.
func (h *SendHandler) skipReminder(ctx context.Context, send *store.Send, inv *invoice.Invoice) (bool, error) {
	if send.Kind != store.SendKindReminder || inv.Payable() {
		return false, nil
	}
	reason := fmt.Sprintf("reminder not needed: the invoice is %s", inv.Status)
	if inv.Status == invoice.StatusOpen {
		reason = "reminder not needed: the invoice is credited in full"
	}
	for _, id := range send.DeliveryIDs {
		if _, _, err := h.w.cfg.Store.Transition(ctx, send.TenantID, id, store.DeliveryCanceled, "worker", reason, nil); err != nil {
			return true, err
		}
	}
	return true, nil
}
