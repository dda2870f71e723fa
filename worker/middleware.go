package worker

import (
	"context"
	"errors"
	"time"

	"github.com/goccy/go-json"
	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/providers"
)

type loggerKey struct{}

// logFrom returns the task-scoped logger the middleware put in ctx.
func (w *Worker) logFrom(ctx context.Context) *zap.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*zap.Logger); ok {
		return l
	}
	return w.log
}

// logMiddleware gives every task a logger carrying its ids and logs how each
// attempt ended. Payloads are read only for their ids: message bodies and
// addresses are never logged.
func (w *Worker) logMiddleware(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		var ids struct {
			TenantID   string `json:"tenantId"`
			InvoiceID  string `json:"invoiceId"`
			SendID     string `json:"sendId"`
			DeliveryID string `json:"deliveryId"`
		}
		_ = json.Unmarshal(t.Payload(), &ids)
		taskID, _ := asynq.GetTaskID(ctx)
		attempt, _ := asynq.GetRetryCount(ctx)
		fields := make([]zap.Field, 0, 7)
		fields = append(fields,
			zap.String("task_id", taskID),
			zap.String("task_type", t.Type()),
			zap.Int("attempt", attempt+1),
		)
		for _, id := range [...]struct{ key, v string }{
			{"tenant_id", ids.TenantID}, {"invoice_id", ids.InvoiceID},
			{"send_id", ids.SendID}, {"delivery_id", ids.DeliveryID},
		} {
			if id.v != "" {
				fields = append(fields, zap.String(id.key, id.v))
			}
		}
		// Lazily: most attempts end without a line at the level logged,
		// and the fields are then never encoded.
		log := w.log.WithLazy(fields...)
		start := time.Now()
		err := next.ProcessTask(context.WithValue(ctx, loggerKey{}, log), t)
		if _, throttled := providers.RetryDelay(err); throttled {
			log.Debug("task throttled", zap.Duration("took", time.Since(start)), zap.Error(err))
			return err
		}
		if err != nil {
			log.Warn("task failed", zap.Duration("took", time.Since(start)), zap.Error(err))
			return err
		}
		log.Debug("task done", zap.Duration("took", time.Since(start)))
		return nil
	})
}

// metricsMiddleware records how long each task attempt took and how it
// ended.
func (w *Worker) metricsMiddleware(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		start := time.Now()
		err := next.ProcessTask(ctx, t)
		w.cfg.Metrics.TaskProcessed(t.Type(), outcome(err), time.Since(start))
		return err
	})
}

// outcome names how a task attempt or a provider call ended, for metrics:
// "ok"; "throttled" (tried again later without using up an attempt);
// "permanent" (not tried again); else "transient".
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case providers.IsPermanent(err) || errors.Is(err, asynq.SkipRetry):
		return "permanent"
	}
	if _, throttled := providers.RetryDelay(err); throttled {
		return "throttled"
	}
	return "transient"
}
