package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// PublicInvoiceToken signs tenant and invoice ids into an unguessable token
// for the public invoice routes (/i/{token}/…):
// base64url(tenant/invoice) "." base64url(HMAC-SHA256[:16]).
func (s *Store) PublicInvoiceToken(tenantID, invoiceID string) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(tenantID + "/" + invoiceID))
	return payload + "." + s.linkMAC(payload)
}

// ParsePublicInvoiceToken returns the ids in a token made by
// PublicInvoiceToken, or ok false for a forged or malformed one.
func (s *Store) ParsePublicInvoiceToken(token string) (tenantID, invoiceID string, ok bool) {
	payload, mac, found := strings.Cut(token, ".")
	if !found || !hmac.Equal([]byte(mac), []byte(s.linkMAC(payload))) {
		return "", "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(raw), "/")
}

func (s *Store) linkMAC(payload string) string {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte("public-invoice:" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}
