package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
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

// PublicInvoiceToken signs tenant and invoice ids for the public invoice
// routes (/i/{token}/…).
func (s *Store) PublicInvoiceToken(tenantID, invoiceID string) string {
	return s.SignToken(TokenInvoice, tenantID, invoiceID)
}

// ParsePublicInvoiceToken returns the ids in a token made by
// PublicInvoiceToken.
func (s *Store) ParsePublicInvoiceToken(token string) (tenantID, invoiceID string, ok bool) {
	parts, ok := s.ParseToken(TokenInvoice, token, 2)
	if !ok {
		return "", "", false
	}
	return parts[0], parts[1], true
}
