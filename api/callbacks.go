package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"go.uber.org/zap"

	"github.com/invoiced/invoiced/store"
)

// SNSMessage is an Amazon SNS message whose signature has been verified.
type SNSMessage struct {
	// Type is "Notification", "SubscriptionConfirmation" or
	// "UnsubscribeConfirmation".
	Type     string
	TopicARN string
	// Event is the SES event a Notification carries.
	Event *SESEvent
	// Raw is the verified message, for Confirm.
	Raw any
}

// SESEvent is one SES event-publishing record, already mapped to what it
// means for a delivery.
type SESEvent struct {
	Kind      string
	MessageID string
	// Status is the delivery status the event moves to, or "" for events
	// that change none (a soft bounce, a delay).
	Status     store.DeliveryStatus
	Recipients []string
	// Suppress puts Recipients on the suppression list (hard bounce,
	// complaint).
	Suppress bool
	Detail   string
	// IP is the address an Open or a Click came from, when SES knows it.
	IP string
}

// SESCallbacks verifies SNS messages and confirms subscriptions; the SES
// provider package implements it.
type SESCallbacks interface {
	// Verify parses body and checks its SNS signature, certificate and age.
	Verify(ctx context.Context, body []byte) (*SNSMessage, error)
	// Confirm confirms a verified subscription by fetching its SubscribeURL.
	Confirm(ctx context.Context, m *SNSMessage) error
}

// maxCallbackBytes bounds a provider callback's body.
const maxCallbackBytes = 256 << 10

// sesCallback handles POST /callbacks/ses: SNS messages carrying SES
// events. Nothing is trusted before the signature checks out, and a topic
// must be on the tenant's allow-list (settings.email.ses.eventTopicArns).
func (a *API) sesCallback(w http.ResponseWriter, r *http.Request) *Error {
	if a.cfg.SES == nil {
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "SES callbacks are not enabled on this deployment"}
	}
	ctx := r.Context()
	body, apiErr := readBody(w, r, maxCallbackBytes)
	if apiErr != nil {
		return apiErr
	}
	m, err := a.cfg.SES.Verify(ctx, body)
	var temp interface{ Temporary() bool }
	if errors.As(err, &temp) && temp.Temporary() {
		// SNS retries on 5xx: the certificate may be fetchable later.
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "the SNS message could not be verified yet", cause: err}
	}
	if err != nil {
		a.log.Warn("SNS message refused", zap.Error(err))
		return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "the SNS message did not verify: " + err.Error()}
	}
	switch m.Type {
	case "SubscriptionConfirmation":
		if _, err := a.st.TenantForTopic(ctx, m.TopicARN); err != nil {
			return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "topic " + m.TopicARN + " is not on any tenant's allow-list"}
		}
		if err := a.cfg.SES.Confirm(ctx, m); err != nil {
			return &Error{Status: http.StatusBadGateway, Code: CodeUnavailable, Message: "the subscription could not be confirmed", cause: err}
		}
		a.log.Info("SNS subscription confirmed", zap.String("topic", m.TopicARN))
	case "Notification":
		if apiErr := a.applySESEvent(ctx, m); apiErr != nil {
			return apiErr
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) applySESEvent(ctx context.Context, m *SNSMessage) *Error {
	ev := m.Event
	if ev == nil || ev.MessageID == "" {
		return nil // an event type that concerns no delivery: acknowledged
	}
	d, err := a.st.DeliveryByProviderMessage(ctx, store.ProviderSES, ev.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		// Mail we did not send, or older than the events we keep: nothing
		// to update, and SNS must not retry it.
		return nil
	}
	if err != nil {
		return errInternal(err)
	}
	settings, err := a.st.Settings(ctx, d.TenantID)
	if err != nil {
		return errInternal(err)
	}
	if !settings.Email.AllowsTopic(m.TopicARN) {
		return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "topic " + m.TopicARN + " is not on the tenant's allow-list"}
	}
	if ev.Suppress {
		for _, addr := range ev.Recipients {
			if err := a.st.Suppress(ctx, d.TenantID, addr, strings.ToLower(ev.Kind)+": "+ev.Detail); err != nil {
				return errInternal(err)
			}
		}
	}
	return a.applyProviderStatus(ctx, d, store.Transition{
		Status: ev.Status, Source: store.ProviderSES, Detail: ev.Kind + ": " + ev.Detail, IP: ev.IP,
	})
}

// applyProviderStatus moves a delivery to step's status as a provider
// reported, emitting its events, or notes step when its status is empty
// (an event that changes none). Late and repeated reports never move a
// delivery backwards.
func (a *API) applyProviderStatus(ctx context.Context, d *store.Delivery, step store.Transition) *Error {
	if step.Status == "" {
		step.Status = d.Status
		if _, err := a.st.Note(ctx, d.TenantID, d.ID, step); err != nil {
			return errInternal(err)
		}
		return nil
	}
	moved, changed, err := a.st.Transition(ctx, d.TenantID, d.ID, step.Status, step.Source, step.Detail, store.FromIP(step.IP))
	if err != nil {
		return errInternal(err)
	}
	if changed {
		a.emitDelivery(ctx, moved)
		return nil
	}
	if err := a.noteRepeat(ctx, moved, step); err != nil {
		return errInternal(err)
	}
	return nil
}

// noteRepeat records a repeated open or click in the history of a delivery
// that already got that far; other repeats and late events leave no trace.
func (a *API) noteRepeat(ctx context.Context, d *store.Delivery, step store.Transition) error {
	repeat := (step.Status == store.DeliveryOpened || step.Status == store.DeliveryClicked) &&
		(d.Status == step.Status || (step.Status == store.DeliveryOpened && d.Status == store.DeliveryClicked))
	if !repeat {
		return nil
	}
	_, err := a.st.Note(ctx, d.TenantID, d.ID, step)
	return err
}

// TwilioValidator checks an X-Twilio-Signature for the full public URL of
// the callback and its form parameters; twilio-go's RequestValidator does.
type TwilioValidator func(authToken, fullURL string, params map[string]string, signature string) bool

// twilioStatuses maps Twilio's MessageStatus to delivery statuses; the
// others (queued, accepted, sending, scheduled) change nothing.
var twilioStatuses = map[string]store.DeliveryStatus{
	"sent":        store.DeliverySent,
	"delivered":   store.DeliveryDelivered,
	"undelivered": store.DeliveryFailed,
	"failed":      store.DeliveryFailed,
	"read":        store.DeliveryOpened,
}

// twilioCallback handles POST /callbacks/twilio, Twilio's status posts
// for the messages we sent, signed with the tenant's auth token.
func (a *API) twilioCallback(w http.ResponseWriter, r *http.Request) *Error {
	if a.cfg.TwilioValidator == nil {
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "Twilio callbacks are not enabled on this deployment"}
	}
	ctx := r.Context()
	body, apiErr := readBody(w, r, maxCallbackBytes)
	if apiErr != nil {
		return apiErr
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return errValidation("the callback body is not form-encoded", nil)
	}
	params := make(map[string]string, len(form))
	for k := range form {
		params[k] = form.Get(k)
	}
	forbidden := &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "the X-Twilio-Signature does not match"}
	d, err := a.st.DeliveryByProviderMessage(ctx, store.SMSProviderTwilio, params["MessageSid"])
	if errors.Is(err, store.ErrNotFound) {
		return forbidden // unknown messages look the same as forged ones
	}
	if err != nil {
		return errInternal(err)
	}
	settings, err := a.st.Settings(ctx, d.TenantID)
	if err != nil {
		return errInternal(err)
	}
	tw := settings.SMS.Twilio
	fullURL := a.cfg.PublicBaseURL + r.URL.RequestURI()
	if tw == nil || tw.AuthToken == "" || params["AccountSid"] != tw.AccountSID ||
		!a.cfg.TwilioValidator(tw.AuthToken, fullURL, params, r.Header.Get("X-Twilio-Signature")) {
		return forbidden
	}
	status, known := twilioStatuses[params["MessageStatus"]]
	detail := "twilio: " + params["MessageStatus"]
	if code := params["ErrorCode"]; code != "" {
		detail += fmt.Sprintf(" (error %s)", code)
	}
	if !known {
		status = ""
	}
	if apiErr := a.applyProviderStatus(ctx, d, store.Transition{Status: status, Source: "twilio", Detail: detail}); apiErr != nil {
		return apiErr
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
