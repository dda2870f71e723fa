package stripe

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"
)

// WebhookTolerance is how far a webhook signature's timestamp may be from
// now, either way, as in Stripe's own libraries: older deliveries are
// refused as possible replays.
const WebhookTolerance = webhook.DefaultTolerance

// Event types ParseWebhook reports.
const (
	EventCheckoutCompleted           = "checkout.session.completed"
	EventCheckoutAsyncPaymentSuccess = "checkout.session.async_payment_succeeded"
)

// ErrInvalidSignature is matched by errors.Is for a webhook whose
// Stripe-Signature header is missing or malformed, does not verify with
// the secret, or is older than WebhookTolerance. Answer such a request
// with 400.
var ErrInvalidSignature = errors.New("stripe: webhook signature does not verify")

// ErrIgnoredEvent is matched by errors.Is for a verified event this
// package does not report: another type, or a Checkout Session that does
// not carry the tenant_id and invoice_id metadata CreatePaymentLink sets.
// Answer such a request with 2xx so Stripe stops sending it.
var ErrIgnoredEvent = errors.New("stripe: event not used")

// CheckoutCompleted is a verified event about a Checkout Session that
// CreatePaymentLink started, directly or through a Payment Link.
type CheckoutCompleted struct {
	// EventID is Stripe's "evt_…" id; Stripe may deliver an event more
	// than once.
	EventID string
	// Type is EventCheckoutCompleted or EventCheckoutAsyncPaymentSuccess.
	Type      string
	SessionID string
	// PaymentLinkID is the "plink_…" id when the session came from a
	// Payment Link, else empty.
	PaymentLinkID string
	TenantID      string
	InvoiceID     string
	// AmountTotal is in the currency's ISO 4217 minor unit, as in
	// providers.PaymentRequest (Stripe's hundredths of ISK are converted).
	AmountTotal int64
	// Currency is the ISO 4217 code, upper case.
	Currency string
	// PaymentStatus is "paid", "unpaid" (a delayed payment method such as
	// SEPA Direct Debit has not settled; EventCheckoutAsyncPaymentSuccess
	// follows when it does) or "no_payment_required".
	PaymentStatus string
	Livemode      bool
}

// checkoutSession is the part of Stripe's Checkout Session object that
// CheckoutCompleted reports, read without stripe-go's typed object so
// that an event of another API version reads the same.
type checkoutSession struct {
	ID            string            `json:"id"`
	Object        string            `json:"object"`
	AmountTotal   int64             `json:"amount_total"`
	Currency      string            `json:"currency"`
	Metadata      map[string]string `json:"metadata"`
	PaymentLink   json.RawMessage   `json:"payment_link"`
	PaymentStatus string            `json:"payment_status"`
}

// ParseWebhook verifies a Stripe webhook delivery and reports the
// Checkout Session it is about.
//
// payload is the request body exactly as received; signatureHeader is its
// Stripe-Signature header ("t=<unix time>,v1=<hex HMAC-SHA256 of
// "<t>.<payload>" keyed with secret>", with more v1 entries while a secret
// is being rolled); secret is the endpoint's signing secret ("whsec_…").
// The signature must verify and t must be within WebhookTolerance of now.
// The event's API version is not checked: only fields that every version
// has are read.
//
// It returns the session for checkout.session.completed and
// checkout.session.async_payment_succeeded. Check PaymentStatus: a
// completed session paid with a delayed method is "unpaid" until the
// async_payment_succeeded event. Errors match ErrInvalidSignature or
// ErrIgnoredEvent; any other error is a verified payload that is not a
// well-formed event.
func ParseWebhook(payload []byte, signatureHeader, secret string, now time.Time) (*CheckoutCompleted, error) {
	if secret == "" {
		return nil, fmt.Errorf("%w: no webhook secret is configured", ErrInvalidSignature)
	}
	ts, err := signatureTime(signatureHeader)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	}
	// The tolerance is checked below against now, not stripe-go's clock.
	ev, err := webhook.ConstructEventWithOptions(payload, signatureHeader, secret, webhook.ConstructEventOptions{
		IgnoreTolerance:          true,
		IgnoreAPIVersionMismatch: true,
	})
	switch {
	case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader),
		errors.Is(err, webhook.ErrNoValidSignature):
		return nil, fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	case err != nil:
		return nil, fmt.Errorf("stripe: webhook: %w", err)
	}
	if age := now.Sub(ts); age > WebhookTolerance || age < -WebhookTolerance {
		return nil, fmt.Errorf("%w: %w: signed at %s, %s from now", ErrInvalidSignature, webhook.ErrTooOld,
			ts.UTC().Format(time.RFC3339), age.Round(time.Second))
	}

	typ := string(ev.Type)
	if typ != EventCheckoutCompleted && typ != EventCheckoutAsyncPaymentSuccess {
		return nil, fmt.Errorf("%w: type %s", ErrIgnoredEvent, typ)
	}
	if ev.Data == nil || len(ev.Data.Raw) == 0 {
		return nil, fmt.Errorf("stripe: webhook: event %s has no data.object", ev.ID)
	}
	var s checkoutSession
	if err := json.Unmarshal(ev.Data.Raw, &s); err != nil {
		return nil, fmt.Errorf("stripe: webhook: event %s: data.object: %w", ev.ID, err)
	}
	if s.Object != "checkout.session" || s.ID == "" {
		return nil, fmt.Errorf("stripe: webhook: event %s is about a %q, not a checkout.session", ev.ID, s.Object)
	}
	tenantID, invoiceID := s.Metadata["tenant_id"], s.Metadata["invoice_id"]
	if tenantID == "" || invoiceID == "" {
		return nil, fmt.Errorf("%w: session %s has no tenant_id and invoice_id metadata", ErrIgnoredEvent, s.ID)
	}
	return &CheckoutCompleted{
		EventID:       ev.ID,
		Type:          typ,
		SessionID:     s.ID,
		PaymentLinkID: expandableID(s.PaymentLink),
		TenantID:      tenantID,
		InvoiceID:     invoiceID,
		AmountTotal:   isoAmount(s.AmountTotal, s.Currency),
		Currency:      strings.ToUpper(s.Currency),
		PaymentStatus: s.PaymentStatus,
		Livemode:      ev.Livemode,
	}, nil
}

// signatureTime reads t from a Stripe-Signature header.
func signatureTime(header string) (time.Time, error) {
	if header == "" {
		return time.Time{}, webhook.ErrNotSigned
	}
	for part := range strings.SplitSeq(header, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok {
			secs, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return time.Time{}, webhook.ErrInvalidHeader
			}
			return time.Unix(secs, 0), nil
		}
	}
	return time.Time{}, webhook.ErrInvalidHeader
}

// expandableID reads an expandable field: null, an id, or an object with
// an id.
func expandableID(raw json.RawMessage) string {
	if id, ok := stripego.ParseID(raw); ok {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.ID
	}
	return ""
}
