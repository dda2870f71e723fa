package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
)

// stornoEmailEntry is one email of an invoice in Storno's history shape:
// emailId and cc as Storno's email route answers them, deliveryId the
// delivery behind it. SentAt is when the provider took the email; until
// then, when it was accepted for sending (or is scheduled to go).
type stornoEmailEntry struct {
	EmailID        string     `json:"emailId"`
	DeliveryID     string     `json:"deliveryId"`
	To             string     `json:"to"`
	Cc             string     `json:"cc"`
	Subject        string     `json:"subject"`
	Attachments    []string   `json:"attachments"`
	CreatedAt      time.Time  `json:"createdAt"`
	SentAt         time.Time  `json:"sentAt"`
	DeliveredAt    *time.Time `json:"deliveredAt"`
	OpenedAt       *time.Time `json:"openedAt"`
	ClickedAt      *time.Time `json:"clickedAt"`
	DeliveryStatus string     `json:"deliveryStatus"`
	Error          string     `json:"error,omitempty"`
}

// invoiceEmails handles GET /api/v1/invoices/{id}/emails: the invoice's
// email deliveries, oldest first. The subject and attachments are those
// the worker recorded when it sent the email, whatever the templates say
// now; an email not sent yet shows what it would carry now.
func (a *API) invoiceEmails(w http.ResponseWriter, r *http.Request) *Error {
	ctx := r.Context()
	inv, apiErr := a.loadInvoice(r)
	if apiErr != nil {
		return apiErr
	}
	ds, err := a.st.InvoiceDeliveries(ctx, inv.TenantID, inv.ID)
	if err != nil {
		return errInternal(err)
	}
	var settings *store.Settings
	sends := map[string]*store.Send{}
	out := []stornoEmailEntry{}
	for _, d := range ds {
		if d.Channel != store.ChannelEmail {
			continue
		}
		send, ok := sends[d.SendID]
		if !ok {
			if send, err = a.st.Send(ctx, inv.TenantID, d.SendID); err != nil {
				return errInternal(err)
			}
			sends[d.SendID] = send
		}
		e := stornoEmailEntry{
			EmailID: store.EmailID(inv.TenantID, d.ID), DeliveryID: d.ID, To: d.To, Cc: strings.Join(d.Cc, ", "),
			CreatedAt: d.CreatedAt, SentAt: d.CreatedAt, DeliveredAt: d.DeliveredAt, OpenedAt: d.OpenedAt,
			ClickedAt: d.ClickedAt, DeliveryStatus: string(d.Status), Error: d.Error,
		}
		switch {
		case d.SentAt != nil:
			e.SentAt = *d.SentAt
		case send.ScheduledAt != nil:
			e.SentAt = *send.ScheduledAt
		}
		if c := d.Content; c != nil {
			e.Subject, e.Attachments = c.Subject, nonNil(c.Attachments)
		} else {
			if settings == nil {
				s, err := a.st.Settings(ctx, inv.TenantID)
				if err != nil {
					return errInternal(err)
				}
				settings = &s
			}
			e.Subject, e.Attachments = subjectFor(inv, send, *settings), attachmentNames(inv, send)
		}
		out = append(out, e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "emails": out})
	return nil
}

// attachmentNames are the files an email of send carries: the invoice's
// PDF, its UBL XML, or both.
func attachmentNames(inv *invoice.Invoice, send *store.Send) []string {
	names := []string{}
	if send.AttachPDF {
		names = append(names, invoice.FileStem(inv.Number)+".pdf")
	}
	if send.AttachXML {
		names = append(names, invoice.FileStem(inv.Number)+".xml")
	}
	return names
}
