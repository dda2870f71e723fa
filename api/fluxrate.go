package api

// Fluxrate's send-email route: the same send in Fluxrate's request and
// response shape, so a billing system written against it switches by
// changing its base URL.

import (
	"fmt"
	"net/http"
	"time"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
)

// fluxrateResponse is Fluxrate's send-email answer. PaymentLinkError says
// why payment_link is null although the tenant has a payment gateway: the
// gateway's error, or that the link is still being made.
type fluxrateResponse struct {
	Success          bool    `json:"success"`
	Message          string  `json:"message"`
	PaymentLink      *string `json:"payment_link"`
	PaymentLinkError string  `json:"payment_link_error,omitempty"`
}

// fluxrateSendEmail handles POST /api/v1/invoices/{id}/send-email, in the
// order Fluxrate documents: a draft is finalized (open), its payment link
// made when the tenant has a gateway, and the email queued with the PDF
// and the link. The body is optional and takes the canonical send fields.
//
// The answer carries the payment link when the gateway made it within
// paymentLinkWait, else payment_link_error says why not. Without an email
// provider the answer is success false, and the invoice is finalized all
// the same with its payment link requested.
func (a *API) fluxrateSendEmail(w http.ResponseWriter, r *http.Request) *Error {
	ctx := r.Context()
	fail := func(e *Error) *Error {
		e = answered(e)
		setRetryAfter(w, e)
		writeJSON(w, e.Status, fluxrateResponse{Success: false, Message: e.Message})
		if e.Status >= 500 {
			a.writeErrorLogOnly(r, e)
		}
		return nil
	}
	inv, settings, apiErr := a.loadInvoiceForSend(r)
	if apiErr != nil {
		return fail(apiErr)
	}
	var req sendRequest
	if err := decodeJSON(bodyOf(r), &req, true); err != nil {
		return fail(withFieldsInMessage(err))
	}
	// A request that cannot be sent changes nothing.
	send, apiErr := buildSend(&req, inv, store.SendKindSend, a.st.Now())
	if apiErr != nil {
		return fail(withFieldsInMessage(apiErr))
	}
	if !inv.Status.Sendable() {
		return fail(&Error{Status: http.StatusUnprocessableEntity, Code: CodeNotSendable,
			Message: fmt.Sprintf("invoice %s is %s and cannot be sent", inv.ID, inv.Status)})
	}
	if inv.Status == invoice.StatusDraft {
		if inv, apiErr = a.finalize(ctx, inv, "send"); apiErr != nil {
			return fail(apiErr)
		}
	}
	sendErr := a.startSend(r, inv, send, &settings)
	if sendErr != nil && sendErr.Status >= 500 {
		return fail(sendErr)
	}
	resp := fluxrateResponse{Success: sendErr == nil}
	if settings.Payments.Gateway != "" && inv.Payable() {
		var err error
		if inv, err = a.awaitPaymentLink(ctx, inv); err != nil {
			return fail(errInternal(err))
		}
		switch {
		case inv.PaymentLink != "":
			resp.PaymentLink = &inv.PaymentLink
		case inv.PaymentLinkError != "":
			resp.PaymentLinkError = "the payment gateway refused the link: " + inv.PaymentLinkError
		default:
			resp.PaymentLinkError = fmt.Sprintf("the payment link is still being made; GET /api/v1/invoices/%s/payment-link returns it", inv.ID)
		}
	}
	switch {
	case sendErr != nil:
		setRetryAfter(w, sendErr)
		resp.Message = withFieldsInMessage(sendErr).Message
		writeJSON(w, sendErr.Status, resp)
		return nil
	case send.ScheduledAt != nil:
		resp.Message = fmt.Sprintf("Invoice %s scheduled for email to %s at %s", inv.Number, send.Email, send.ScheduledAt.Format(time.RFC3339))
	default:
		resp.Message = fmt.Sprintf("Invoice %s queued for email to %s", inv.Number, send.Email)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// withFieldsInMessage folds field messages into the message, for the
// compat shapes that have no fields object.
func withFieldsInMessage(e *Error) *Error {
	if len(e.Fields) == 0 {
		return e
	}
	c := *e
	c.Message = invoice.FieldErrors(e.Fields).Error()
	return &c
}

func (a *API) writeErrorLogOnly(r *http.Request, e *Error) {
	a.log.Sugar().Errorw("request failed", "path", logPath(r), "error", e.cause)
}
