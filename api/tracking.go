package api

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

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
		if !inv.Payable() {
			// Paid, voided or credited in full since the email went
			// out: the invoice page says so, where the gateway would
			// show a dead link.
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
// the reader's IP (see clientIP) and user agent. Failures are logged,
// never shown.
func (a *API) recordTracking(r *http.Request, tenantID, deliveryID string, status store.DeliveryStatus) {
	ctx := r.Context()
	step := store.Transition{Status: status, Source: "tracking",
		Detail: fmt.Sprintf("user agent %q", truncate(r.UserAgent(), 300)), IP: clientIP(r, a.cfg.TrustedProxies)}
	d, changed, err := a.st.Transition(ctx, tenantID, deliveryID, status, step.Source, step.Detail, store.FromIP(step.IP))
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
	if err := a.noteRepeat(ctx, d, step); err != nil {
		a.log.Sugar().Warnw("tracking not recorded", "tenant_id", tenantID, "delivery_id", deliveryID, "error", err)
	}
}

// clientIP returns the address r came from. That is the connection's
// peer, unless the peer is one of the trusted proxies: then
// X-Forwarded-For (every such header, in order, one list) is read from
// the right, each proxy having appended the address it was reached from,
// past the addresses of trusted proxies, and the first address that is
// not one is the client. Whatever lies left of it may be forged by the
// client, so it is never read. A malformed entry stops the walk at the
// last trusted proxy; a list of trusted proxies only names its leftmost.
// Without trusted proxies X-Forwarded-For is ignored.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer, ok := parseHop(r.RemoteAddr)
	if !ok {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return r.RemoteAddr
		}
		return host
	}
	isTrusted := func(addr netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(addr) {
				return true
			}
		}
		return false
	}
	if !isTrusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = hop
		if !isTrusted(hop) {
			break
		}
	}
	return client.String()
}

// parseHop reads one address as X-Forwarded-For or RemoteAddr write it:
// an IP, with or without a port, IPv6 possibly in brackets. IPv4-mapped
// IPv6 addresses come back as IPv4, so IPv4 prefixes match them.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	addr, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return addr.Unmap(), true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
