package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// errThrottled is wrapped in a RetryAfter when the fleet-wide send rate of
// a tenant's provider is used up: the delivery waits, it does not fail.
var errThrottled = errors.New("fleet-wide send rate reached")

// dispatch is one prepared delivery: the provider's name, its fleet-wide
// rate, and the call that hands the message over.
type dispatch struct {
	provider  string
	perSecond int
	send      func(ctx context.Context) (providerID string, err error)
}

// deliveryJob is what a channel's handler is given to prepare a dispatch.
type deliveryJob struct {
	delivery *store.Delivery
	send     *store.Send
	invoice  *invoice.Invoice
	settings store.Settings
}

// prepareFunc builds the dispatch of one delivery. A configuration error
// should be permanent; a provider name may come back with the error.
type prepareFunc func(ctx context.Context, job deliveryJob) (dispatch, error)

// deliver runs one delivery task: it skips a delivery that is no longer
// queued (a duplicate task), prepares the message, waits for the fleet-wide
// rate, hands it to the provider and records the outcome: sent with the
// provider's id, an attempt kept for a transient failure (the task is
// retried), failed at once for a permanent one.
func (w *Worker) deliver(ctx context.Context, t *asynq.Task, prepare prepareFunc) error {
	var p tasks.DeliveryPayload
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	log := w.logFrom(ctx)
	st := w.cfg.Store
	d, err := st.Delivery(ctx, p.TenantID, p.DeliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delivery %s: %w: %w", p.DeliveryID, err, asynq.SkipRetry)
	}
	if err != nil {
		return err
	}
	if d.Status != store.DeliveryQueued {
		log.Debug("delivery is no longer queued", zap.String("status", string(d.Status)))
		return nil
	}
	job, err := w.loadJob(ctx, d)
	if err != nil {
		return err
	}
	disp, err := prepare(ctx, job)
	if err == nil {
		err = w.throttle(ctx, d.TenantID, disp)
		if _, throttled := providers.RetryDelay(err); throttled {
			return err // not an attempt: nothing was sent
		}
	}
	// An attempt is stamped when it is handed to the provider.
	started := st.Now()
	var providerID string
	if err == nil {
		callStart := time.Now()
		providerID, err = disp.send(ctx)
		w.cfg.Metrics.ProviderCall(d.Channel, disp.provider, outcome(err), time.Since(callStart))
	}
	if err != nil {
		return w.fail(ctx, log, d, disp.provider, started, err)
	}
	sent, changed, err := st.Transition(ctx, d.TenantID, d.ID, store.DeliverySent, "worker", "accepted by "+disp.provider, func(d *store.Delivery) {
		d.Provider, d.ProviderID = disp.provider, providerID
		d.Attempts = append(d.Attempts, store.Attempt{At: started, Provider: disp.provider})
	})
	if err != nil {
		return fmt.Errorf("record sent: %w", err)
	}
	if providerID != "" {
		if err := st.IndexProviderMessage(ctx, disp.provider, providerID, d.TenantID, d.ID); err != nil {
			log.Warn("provider message id not indexed; its status callbacks will be ignored", zap.Error(err))
		}
	}
	if changed {
		w.emitDelivery(ctx, sent)
	}
	log.Info("delivery sent", zap.String("channel", string(d.Channel)), zap.String("provider", disp.provider))
	return nil
}

func (w *Worker) loadJob(ctx context.Context, d *store.Delivery) (deliveryJob, error) {
	st := w.cfg.Store
	send, err := st.Send(ctx, d.TenantID, d.SendID)
	if err != nil {
		return deliveryJob{}, fmt.Errorf("load send: %w", err)
	}
	inv, err := st.Invoice(ctx, d.TenantID, d.InvoiceID)
	if err != nil {
		return deliveryJob{}, fmt.Errorf("load invoice: %w", err)
	}
	settings, err := st.Settings(ctx, d.TenantID)
	if err != nil {
		return deliveryJob{}, err
	}
	return deliveryJob{delivery: d, send: send, invoice: inv, settings: settings}, nil
}

// maxInlineWait is how long a delivery waits in place for its turn under
// the fleet-wide rate before it gives its worker slot back and is retried
// later: short waits keep the rate smooth, long ones keep slots free.
const maxInlineWait = 2 * time.Second

// throttle takes one send from the tenant's fleet-wide budget at the
// provider, waiting briefly for a turn, or returns a RetryAfter for when
// one frees up.
func (w *Worker) throttle(ctx context.Context, tenantID string, disp dispatch) error {
	if disp.perSecond <= 0 {
		return nil
	}
	deadline := time.Now().Add(maxInlineWait)
	for {
		ok, wait, err := w.cfg.Store.AllowSend(ctx, tenantID, disp.provider, disp.perSecond)
		if err != nil || ok {
			return err
		}
		if time.Now().Add(wait).After(deadline) {
			return providers.RetryAfter(wait, errThrottled)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// fail records a failed attempt and decides what happens next.
func (w *Worker) fail(ctx context.Context, log *zap.Logger, d *store.Delivery, provider string, started time.Time, sendErr error) error {
	st := w.cfg.Store
	permanent := providers.IsPermanent(sendErr)
	var pe *providers.PermanentError
	code := ""
	if errors.As(sendErr, &pe) {
		code = pe.Code
	}
	attempt := store.Attempt{At: started, Provider: provider, Error: sendErr.Error(), Code: code, Permanent: permanent}
	if err := st.RecordAttempt(ctx, d.TenantID, d.ID, attempt); err != nil {
		return err
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	_, throttled := providers.RetryDelay(sendErr)
	lastTry := retried >= maxRetry && !throttled
	if !permanent && !lastTry {
		return fmt.Errorf("deliver (will retry): %w", sendErr)
	}
	reason := sendErr.Error()
	if !permanent {
		reason = fmt.Sprintf("gave up after %d attempts: %s", retried+1, reason)
	}
	failed, changed, err := st.Transition(ctx, d.TenantID, d.ID, store.DeliveryFailed, "worker", reason, nil)
	if err != nil {
		return err
	}
	if changed {
		w.emitDelivery(ctx, failed)
	}
	log.Warn("delivery failed", zap.String("channel", string(d.Channel)), zap.String("provider", provider),
		zap.Bool("permanent", permanent), zap.String("code", code))
	return fmt.Errorf("deliver: %w: %w", sendErr, asynq.SkipRetry)
}

// notConfigured is the permanent error of a delivery whose tenant has no
// usable provider: retrying will not fix it.
func notConfigured(format string, args ...any) error {
	return providers.Permanent("not_configured", fmt.Errorf(format, args...))
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
