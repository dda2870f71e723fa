// Package worker holds the asynq handlers that do invoiced's work: finalize
// drafts, fan sends out into deliveries, deliver email, SMS and webhooks,
// and sweep for drafts whose finalize task was lost and events whose
// webhook fan-out was never queued.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"

	"github.com/invoiced/invoiced/providers"
	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// EmailSender delivers one email and returns the provider's id for it.
// Errors are classified with providers.Permanent and providers.RetryAfter;
// anything else is transient.
type EmailSender interface {
	SendEmail(ctx context.Context, e *providers.Email) (providerID string, err error)
}

// SMSSender delivers one SMS and returns the provider's id for it, with
// errors classified like EmailSender's.
type SMSSender interface {
	SendSMS(ctx context.Context, m *providers.SMS) (providerID string, err error)
}

// Enqueuer puts tasks on the queue; *asynq.Client is one.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// PDFRenderer renders an invoice PDF; *pdf.Cache is one.
type PDFRenderer interface {
	Render(doc pdf.Document) ([]byte, error)
}

// Metrics records what the worker does; *metrics.Metrics is one. Outcomes
// are short fixed words (see outcome), never error text.
type Metrics interface {
	// DeliveryStatus counts d's move to its current status.
	DeliveryStatus(d *store.Delivery)
	// ProviderCall records one hand-over of a message to a provider.
	ProviderCall(channel store.Channel, provider, outcome string, took time.Duration)
	// WebhookAttempt counts one attempt at delivering a webhook event.
	WebhookAttempt(outcome string)
	// TaskProcessed records one task attempt.
	TaskProcessed(taskType, outcome string, took time.Duration)
}

// noMetrics is the Metrics of a worker configured without any.
type noMetrics struct{}

func (noMetrics) DeliveryStatus(*store.Delivery)                            {}
func (noMetrics) ProviderCall(store.Channel, string, string, time.Duration) {}
func (noMetrics) WebhookAttempt(string)                                     {}
func (noMetrics) TaskProcessed(string, string, time.Duration)               {}

// Config wires the worker's dependencies.
type Config struct {
	Store    *store.Store
	Enqueuer Enqueuer
	PDF      PDFRenderer
	Logger   *zap.Logger
	// Outbox receives test-mode email and email of tenants whose provider
	// is "outbox".
	Outbox EmailSender
	// SMSOutbox receives test-mode SMS and SMS of tenants whose provider
	// is "outbox".
	SMSOutbox SMSSender
	// SMTPFunc builds a sender for a tenant's SMTP settings. Nil disables
	// the smtp provider.
	SMTPFunc func(store.SMTPSettings) (EmailSender, error)
	// DefaultSMTPFunc builds the sender of DefaultSMTP, the deployment's
	// own server, which may be trusted where tenants' servers are not
	// (an internal relay). Defaults to SMTPFunc.
	DefaultSMTPFunc func(store.SMTPSettings) (EmailSender, error)
	// SESFunc builds a sender for a tenant's SES settings. Nil disables
	// the ses provider.
	SESFunc func(store.SESSettings) (EmailSender, error)
	// SESSharedCredentials lets a tenant whose ses settings carry no
	// access key of its own send with the deployment's AWS credentials,
	// from the identities the operator granted it
	// (store.Tenant.SESIdentities). Off, or from any other address, such
	// a delivery fails for good before SES is called.
	SESSharedCredentials bool
	// TwilioFunc builds a sender for a tenant's Twilio settings. Nil
	// disables the twilio provider.
	TwilioFunc func(store.TwilioSettings) (SMSSender, error)
	// DefaultSMSProvider is used by tenants that chose none: "outbox" or
	// empty for none.
	DefaultSMSProvider string
	// MaxEmailsPerHour is the operator's ceiling on a tenant's hourly
	// email limit (store.Defaults.EmailLimit). Defaults to
	// store.DefaultMaxEmailsPerHour.
	MaxEmailsPerHour int
	// EmailMaxPerSecond and SMSMaxPerSecond cap each tenant's sends per
	// provider across all workers, unless the tenant set its own. Zero
	// means no cap.
	EmailMaxPerSecond int
	SMSMaxPerSecond   int
	// PublicBaseURL is the externally visible base URL, for links in
	// messages. Defaults to http://localhost:8080.
	PublicBaseURL string
	// DefaultEmailProvider is used by tenants that chose none: "outbox",
	// "smtp" (with DefaultSMTP) or empty for none.
	DefaultEmailProvider string
	// DefaultSMTP is the deployment's SMTP server for DefaultEmailProvider
	// "smtp".
	DefaultSMTP *store.SMTPSettings
	// DefaultFromEmail is the sender address of a tenant that set neither
	// email.fromEmail nor branding.email. Defaults to
	// "invoices@invoiced.localhost".
	DefaultFromEmail string
	// PaymentFunc builds the payment gateway of a tenant's settings. Nil
	// disables payment links.
	PaymentFunc func(store.PaymentSettings) (PaymentLinker, error)
	// Webhooks delivers events to tenants' endpoints. Required.
	Webhooks WebhookSender
	// MaxDeliveryRetries is how many times a delivery is retried after a
	// transient failure before it is failed; throttling does not count.
	// Defaults to tasks.MaxRetryDelivery (12, about 4 days of backoff).
	MaxDeliveryRetries int
	// RetryDelay decides when a delivery whose first attempt, made by
	// its send task, failed is tried again by its own task: the asynq
	// server's RetryDelayFunc, called with a nil task. Defaults to
	// RetryDelay.
	RetryDelay asynq.RetryDelayFunc
	// SweepBatch bounds how many due drafts, events waiting for their
	// fan-out, or overdue deliveries one sweep looks at per tenant.
	// Defaults to 1000.
	SweepBatch int64
	// RetentionDays is how many days an invoice is kept after it reached a
	// final state, for tenants that set no defaults.retentionDays: the
	// finalize sweep deletes it then. Defaults to store.DefaultRetentionDays.
	RetentionDays int
	// Metrics records deliveries, provider calls, webhook attempts and
	// tasks. Nil records nothing.
	Metrics Metrics
	// SendTimeout bounds one provider call. The call is not canceled with
	// its task (a worker shutting down lets it finish and records it), and
	// a delivery claimed longer ago than SendTimeout plus 35s (recording
	// and clock margin) is presumed abandoned by a dead worker and sent
	// again. Defaults to 1 minute.
	SendTimeout time.Duration
}

// Worker holds the task handlers.
type Worker struct {
	cfg     Config
	log     *zap.Logger
	sending sendGate
	// prepares builds a delivery's dispatch, by channel, for the first
	// attempt the send task makes itself (see deliverInPlace).
	prepares map[store.Channel]prepareFunc
}

// New returns a Worker, checking that the required dependencies are set.
func New(cfg Config) (*Worker, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("worker: Store is required")
	case cfg.Enqueuer == nil:
		return nil, errors.New("worker: Enqueuer is required")
	case cfg.PDF == nil:
		return nil, errors.New("worker: PDF renderer is required")
	case cfg.Outbox == nil:
		return nil, errors.New("worker: Outbox is required")
	case cfg.SMSOutbox == nil:
		return nil, errors.New("worker: SMSOutbox is required")
	case cfg.Webhooks == nil:
		return nil, errors.New("worker: Webhooks is required")
	}
	switch cfg.DefaultEmailProvider {
	case "", store.ProviderOutbox:
	case store.ProviderSMTP:
		if cfg.DefaultSMTP == nil || cfg.SMTPFunc == nil {
			return nil, errors.New("worker: default email provider smtp needs DefaultSMTP")
		}
	default:
		return nil, fmt.Errorf("worker: unknown default email provider %q", cfg.DefaultEmailProvider)
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.DefaultSMTPFunc == nil {
		cfg.DefaultSMTPFunc = cfg.SMTPFunc
	}
	if cfg.DefaultFromEmail == "" {
		cfg.DefaultFromEmail = "invoices@invoiced.localhost"
	}
	if cfg.PublicBaseURL == "" {
		cfg.PublicBaseURL = "http://localhost:8080"
	}
	cfg.PublicBaseURL = strings.TrimRight(cfg.PublicBaseURL, "/")
	if cfg.MaxDeliveryRetries <= 0 {
		cfg.MaxDeliveryRetries = tasks.MaxRetryDelivery
	}
	if cfg.RetryDelay == nil {
		cfg.RetryDelay = RetryDelay
	}
	if cfg.SweepBatch <= 0 {
		cfg.SweepBatch = 1000
	}
	if cfg.RetentionDays <= 0 {
		cfg.RetentionDays = store.DefaultRetentionDays
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	switch {
	case cfg.MaxEmailsPerHour < 0:
		return nil, fmt.Errorf("worker: MaxEmailsPerHour %d is negative", cfg.MaxEmailsPerHour)
	case cfg.MaxEmailsPerHour == 0:
		cfg.MaxEmailsPerHour = store.DefaultMaxEmailsPerHour
	}
	if cfg.SendTimeout < 0 {
		return nil, fmt.Errorf("worker: SendTimeout %s is negative", cfg.SendTimeout)
	}
	if cfg.SendTimeout == 0 {
		cfg.SendTimeout = DefaultSendTimeout
	}
	w := &Worker{cfg: cfg, log: cfg.Logger}
	w.prepares = map[store.Channel]prepareFunc{
		store.ChannelEmail: (&EmailHandler{w: w}).prepare,
		store.ChannelSMS:   (&SMSHandler{w: w}).prepare,
	}
	return w, nil
}

// Mux returns the task routes with logging and metrics middleware.
func (w *Worker) Mux() *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Use(w.metricsMiddleware, w.logMiddleware)
	mux.Handle(tasks.TypeFinalize, &FinalizeHandler{w: w})
	mux.Handle(tasks.TypeSend, &SendHandler{w: w})
	mux.Handle(tasks.TypeDeliveryEmail, &EmailHandler{w: w})
	mux.Handle(tasks.TypeDeliverySMS, &SMSHandler{w: w})
	mux.Handle(tasks.TypeVerifySender, &VerifySenderHandler{w: w})
	mux.Handle(tasks.TypeWebhookFanout, &WebhookFanoutHandler{w: w})
	mux.Handle(tasks.TypeWebhook, &WebhookHandler{w: w})
	mux.Handle(tasks.TypePaymentLink, &PaymentLinkHandler{w: w})
	mux.Handle(tasks.TypeDeactivateLink, &DeactivateLinkHandler{w: w})
	mux.Handle(tasks.TypeReminders, &RemindersHandler{w: w})
	mux.Handle(tasks.TypeSweepFinalize, &SweepHandler{w: w})
	mux.Handle(tasks.TypeSweepEvents, &EventSweepHandler{w: w})
	mux.Handle(tasks.TypeSweepDeliveries, &DeliverySweepHandler{w: w})
	return mux
}

// DefaultTaskCheckInterval is how often an idle worker looks for new tasks.
// asynq's own default (1s) adds up to a second to every hop of a send
// (its send task, and a delivery task for a retry); a cheap Redis poll
// every 100ms keeps POST …/send to "sent" well under a second.
const DefaultTaskCheckInterval = 100 * time.Millisecond

// ServerConfig returns the asynq server configuration the handlers expect:
// queue priorities, a retry delay that honours providers' RetryAfter, and
// throttling that does not count as a failure.
func ServerConfig(concurrency int, logger *zap.Logger) asynq.Config {
	return asynq.Config{
		Concurrency:              concurrency,
		TaskCheckInterval:        DefaultTaskCheckInterval,
		Queues:                   tasks.Queues,
		RetryDelayFunc:           RetryDelay,
		IsFailure:                IsFailure,
		Logger:                   NewAsynqLogger(logger),
		LogLevel:                 asynq.WarnLevel,
		DelayedTaskCheckInterval: time.Second,
		ShutdownTimeout:          30 * time.Second,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			logger.Debug("task attempt failed", zap.String("task_type", t.Type()), zap.Error(err))
		}),
	}
}

// DefaultSendTimeout is Config.SendTimeout's default.
const DefaultSendTimeout = time.Minute

// leaseRecoveryDelay is how soon a task is run again after asynq recovered
// it from a worker that stopped renewing its lease (killed, or cut off from
// Redis). It did not fail, and a delivery's claim decides whether it is sent
// again.
const leaseRecoveryDelay = time.Second

// RetryDelay waits as long as a throttling provider asked, runs a task
// recovered from a dead worker again at once, and otherwise backs off
// exponentially with jitter (asynq's default), counting a delivery's
// attempts made before its task was queued (tasks.DeliveryPayload.Tried).
func RetryDelay(n int, err error, t *asynq.Task) time.Duration {
	if d, ok := providers.RetryDelay(err); ok && d > 0 {
		return d
	}
	if errors.Is(err, asynq.ErrLeaseExpired) {
		return leaseRecoveryDelay
	}
	if t != nil && (t.Type() == tasks.TypeDeliveryEmail || t.Type() == tasks.TypeDeliverySMS) {
		var p tasks.DeliveryPayload
		if json.Unmarshal(t.Payload(), &p) == nil && p.Tried > 0 {
			n += p.Tried
		}
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}

// IsFailure reports whether err uses up one of the task's retries.
// Throttling does not: the task waits and tries again.
func IsFailure(err error) bool {
	_, throttled := providers.RetryDelay(err)
	return !throttled
}
