package api

// Storno's email route, in Storno's request and response shape.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
)

// stornoRequest is Storno's email request.
type stornoRequest struct {
	To        string          `json:"to"`
	Cc        stornoAddresses `json:"cc"`
	Bcc       stornoAddresses `json:"bcc"`
	Subject   string          `json:"subject"`
	Body      string          `json:"body"`
	AttachPDF *bool           `json:"attachPdf"`
	AttachXML *bool           `json:"attachXml"`
	Language  string          `json:"language"`
}

// stornoAddresses is Storno's cc or bcc: one comma-separated string, as
// Storno documents it, or an array of addresses.
type stornoAddresses struct {
	list addressList
	// text is the string as sent, or the array's addresses joined with
	// ", ".
	text string
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *stornoAddresses) UnmarshalJSON(b []byte) error {
	if err := s.list.UnmarshalJSON(b); err != nil {
		return err
	}
	s.text = strings.Join(s.list, ", ")
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &s.text)
	}
	return nil
}

// stornoResponse is Storno's email answer. EmailID is the delivery's UUID
// (store.EmailID), DeliveryID the delivery itself, as delivery-status and
// the webhooks show it. Cc is a string, as Storno's: "" without any.
// SentAt is when the email was accepted for sending. DeliveryStatus is
// one of Storno's queued, sent or failed: an email just accepted is
// queued.
type stornoResponse struct {
	Success        bool      `json:"success"`
	EmailID        string    `json:"emailId"`
	DeliveryID     string    `json:"deliveryId"`
	To             string    `json:"to"`
	Cc             string    `json:"cc"`
	Subject        string    `json:"subject"`
	Attachments    []string  `json:"attachments"`
	SentAt         time.Time `json:"sentAt"`
	DeliveryStatus string    `json:"deliveryStatus"`
}

// stornoEmail handles POST /api/v1/invoices/{id}/email. Unlike the other
// send routes it never finalizes a draft: Storno emails only issued
// invoices, so a draft is 422 invoice_not_issued and nothing changes.
func (a *API) stornoEmail(w http.ResponseWriter, r *http.Request) *Error {
	inv, settings, apiErr := a.loadInvoiceForSend(r)
	if apiErr != nil {
		return apiErr
	}
	var req stornoRequest
	if err := decodeJSON(bodyOf(r), &req, true); err != nil {
		return err
	}
	canonical := sendRequest{To: req.To, Cc: req.Cc.list, Bcc: req.Bcc.list, Subject: req.Subject, Body: req.Body,
		AttachPDF: req.AttachPDF, AttachXML: req.AttachXML, Language: req.Language}
	send, apiErr := buildSend(&canonical, inv, store.SendKindSend, a.st.Now())
	if req.To == "" {
		// The canonical send falls back to the customer's address;
		// Storno's route has no such default.
		fields := map[string]string{}
		if apiErr != nil {
			maps.Copy(fields, apiErr.Fields)
			delete(fields, "email")
		}
		fields["to"] = "is required: the recipient's email address"
		return errValidation("to is required", fields)
	}
	if apiErr != nil {
		return apiErr
	}
	if inv.Status == invoice.StatusDraft {
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeNotIssued,
			Message: fmt.Sprintf("invoice %s is a draft and has not been issued; finalize it (POST /api/v1/invoices/%s/finalize) before emailing it", inv.ID, inv.ID)}
	}
	if apiErr := a.startSend(r, inv, send, &settings); apiErr != nil {
		return apiErr
	}
	sentAt := send.CreatedAt
	if send.ScheduledAt != nil {
		sentAt = *send.ScheduledAt
	}
	dlv := send.DeliveryIDs[0]
	writeJSON(w, http.StatusOK, stornoResponse{
		Success: true, EmailID: store.EmailID(inv.TenantID, dlv), DeliveryID: dlv,
		To: send.Email, Cc: req.Cc.text,
		Subject:        subjectFor(inv, send, settings),
		Attachments:    attachmentNames(inv, send),
		SentAt:         sentAt.UTC(),
		DeliveryStatus: string(store.DeliveryQueued),
	})
	return nil
}
