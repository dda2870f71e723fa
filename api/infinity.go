package api

// Infinity's send route, in Infinity's request and response shape.

import (
	"net/http"
	"time"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
)

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
	if err := invoice.CheckText(req.Description, MaxInfinityDescription, true); err != nil {
		return errField("description", err.Error())
	}
	// Infinity includes the description in the email body: it is a note
	// in the template's body, which keeps the invoice's details.
	_, apiErr = a.queueSend(r, inv, &sendRequest{Email: req.Email, Note: req.Description}, store.SendKindSend)
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
