package api

// The compatibility routes: the same send in each seed API's own request
// and response shape, so a billing system written against one of them
// switches by changing its base URL.

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

// stornoRequest is Storno's email request.
type stornoRequest struct {
	To        string      `json:"to"`
	Cc        addressList `json:"cc"`
	Bcc       addressList `json:"bcc"`
	Subject   string      `json:"subject"`
	Body      string      `json:"body"`
	AttachPDF *bool       `json:"attachPdf"`
	AttachXML *bool       `json:"attachXml"`
	Language  string      `json:"language"`
}

// stornoResponse is Storno's email answer. SentAt stays null until the
// provider accepts the message; DeliveryStatus says where it stands.
type stornoResponse struct {
	Success        bool       `json:"success"`
	EmailID        string     `json:"emailId"`
	To             string     `json:"to"`
	Cc             []string   `json:"cc"`
	Subject        string     `json:"subject"`
	Attachments    []string   `json:"attachments"`
	SentAt         *time.Time `json:"sentAt"`
	DeliveryStatus string     `json:"deliveryStatus"`
}

// stornoEmail handles POST /api/v1/invoices/{id}/email.
func (a *API) stornoEmail(w http.ResponseWriter, r *http.Request) *Error {
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	var req stornoRequest
	if err := decodeJSON(bodyOf(r), &req, true); err != nil {
		return err
	}
	canonical := sendRequest{To: req.To, Cc: req.Cc, Bcc: req.Bcc, Subject: req.Subject, Body: req.Body,
		AttachPDF: req.AttachPDF, AttachXML: req.AttachXML, Language: req.Language}
	send, apiErr := a.queueSend(r, inv, &canonical, store.SendKindSend)
	if apiErr != nil {
		return apiErr
	}
	settings, err := a.st.Settings(r.Context(), inv.TenantID)
	if err != nil {
		return errInternal(err)
	}
	resp := stornoResponse{
		Success: true, EmailID: send.DeliveryIDs[0], To: send.Email, Cc: send.Cc,
		Subject:        subjectFor(inv, send, settings),
		Attachments:    []string{},
		DeliveryStatus: string(store.DeliveryQueued),
	}
	if resp.Cc == nil {
		resp.Cc = []string{}
	}
	if send.AttachPDF {
		resp.Attachments = append(resp.Attachments, invoice.FileStem(inv.Number)+".pdf")
	}
	if send.AttachXML {
		resp.Attachments = append(resp.Attachments, invoice.FileStem(inv.Number)+".xml")
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// MaxInfinityDescription is the Infinity route's limit on description.
const MaxInfinityDescription = 2000

// infinityRequest is Infinity's send request.
type infinityRequest struct {
	Email       string `json:"email"`
	Description string `json:"description"`
}

// infinityEmailDelivery is one entry of Infinity's emailDeliveries.
type infinityEmailDelivery struct {
	ID        string     `json:"id"`
	Email     string     `json:"email"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"createdAt"`
	SentAt    *time.Time `json:"sentAt"`
	Error     string     `json:"error,omitempty"`
}

// infinitySend handles POST /v1/invoices/{id}/send and answers with the
// invoice, its email deliveries and its public PDF URL.
func (a *API) infinitySend(w http.ResponseWriter, r *http.Request) *Error {
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	var req infinityRequest
	if err := decodeJSON(bodyOf(r), &req, true); err != nil {
		return err
	}
	if n := len([]rune(req.Description)); n > MaxInfinityDescription {
		return errField("description", fmt.Sprintf("is %d characters long, the limit is %d", n, MaxInfinityDescription))
	}
	_, apiErr = a.queueSend(r, inv, &sendRequest{Email: req.Email, Message: req.Description}, store.SendKindSend)
	if apiErr != nil {
		return apiErr
	}
	ds, err := a.st.InvoiceDeliveries(r.Context(), inv.TenantID, inv.ID)
	if err != nil {
		return errInternal(err)
	}
	emails := []infinityEmailDelivery{}
	for _, d := range ds {
		if d.Channel == store.ChannelEmail {
			emails = append(emails, infinityEmailDelivery{ID: d.ID, Email: d.To, Status: string(d.Status), CreatedAt: d.CreatedAt, SentAt: d.SentAt, Error: d.Error})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"invoice": struct {
		*invoice.Invoice
		EmailDeliveries []infinityEmailDelivery `json:"emailDeliveries"`
		PublicPDFURL    string                  `json:"publicPdfUrl"`
	}{inv, emails, a.publicPDFURL(inv)}})
	return nil
}
