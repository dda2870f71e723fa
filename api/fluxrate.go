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

// fluxrateResponse is Fluxrate's send-email answer.
type fluxrateResponse struct {
	Success     bool    `json:"success"`
	Message     string  `json:"message"`
	PaymentLink *string `json:"payment_link"`
}

// fluxrateSendEmail handles POST /api/v1/invoices/{id}/send-email. The body
// is optional and takes the canonical send fields.
func (a *API) fluxrateSendEmail(w http.ResponseWriter, r *http.Request) *Error {
	fail := func(e *Error) *Error {
		setRetryAfter(w, e)
		writeJSON(w, e.Status, fluxrateResponse{Success: false, Message: e.Message})
		if e.Status >= 500 {
			a.writeErrorLogOnly(r, e)
		}
		return nil
	}
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return fail(apiErr)
	}
	var req sendRequest
	if err := decodeJSON(bodyOf(r), &req, true); err != nil {
		return fail(withFieldsInMessage(err))
	}
	send, apiErr := a.queueSend(r, inv, &req, store.SendKindSend)
	if apiErr != nil {
		return fail(withFieldsInMessage(apiErr))
	}
	var link *string
	if inv.PaymentLink != "" {
		link = &inv.PaymentLink
	}
	msg := fmt.Sprintf("Invoice %s queued for email to %s", inv.Number, send.Email)
	if send.ScheduledAt != nil {
		msg = fmt.Sprintf("Invoice %s scheduled for email to %s at %s", inv.Number, send.Email, send.ScheduledAt.Format(time.RFC3339))
	}
	writeJSON(w, http.StatusOK, fluxrateResponse{Success: true, Message: msg, PaymentLink: link})
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
	a.log.Sugar().Errorw("request failed", "path", r.URL.Path, "error", e.cause)
}
