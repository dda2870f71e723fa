package api

import (
	"net/http"
	"time"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
)

// stornoEmailEntry is one email of an invoice in Storno's history shape.
type stornoEmailEntry struct {
	EmailID        string     `json:"emailId"`
	To             string     `json:"to"`
	Cc             []string   `json:"cc"`
	Subject        string     `json:"subject"`
	Attachments    []string   `json:"attachments"`
	CreatedAt      time.Time  `json:"createdAt"`
	SentAt         *time.Time `json:"sentAt"`
	DeliveredAt    *time.Time `json:"deliveredAt"`
	OpenedAt       *time.Time `json:"openedAt"`
	ClickedAt      *time.Time `json:"clickedAt"`
	DeliveryStatus string     `json:"deliveryStatus"`
	Error          string     `json:"error,omitempty"`
}

// invoiceEmails handles GET /api/v1/invoices/{id}/emails: the invoice's
// email deliveries, oldest first.
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
	settings, err := a.st.Settings(ctx, inv.TenantID)
	if err != nil {
		return errInternal(err)
	}
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
			EmailID: d.ID, To: d.To, Cc: d.Cc, Subject: subjectFor(inv, send, settings), Attachments: []string{},
			CreatedAt: d.CreatedAt, SentAt: d.SentAt, DeliveredAt: d.DeliveredAt, OpenedAt: d.OpenedAt,
			ClickedAt: d.ClickedAt, DeliveryStatus: string(d.Status), Error: d.Error,
		}
		if e.Cc == nil {
			e.Cc = []string{}
		}
		if send.AttachPDF {
			e.Attachments = append(e.Attachments, invoice.FileStem(inv.Number)+".pdf")
		}
		out = append(out, e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "emails": out})
	return nil
}
