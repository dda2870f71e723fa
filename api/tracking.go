package api

import (
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
)

// pixel is a transparent 1×1 GIF.
var pixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// trackOpen handles GET /t/o/{token}: the open pixel of one email. The
// first open makes the delivery opened; later ones join its history.
func (a *API) trackOpen(w http.ResponseWriter, r *http.Request) {
	if parts, ok := a.st.ParseToken(store.TokenOpen, r.PathValue("token"), 2); ok {
		a.recordTracking(r, parts[0], parts[1], store.DeliveryOpened)
	}
	// The same answer whatever happened: a pixel tells nobody anything.
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store, private")
	_, _ = w.Write(pixel)
}

// trackClick handles GET /t/c/{token}: records the click and redirects to
// the link the token names.
func (a *API) trackClick(w http.ResponseWriter, r *http.Request) *Error {
	parts, ok := a.st.ParseToken(store.TokenClick, r.PathValue("token"), 3)
	if !ok {
		return errNotFound("link")
	}
	tenantID, deliveryID, kind := parts[0], parts[1], parts[2]
	d, err := a.st.Delivery(r.Context(), tenantID, deliveryID)
	if err != nil {
		return errNotFound("link")
	}
	inv, err := a.st.Invoice(r.Context(), tenantID, d.InvoiceID)
	if err != nil {
		return errNotFound("link")
	}
	var target string
	switch kind {
	case store.ClickPay:
		target = inv.PaymentLink
		if inv.Status != invoice.StatusOpen {
			// Paid or voided since the email went out: the invoice page
			// says so, where the gateway would show a dead link.
			target = a.publicURL(inv)
		}
	case store.ClickView:
		target = a.publicURL(inv)
	}
	if target == "" {
		return errNotFound("link")
	}
	a.recordTracking(r, tenantID, deliveryID, store.DeliveryClicked)
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

// recordTracking moves the delivery to status, or notes a repeat, with
// the reader's IP and user agent. Failures are logged, never shown.
func (a *API) recordTracking(r *http.Request, tenantID, deliveryID string, status store.DeliveryStatus) {
	ctx := r.Context()
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	detail := fmt.Sprintf("ip %s, user agent %q", ip, truncate(r.UserAgent(), 300))
	d, changed, err := a.st.Transition(ctx, tenantID, deliveryID, status, "tracking", detail, nil)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return
	case err != nil:
		a.log.Sugar().Warnw("tracking not recorded", "tenant_id", tenantID, "delivery_id", deliveryID, "error", err)
		return
	case changed:
		a.emitDelivery(ctx, d)
		return
	}
	if err := a.noteRepeat(ctx, d, status, "tracking", detail); err != nil {
		a.log.Sugar().Warnw("tracking not recorded", "tenant_id", tenantID, "delivery_id", deliveryID, "error", err)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
