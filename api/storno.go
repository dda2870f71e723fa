package api

// Storno's email route, in Storno's request and response shape.

import (
	"net/http"
	"time"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
)

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
