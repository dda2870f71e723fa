package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invoiced/invoiced/invoice"
)

// tokenStore is a Store whose tokens are all the test needs of it: it
// never reaches Redis.
func tokenStore(t *testing.T) *Store {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = rdb.Close() })
	s, err := New(rdb, Config{SecretKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSignToken holds tokens to their form: base64url of the parts joined
// by "/", a dot, and base64url of the first 16 bytes of HMAC-SHA256 of
// "purpose:payload" under the store's MAC key, whoever signs them at the
// same time; ParseToken reads them back, for their purpose only.
func TestSignToken(t *testing.T) {
	t.Parallel()
	s := tokenStore(t)
	tests := []struct {
		purpose string
		parts   []string
	}{
		{TokenInvoice, []string{"ten_a", "inv_0042", "1798761600"}},
		{TokenOpen, []string{"ten_a", "dlv_x"}},
		{TokenClick, []string{"ten_a", "dlv_x", ClickPay}},
		{TokenClick, []string{strings.Repeat("t", 300), "d"}},
		{TokenOpen, []string{""}},
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				for _, tt := range tests {
					payload := base64.RawURLEncoding.EncodeToString([]byte(strings.Join(tt.parts, "/")))
					m := hmac.New(sha256.New, s.macKey)
					m.Write([]byte(tt.purpose + ":" + payload))
					want := payload + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
					if got := s.SignToken(tt.purpose, tt.parts...); got != want {
						t.Errorf("SignToken(%s, %q) = %q, want %q", tt.purpose, tt.parts, got, want)
						return
					}
					if parts, ok := s.ParseToken(tt.purpose, want, len(tt.parts)); !ok || strings.Join(parts, "/") != strings.Join(tt.parts, "/") {
						t.Errorf("ParseToken(%s, %q) = %q, %v", tt.purpose, want, parts, ok)
						return
					}
					if _, ok := s.ParseToken(TokenInvoice+"x", want, len(tt.parts)); ok {
						t.Errorf("ParseToken read a %s token for another purpose", tt.purpose)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// TestPublicInvoiceTokenAllocs bounds the allocations of an invoice's
// public token, which a send signs for its payment link's return URL and
// for its email: the token's string only, its MAC's hash lent from the
// store's (it made a new HMAC each time, a dozen allocations in all).
func TestPublicInvoiceTokenAllocs(t *testing.T) {
	s := tokenStore(t)
	inv := &invoice.Invoice{ID: "inv_0042", TenantID: "ten_a", DueDate: "2026-12-31", CreatedAt: time.Now()}
	s.PublicInvoiceToken(inv)
	if n := testing.AllocsPerRun(100, func() { _ = s.PublicInvoiceToken(inv) }); n > 1 {
		t.Errorf("%.0f allocations per token, want 1", n)
	}
}

// BenchmarkPublicInvoiceToken signs an invoice's public token, as a send
// does two or three times (with its open and click tokens).
func BenchmarkPublicInvoiceToken(b *testing.B) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	s, err := New(rdb, Config{SecretKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		b.Fatal(err)
	}
	inv := &invoice.Invoice{ID: "inv_c2x4hq3kzbv7ymtd", TenantID: "ten_c2x4hq3kzbv7ymtd", DueDate: "2026-12-31"}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.PublicInvoiceToken(inv)
	}
}
