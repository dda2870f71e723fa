package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/qr"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// paymentLinkWait is how long GET …/payment-link waits for a link the
// worker is creating before answering 202.
const paymentLinkWait = 5 * time.Second

// queuePaymentLink asks the worker for the invoice's payment link.
func (a *API) queuePaymentLink(ctx context.Context, inv *invoice.Invoice) error {
	task, err := tasks.NewPaymentLinkTask(tasks.PaymentLinkPayload{TenantID: inv.TenantID, InvoiceID: inv.ID})
	if err == nil {
		_, err = a.cfg.Enqueuer.EnqueueContext(ctx, task)
	}
	if err != nil && !isTaskConflict(err) {
		return err
	}
	return nil
}

// queueDeactivateLink enqueues the task that switches off the payment
// link of an invoice just paid another way or voided; an invoice without
// a link has nothing to switch off. A failure is logged, not returned:
// the invoice's change is stored already.
func (a *API) queueDeactivateLink(ctx context.Context, inv *invoice.Invoice) {
	if inv.PaymentLinkID == "" {
		return
	}
	task, err := tasks.NewDeactivateLinkTask(tasks.DeactivateLinkPayload{TenantID: inv.TenantID, InvoiceID: inv.ID})
	if err == nil {
		_, err = a.cfg.Enqueuer.EnqueueContext(ctx, task)
	}
	if err != nil && !isTaskConflict(err) {
		a.log.Error("payment link deactivation not queued", zap.String("tenant_id", inv.TenantID),
			zap.String("invoice_id", inv.ID), zap.Error(err))
	}
}

func (a *API) paymentLinkView(inv *invoice.Invoice) map[string]any {
	return map[string]any{
		"invoiceId":   inv.ID,
		"paymentLink": inv.PaymentLink,
		"active":      inv.Payable(),
		"qrCodeUrl":   a.publicQRCodeURL(inv),
		"expiresAt":   inv.PaymentLinkExpiresAt,
	}
}

// paymentLink handles GET …/payment-link: the invoice's link, created now
// if it has none yet (the worker asks the gateway; this waits briefly).
func (a *API) paymentLink(w http.ResponseWriter, r *http.Request) *Error {
	ctx := r.Context()
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	if inv.PaymentLink != "" {
		writeData(w, http.StatusOK, a.paymentLinkView(inv))
		return nil
	}
	switch {
	case inv.IsCreditNote():
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeNotSendable,
			Message: fmt.Sprintf("%s is a credit note; it asks for no payment", inv.ID)}
	case inv.Status != invoice.StatusOpen:
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeNotSendable,
			Message: fmt.Sprintf("invoice %s is %s; payment links are for open invoices (finalize it first)", inv.ID, inv.Status)}
	case !inv.Payable():
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeNotSendable,
			Message: fmt.Sprintf("invoice %s has nothing left to pay (amountDue %s)", inv.ID, inv.AmountDue)}
	}
	settings, err := a.st.Settings(ctx, inv.TenantID)
	if err != nil {
		return errInternal(err)
	}
	if settings.Payments.Gateway == "" {
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "no payment gateway is configured; set settings.payments.gateway"}
	}
	if err := a.queuePaymentLink(ctx, inv); err != nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "the payment link could not be requested; retry", cause: err}
	}
	inv, err = a.awaitPaymentLink(ctx, inv)
	if err != nil {
		return errInternal(err)
	}
	if inv.PaymentLink != "" {
		writeData(w, http.StatusOK, a.paymentLinkView(inv))
		return nil
	}
	writeData(w, http.StatusAccepted, map[string]any{
		"invoiceId": inv.ID, "status": "pending", "error": inv.PaymentLinkError,
	})
	return nil
}

// awaitPaymentLink polls the invoice for up to paymentLinkWait until the
// worker has stored its payment link or a gateway error other than the
// one it had (an earlier attempt's), and returns it as it then is. A
// canceled request returns what was read last.
func (a *API) awaitPaymentLink(ctx context.Context, inv *invoice.Invoice) (*invoice.Invoice, error) {
	deadline := time.Now().Add(paymentLinkWait)
	earlier := inv.PaymentLinkError
	for inv.PaymentLink == "" && (inv.PaymentLinkError == "" || inv.PaymentLinkError == earlier) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return inv, nil
		case <-time.After(100 * time.Millisecond):
		}
		next, err := a.st.Invoice(ctx, inv.TenantID, inv.ID)
		if err != nil {
			return nil, err
		}
		inv = next
	}
	return inv, nil
}

// qrCode handles GET …/qr-code?size=&format=&color=&backgroundColor=: the
// payment link as a QR code.
func (a *API) qrCode(w http.ResponseWriter, r *http.Request) *Error {
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	return writeQRCode(w, r, inv, "private, max-age=300")
}

// writeQRCode answers with inv's payment link as a QR code, in the size,
// format and colours the query asks for, with Cache-Control cache when it
// is set. Bad options are a 400, and an invoice without a link a 404,
// checked in that order.
func writeQRCode(w http.ResponseWriter, r *http.Request, inv *invoice.Invoice, cache string) *Error {
	q := r.URL.Query()
	fe := map[string]string{}
	size := 300
	if v := q.Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 200 || n > 1000 {
			fe["size"] = "must be a whole number from 200 to 1000"
		}
		size = n
	}
	format := strings.ToLower(q.Get("format"))
	if format == "" {
		format = "png"
	}
	if format != "png" && format != "svg" && format != "pdf" {
		fe["format"] = "must be png, svg or pdf"
	}
	fg, err := qr.ParseColor(firstNonEmpty(q.Get("color"), "#000000"))
	if err != nil {
		fe["color"] = "must be a colour like #1F4E79"
	}
	bg, err := qr.ParseColor(firstNonEmpty(q.Get("backgroundColor"), "#FFFFFF"))
	if err != nil {
		fe["backgroundColor"] = "must be a colour like #FFFFFF"
	}
	if len(fe) > 0 {
		return errValidation("the QR code parameters are invalid", fe)
	}
	if inv.PaymentLink == "" {
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "the invoice has no payment link yet"}
	}
	code, err := qr.Encode(inv.PaymentLink)
	if err != nil {
		return errInternal(err)
	}
	var body []byte
	switch format {
	case "png":
		body, err = code.PNG(size, fg, bg)
	case "svg":
		body = code.SVG(size, fg, bg)
	case "pdf":
		body, err = code.PDF(size, fg, bg)
	}
	if err != nil {
		return errInternal(err)
	}
	w.Header().Set("Content-Type", map[string]string{"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}[format])
	if cache != "" {
		w.Header().Set("Cache-Control", cache)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(body)
	return nil
}

// markPaid handles POST …/mark-paid: an open invoice becomes paid (an
// already paid one is returned as it is).
func (a *API) markPaid(w http.ResponseWriter, r *http.Request) *Error {
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	if err := decodeJSON(bodyOf(r), &struct{}{}, true); err != nil {
		return err
	}
	paid, changed, err := a.st.MarkPaid(r.Context(), inv.TenantID, inv.ID, "api")
	if err != nil {
		return asError(err, "invoice")
	}
	if changed {
		a.emitPaid(r.Context(), paid)
		a.queueDeactivateLink(r.Context(), paid)
		a.cancelReminders(r.Context(), paid)
	}
	writeData(w, http.StatusOK, a.view(r, paid, nil))
	return nil
}

func (a *API) emitPaid(ctx context.Context, inv *invoice.Invoice) {
	a.emit(ctx, inv.TenantID, inv.ID, []string{store.EventInvoicePaid}, map[string]any{
		"invoiceId": inv.ID, "number": inv.Number, "total": inv.Total, "currency": inv.Currency, "paidBy": inv.PaidBy,
	})
}

// StripeCheckout is a verified checkout.session.completed event.
type StripeCheckout struct {
	EventID, SessionID, TenantID, InvoiceID string
	PaymentStatus                           string
}

// StripeEvents verifies a Stripe webhook with the tenant's signing secret;
// errors.Is(err, ErrIgnoredStripeEvent) for event types we do not use.
type StripeEvents func(payload []byte, signature, secret string, now time.Time) (*StripeCheckout, error)

// ErrIgnoredStripeEvent marks a verified Stripe event of another type.
var ErrIgnoredStripeEvent = errors.New("stripe event type not used")

// stripeCallback handles POST /callbacks/stripe/{tenant}: Stripe's
// checkout.session.completed marks the invoice paid, once the signature
// checks out with the tenant's webhook secret.
func (a *API) stripeCallback(w http.ResponseWriter, r *http.Request) *Error {
	if a.cfg.StripeEvents == nil {
		return errNotFound("route")
	}
	ctx := r.Context()
	body, apiErr := readBody(w, r, maxCallbackBytes)
	if apiErr != nil {
		return apiErr
	}
	tenantID := r.PathValue("tenant")
	forbidden := &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "the Stripe-Signature does not verify"}
	settings, err := a.st.Settings(ctx, tenantID)
	if err != nil || settings.Payments.Stripe == nil || settings.Payments.Stripe.WebhookSecret == "" {
		return forbidden
	}
	ev, err := a.cfg.StripeEvents(body, r.Header.Get("Stripe-Signature"), settings.Payments.Stripe.WebhookSecret, time.Now())
	switch {
	case errors.Is(err, ErrIgnoredStripeEvent):
		w.WriteHeader(http.StatusNoContent)
		return nil
	case err != nil:
		return forbidden
	case ev.TenantID != tenantID || ev.PaymentStatus != "paid":
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	paid, changed, err := a.st.MarkPaid(ctx, tenantID, ev.InvoiceID, "stripe")
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
		w.WriteHeader(http.StatusNoContent)
		return nil
	case err != nil:
		return errInternal(err)
	}
	if changed {
		a.emitPaid(ctx, paid)
		a.cancelReminders(ctx, paid)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
