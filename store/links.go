package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
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
	var joined [256]byte
	raw := joined[:0]
	for i, part := range parts {
		if i > 0 {
			raw = append(raw, '/')
		}
		raw = append(raw, part...)
	}
	return s.signed(purpose, raw)
}

// signed returns the token of raw, a token's parts joined by "/", for
// purpose. The token is formed on the stack, its string the one
// allocation.
func (s *Store) signed(purpose string, raw []byte) string {
	var token [512]byte
	b := base64.RawURLEncoding.AppendEncode(token[:0], raw)
	payload := len(b)
	b = append(b, '.')
	return string(s.appendMAC(b, purpose, b[:payload]))
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
	var mac [32]byte
	return string(s.appendMAC(mac[:0], purpose, []byte(payload)))
}

// appendMAC appends to dst the base64url of the first 16 bytes of
// HMAC-SHA256 of "purpose:payload" under the store's MAC key, with a
// hash lent by s.macs: an HMAC's two keyed SHA-256 states cost a handful
// of allocations to make, and Reset returns one to its key.
func (s *Store) appendMAC(dst []byte, purpose string, payload []byte) []byte {
	m, _ := s.macs.Get().(*tokenHasher)
	if m == nil {
		m = &tokenHasher{hash: hmac.New(sha256.New, s.macKey)}
	}
	m.in = append(append(append(m.in[:0], purpose...), ':'), payload...)
	m.hash.Reset()
	m.hash.Write(m.in)
	sum := m.hash.Sum(m.sum[:0])
	dst = base64.RawURLEncoding.AppendEncode(dst, sum[:16])
	s.macs.Put(m)
	return dst
}

// tokenHasher is a token's HMAC with the buffers it reads from and sums
// into, which a Store lends (Store.macs).
type tokenHasher struct {
	hash hash.Hash
	in   []byte
	sum  [sha256.Size]byte
}

// PublicLinkTTL is how long after its due date (or issue date, without
// one) an invoice's public link keeps working, as Stripe's hosted invoice
// links do.
const PublicLinkTTL = 30 * 24 * time.Hour

// PublicInvoiceToken signs an invoice's ids and the link's expiry for the
// public invoice routes (/i/{token}…).
func (s *Store) PublicInvoiceToken(inv *invoice.Invoice) string {
	var joined [128]byte
	raw := append(joined[:0], inv.TenantID...)
	raw = append(raw, '/')
	raw = append(raw, inv.ID...)
	raw = append(raw, '/')
	raw = strconv.AppendInt(raw, publicLinkExpiry(inv).Unix(), 10)
	return s.signed(TokenInvoice, raw)
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
