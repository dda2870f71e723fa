// Package tasks is the contract between the API and the workers: the task
// type names, their payloads, and how each is enqueued. Type strings are
// stored in Redis with every queued task: renaming one orphans the tasks
// already queued under the old name, so an old name stays registered until
// its queues drain.
package tasks

import (
	"encoding/json"
	"fmt"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/hibiken/asynq"
)

// Task type names.
const (
	TypeFinalize        = "invoice:finalize"
	TypeSend            = "invoice:send"
	TypeDeliveryEmail   = "delivery:email"
	TypeDeliverySMS     = "delivery:sms"
	TypeSweepFinalize   = "sweep:finalize"
	TypeSweepEvents     = "sweep:events"
	TypeSweepDeliveries = "sweep:deliveries"
	TypeVerifySender    = "sender:verify"
	TypeWebhookFanout   = "webhook:dispatch"
	TypeWebhook         = "webhook:deliver"
	TypePaymentLink     = "invoice:payment-link"
	TypeDeactivateLink  = "invoice:payment-link-deactivate"
	TypeReminders       = "invoice:reminders"
)

// Queue names. Deliveries have their own queue so a burst of finalizations
// never starves emails already promised; asynq weighs them by priority.
const (
	QueueCritical = "critical"
	QueueDefault  = "default"
)

// Queues is the priority weighting workers use for the queues above.
var Queues = map[string]int{QueueCritical: 6, QueueDefault: 3}

// Default retry counts. A delivery retries transient provider failures with
// backoff; throttling does not use up a retry.
const (
	MaxRetryDelivery = 12
	MaxRetryInvoice  = 10
)

// Finalize reasons.
const (
	ReasonGrace = "grace" // the draft's grace period passed
	ReasonSweep = "sweep" // the sweep found a draft past its grace period
)

// FinalizePayload finalizes a draft invoice.
type FinalizePayload struct {
	TenantID  string `json:"tenantId"`
	InvoiceID string `json:"invoiceId"`
	Reason    string `json:"reason"`
}

// FinalizeTaskID is the one task id of an invoice's finalization, so it is
// enqueued at most once while it waits.
func FinalizeTaskID(tenantID, invoiceID string) string {
	return "finalize:" + tenantID + ":" + invoiceID
}

// NewFinalizeTask returns the finalize task for p, to run at processAt (the
// draft's creation time plus its grace period). A zero processAt runs it now.
func NewFinalizeTask(p FinalizePayload, processAt time.Time, opts ...asynq.Option) (*asynq.Task, error) {
	base := []asynq.Option{
		asynq.TaskID(FinalizeTaskID(p.TenantID, p.InvoiceID)),
		asynq.Queue(QueueDefault),
		asynq.MaxRetry(MaxRetryInvoice),
	}
	if !processAt.IsZero() {
		base = append(base, asynq.ProcessAt(processAt))
	}
	return newTask(TypeFinalize, p, append(base, opts...))
}

// SendPayload starts one send of an invoice: it finalizes a draft, then
// makes each delivery's first attempt.
type SendPayload struct {
	TenantID  string `json:"tenantId"`
	InvoiceID string `json:"invoiceId"`
	SendID    string `json:"sendId"`
	// DeliveryIDs, when set, are the send's deliveries, so the worker
	// reads them with the send in one round trip. Tasks queued before
	// they were added lack them.
	DeliveryIDs []string `json:"deliveryIds,omitempty"`
}

// SendTaskID is the task id of a send; DELETE …/sends/{sendId} uses it to
// remove a scheduled send from the queue.
func SendTaskID(tenantID, sendID string) string {
	return "send:" + tenantID + ":" + sendID
}

// NewSendTask returns the task for p. A zero processAt runs it now.
func NewSendTask(p SendPayload, processAt time.Time, opts ...asynq.Option) (*asynq.Task, error) {
	base := []asynq.Option{
		asynq.TaskID(SendTaskID(p.TenantID, p.SendID)),
		asynq.Queue(QueueCritical),
		asynq.MaxRetry(MaxRetryInvoice),
	}
	if !processAt.IsZero() {
		base = append(base, asynq.ProcessAt(processAt))
	}
	return newTask(TypeSend, p, append(base, opts...))
}

// DeliveryPayload delivers one delivery: one channel to one recipient.
type DeliveryPayload struct {
	TenantID   string `json:"tenantId"`
	DeliveryID string `json:"deliveryId"`
	// SendID and InvoiceID, when set, are the delivery's send and invoice,
	// so the worker reads them with the delivery in one round trip. Tasks
	// queued before they were added lack them.
	SendID    string `json:"sendId,omitempty"`
	InvoiceID string `json:"invoiceId,omitempty"`
	// Tried counts the attempts made before the task was queued: the
	// send task makes a delivery's first attempt itself, and queues the
	// delivery's task only to try again.
	Tried int `json:"tried,omitempty"`
}

// DeliveryTaskID is the task id of a delivery, so it is queued once.
func DeliveryTaskID(tenantID, deliveryID string) string {
	return "delivery:" + tenantID + ":" + deliveryID
}

// NewDeliveryEmailTask returns the email delivery task for p.
func NewDeliveryEmailTask(p DeliveryPayload, opts ...asynq.Option) (*asynq.Task, error) {
	base := []asynq.Option{
		asynq.TaskID(DeliveryTaskID(p.TenantID, p.DeliveryID)),
		asynq.Queue(QueueCritical),
		asynq.MaxRetry(MaxRetryDelivery),
		asynq.Timeout(2 * time.Minute),
	}
	return newTask(TypeDeliveryEmail, p, append(base, opts...))
}

// NewDeliverySMSTask returns the SMS delivery task for p.
func NewDeliverySMSTask(p DeliveryPayload, opts ...asynq.Option) (*asynq.Task, error) {
	base := []asynq.Option{
		asynq.TaskID(DeliveryTaskID(p.TenantID, p.DeliveryID)),
		asynq.Queue(QueueCritical),
		asynq.MaxRetry(MaxRetryDelivery),
		asynq.Timeout(time.Minute),
	}
	return newTask(TypeDeliverySMS, p, append(base, opts...))
}

// VerifySenderPayload mails a verification code to a tenant's from
// address through its own provider. The worker makes the code, so it never
// sits in the queue.
type VerifySenderPayload struct {
	TenantID string `json:"tenantId"`
	// Identity is store.SenderIdentity of the settings being verified; a
	// task whose settings changed meanwhile does nothing.
	Identity string `json:"identity"`
}

// NewVerifySenderTask returns the task for p.
func NewVerifySenderTask(p VerifySenderPayload, opts ...asynq.Option) (*asynq.Task, error) {
	base := []asynq.Option{asynq.Queue(QueueCritical), asynq.MaxRetry(3), asynq.Timeout(time.Minute)}
	return newTask(TypeVerifySender, p, append(base, opts...))
}

// WebhookFanoutPayload sends one event to every endpoint of its tenant that
// wants it.
type WebhookFanoutPayload struct {
	TenantID string `json:"tenantId"`
	EventID  string `json:"eventId"`
}

// NewWebhookFanoutTask returns the task for p; an event fans out once.
func NewWebhookFanoutTask(p WebhookFanoutPayload, opts ...asynq.Option) (*asynq.Task, error) {
	base := []asynq.Option{
		asynq.TaskID("webhook-fanout:" + p.TenantID + ":" + p.EventID),
		asynq.Queue(QueueDefault), asynq.MaxRetry(MaxRetryInvoice),
	}
	return newTask(TypeWebhookFanout, p, append(base, opts...))
}

// WebhookPayload is one attempt at delivering an event to an endpoint.
// Attempts follow the webhook schedule, each its own task.
type WebhookPayload struct {
	TenantID   string `json:"tenantId"`
	EndpointID string `json:"endpointId"`
	EventID    string `json:"eventId"`
	// Attempt counts from 1.
	Attempt int `json:"attempt"`
	// Replay distinguishes a replay's attempts from the first series.
	Replay string `json:"replay,omitempty"`
}

// NewWebhookTask returns the attempt p, to run at processAt (zero: now).
func NewWebhookTask(p WebhookPayload, processAt time.Time, opts ...asynq.Option) (*asynq.Task, error) {
	id := fmt.Sprintf("webhook:%s:%s:%s:%s:%d", p.TenantID, p.EndpointID, p.EventID, p.Replay, p.Attempt)
	base := []asynq.Option{
		asynq.TaskID(id), asynq.Queue(QueueDefault), asynq.MaxRetry(0),
		asynq.Timeout(time.Minute),
	}
	if !processAt.IsZero() {
		base = append(base, asynq.ProcessAt(processAt))
	}
	return newTask(TypeWebhook, p, append(base, opts...))
}

// PaymentLinkPayload asks the tenant's gateway for an invoice's payment
// link.
type PaymentLinkPayload struct {
	TenantID  string `json:"tenantId"`
	InvoiceID string `json:"invoiceId"`
}

// NewPaymentLinkTask returns the task for p, queued once per invoice while
// it waits; a gateway error is retried with backoff.
func NewPaymentLinkTask(p PaymentLinkPayload, opts ...asynq.Option) (*asynq.Task, error) {
	base := []asynq.Option{
		asynq.TaskID("payment-link:" + p.TenantID + ":" + p.InvoiceID),
		asynq.Queue(QueueCritical), asynq.MaxRetry(MaxRetryInvoice), asynq.Timeout(time.Minute),
	}
	return newTask(TypePaymentLink, p, append(base, opts...))
}

// DeactivateLinkPayload switches off an invoice's payment link.
type DeactivateLinkPayload struct {
	TenantID  string `json:"tenantId"`
	InvoiceID string `json:"invoiceId"`
	// LinkID, when set, is a link the invoice no longer has, replaced
	// after a credit note lowered the amount due: it is switched off
	// whatever the invoice's status.
	LinkID string `json:"linkId,omitempty"`
}

// DeactivateLinkTaskID is the one task id of switching off an invoice's
// payment link, so it is queued at most once while it waits; a replaced
// link (linkID) has one of its own.
func DeactivateLinkTaskID(tenantID, invoiceID, linkID string) string {
	id := "payment-link-deactivate:" + tenantID + ":" + invoiceID
	if linkID != "" {
		id += ":" + linkID
	}
	return id
}

// NewDeactivateLinkTask returns the task that switches off the payment
// link of an invoice that was paid another way or voided, so the link
// cannot take a second payment; a gateway error is retried with backoff.
func NewDeactivateLinkTask(p DeactivateLinkPayload, opts ...asynq.Option) (*asynq.Task, error) {
	base := []asynq.Option{
		asynq.TaskID(DeactivateLinkTaskID(p.TenantID, p.InvoiceID, p.LinkID)),
		asynq.Queue(QueueCritical), asynq.MaxRetry(MaxRetryInvoice), asynq.Timeout(time.Minute),
	}
	return newTask(TypeDeactivateLink, p, append(base, opts...))
}

// RemindersPayload schedules the payment reminders of a just-finalized
// invoice.
type RemindersPayload struct {
	TenantID  string `json:"tenantId"`
	InvoiceID string `json:"invoiceId"`
}

// NewRemindersTask returns the task for p, once per invoice while it
// waits.
func NewRemindersTask(p RemindersPayload, opts ...asynq.Option) (*asynq.Task, error) {
	base := []asynq.Option{
		asynq.TaskID("reminders:" + p.TenantID + ":" + p.InvoiceID),
		asynq.Queue(QueueDefault), asynq.MaxRetry(MaxRetryInvoice),
	}
	return newTask(TypeReminders, p, append(base, opts...))
}

// NewSweepFinalizeTask returns the periodic sweep task. It has no payload.
func NewSweepFinalizeTask(opts ...asynq.Option) *asynq.Task {
	base := []asynq.Option{asynq.Queue(QueueDefault), asynq.MaxRetry(0), asynq.Timeout(5 * time.Minute)}
	return asynq.NewTask(TypeSweepFinalize, nil, append(base, opts...)...)
}

// NewSweepEventsTask returns the periodic sweep of events whose webhook
// fan-out was never queued. It has no payload.
func NewSweepEventsTask(opts ...asynq.Option) *asynq.Task {
	base := []asynq.Option{asynq.Queue(QueueDefault), asynq.MaxRetry(0), asynq.Timeout(5 * time.Minute)}
	return asynq.NewTask(TypeSweepEvents, nil, append(base, opts...)...)
}

// NewSweepDeliveriesTask returns the periodic sweep of deliveries left
// scheduled or queued with no task to move them on. It has no payload.
func NewSweepDeliveriesTask(opts ...asynq.Option) *asynq.Task {
	base := []asynq.Option{asynq.Queue(QueueDefault), asynq.MaxRetry(0), asynq.Timeout(5 * time.Minute)}
	return asynq.NewTask(TypeSweepDeliveries, nil, append(base, opts...)...)
}

func newTask(typ string, payload any, opts []asynq.Option) (*asynq.Task, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", typ, err)
	}
	return asynq.NewTask(typ, b, opts...), nil
}

// Decode unmarshals t's payload into p, naming the task type on failure.
// It reads with go-json, as the worker's log middleware does: a send's
// payload in a quarter of the time, with about half the allocations, of
// encoding/json.
func Decode(t *asynq.Task, p any) error {
	if err := gojson.Unmarshal(t.Payload(), p); err != nil {
		return fmt.Errorf("decode %s payload: %w: %w", t.Type(), err, asynq.SkipRetry)
	}
	return nil
}
