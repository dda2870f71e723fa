package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/invoiced/invoiced/invoice"
)

// Signed tokens put ids into public URLs (the invoice link, tracking
// pixels and redirects) so that only URLs we issued are honoured:
// base64url(parts joined by "/") "." base64url(HMAC-SHA256[:16]), with the
// purpose mixed into the MAC so a token of one kind is useless as another.

// Token purposes.
const (
	TokenInvoice = "public-invoice"
	TokenOpen    = "track-open"
	TokenClick   = "track-click"
)

// Click targets a tracking token may name. The redirect goes only to the
// delivery's own invoice's URLs, never to a URL carried in the request, so
// it cannot be used as an open redirect.
const (
	ClickPay  = "pay"  // the invoice's payment link
	ClickView = "view" // the invoice's public page
)

// SignToken returns a token carrying parts for purpose. Parts must not
// contain "/".
func (s *Store) SignToken(purpose string, parts ...string) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, "/")))
	return payload + "." + s.tokenMAC(purpose, payload)
}

// ParseToken returns the parts of a token made by SignToken for purpose,
// or ok false for a forged, altered or other-purpose token.
func (s *Store) ParseToken(purpose, token string, n int) (parts []string, ok bool) {
	payload, mac, found := strings.Cut(token, ".")
	if !found || !hmac.Equal([]byte(mac), []byte(s.tokenMAC(purpose, payload))) {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, false
	}
	parts = strings.Split(string(raw), "/")
	if len(parts) != n {
		return nil, false
	}
	return parts, true
}

func (s *Store) tokenMAC(purpose, payload string) string {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(purpose + ":" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// PublicLinkTTL is how long after its due date (or issue date, without
// one) an invoice's public link keeps working, as Stripe's hosted invoice
// links do.
const PublicLinkTTL = 30 * 24 * time.Hour

// PublicInvoiceToken signs an invoice's ids and the link's expiry for the
// public invoice routes (/i/{token}…).
func (s *Store) PublicInvoiceToken(inv *invoice.Invoice) string {
	return s.SignToken(TokenInvoice, inv.TenantID, inv.ID, strconv.FormatInt(publicLinkExpiry(inv).Unix(), 10))
}

func publicLinkExpiry(inv *invoice.Invoice) time.Time {
	day, err := time.Parse(time.DateOnly, inv.DueDate)
	if err != nil {
		if day, err = time.Parse(time.DateOnly, inv.IssueDate); err != nil {
			day = inv.CreatedAt
		}
	}
	return day.Add(24*time.Hour + PublicLinkTTL)
}

// ParsePublicInvoiceToken returns the ids in a token made by
// PublicInvoiceToken; ok is false for a forged token or an expired link.
func (s *Store) ParsePublicInvoiceToken(token string) (tenantID, invoiceID string, ok bool) {
	parts, ok := s.ParseToken(TokenInvoice, token, 3)
	if !ok {
		return "", "", false
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || s.Now().Unix() > exp {
		return "", "", false
	}
	return parts[0], parts[1], true
}
