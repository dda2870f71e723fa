package stripe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

const webhookSecret = "whsec_test_0123456789abcdef"

// signedAt is a fixed signing time far from the wall clock, so the tests
// show that ParseWebhook measures the tolerance against now.
var signedAt = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// sign computes a Stripe-Signature header as Stripe documents it:
// t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed with the
// secret>.
func sign(payload []byte, secret string, at time.Time) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(payload)))
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// event returns a Stripe event about a Checkout Session, of an older API
// version than stripe-go's.
func event(typ, session string) []byte {
	return []byte(fmt.Sprintf(`{
  "id": "evt_1QabcDEF",
  "object": "event",
  "api_version": "2024-06-20",
  "created": %d,
  "livemode": false,
  "pending_webhooks": 1,
  "request": {"id": null, "idempotency_key": null},
  "type": %q,
  "data": {"object": %s}
}`, signedAt.Unix(), typ, session))
}

const paidSession = `{
    "id": "cs_test_a1b2c3",
    "object": "checkout.session",
    "amount_total": 113050,
    "currency": "eur",
    "customer_details": {"email": "ana@example.com"},
    "metadata": {"tenant_id": "ten_1", "invoice_id": "inv_1001", "invoice_number": "INV-1001"},
    "mode": "payment",
    "payment_link": "plink_1QxyZ",
    "payment_status": "paid",
    "status": "complete"
  }`

func TestParseWebhookAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		payload []byte
		header  func(payload []byte) string
		now     time.Time
		want    CheckoutCompleted
	}{
		{
			name:    "completed",
			payload: event(EventCheckoutCompleted, paidSession),
			now:     signedAt.Add(time.Minute),
			want: CheckoutCompleted{
				EventID: "evt_1QabcDEF", Type: EventCheckoutCompleted, SessionID: "cs_test_a1b2c3",
				PaymentLinkID: "plink_1QxyZ", TenantID: "ten_1", InvoiceID: "inv_1001",
				AmountTotal: 113050, Currency: "EUR", PaymentStatus: "paid",
			},
		},
		{
			name:    "delayed payment settled, with an expanded payment link, just inside the tolerance",
			payload: event(EventCheckoutAsyncPaymentSuccess, strings.Replace(paidSession, `"plink_1QxyZ"`, `{"id":"plink_2","object":"payment_link"}`, 1)),
			now:     signedAt.Add(WebhookTolerance),
			want: CheckoutCompleted{
				EventID: "evt_1QabcDEF", Type: EventCheckoutAsyncPaymentSuccess, SessionID: "cs_test_a1b2c3",
				PaymentLinkID: "plink_2", TenantID: "ten_1", InvoiceID: "inv_1001",
				AmountTotal: 113050, Currency: "EUR", PaymentStatus: "paid",
			},
		},
		{
			name: "completed but unpaid, a session without a payment link",
			payload: event(EventCheckoutCompleted, strings.NewReplacer(
				`"payment_link": "plink_1QxyZ"`, `"payment_link": null`,
				`"payment_status": "paid"`, `"payment_status": "unpaid"`).Replace(paidSession)),
			now: signedAt,
			want: CheckoutCompleted{
				EventID: "evt_1QabcDEF", Type: EventCheckoutCompleted, SessionID: "cs_test_a1b2c3",
				TenantID: "ten_1", InvoiceID: "inv_1001",
				AmountTotal: 113050, Currency: "EUR", PaymentStatus: "unpaid",
			},
		},
		{
			name: "ISK is reported in ISO minor units",
			payload: event(EventCheckoutCompleted, strings.NewReplacer(
				`"amount_total": 113050`, `"amount_total": 500000`,
				`"currency": "eur"`, `"currency": "isk"`).Replace(paidSession)),
			now: signedAt,
			want: CheckoutCompleted{
				EventID: "evt_1QabcDEF", Type: EventCheckoutCompleted, SessionID: "cs_test_a1b2c3",
				PaymentLinkID: "plink_1QxyZ", TenantID: "ten_1", InvoiceID: "inv_1001",
				AmountTotal: 5000, Currency: "ISK", PaymentStatus: "paid",
			},
		},
		{
			name:    "a rolled secret: one of two signatures verifies",
			payload: event(EventCheckoutCompleted, paidSession),
			header: func(p []byte) string {
				old := sign(p, "whsec_old", signedAt)
				cur := sign(p, webhookSecret, signedAt)
				return old + "," + cur[strings.Index(cur, "v1="):]
			},
			now: signedAt,
			want: CheckoutCompleted{
				EventID: "evt_1QabcDEF", Type: EventCheckoutCompleted, SessionID: "cs_test_a1b2c3",
				PaymentLinkID: "plink_1QxyZ", TenantID: "ten_1", InvoiceID: "inv_1001",
				AmountTotal: 113050, Currency: "EUR", PaymentStatus: "paid",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			header := sign(tt.payload, webhookSecret, signedAt)
			if tt.header != nil {
				header = tt.header(tt.payload)
			}
			got, err := ParseWebhook(tt.payload, header, webhookSecret, tt.now)
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			if *got != tt.want {
				t.Errorf("ParseWebhook =\n %+v\nwant\n %+v", *got, tt.want)
			}
		})
	}
}

func TestParseWebhookRejects(t *testing.T) {
	t.Parallel()
	payload := event(EventCheckoutCompleted, paidSession)
	good := sign(payload, webhookSecret, signedAt)
	tests := []struct {
		name    string
		payload []byte
		header  string
		secret  string
		now     time.Time
		want    error // the sentinel errors.Is must find, or nil for neither
	}{
		{"altered payload", []byte(strings.Replace(string(payload), "113050", "1", 1)), good, webhookSecret, signedAt, ErrInvalidSignature},
		{"wrong secret", payload, good, "whsec_other", signedAt, ErrInvalidSignature},
		{"old timestamp", payload, good, webhookSecret, signedAt.Add(WebhookTolerance + time.Second), ErrInvalidSignature},
		{"timestamp from the future", payload, good, webhookSecret, signedAt.Add(-WebhookTolerance - time.Second), ErrInvalidSignature},
		{"re-signed with a new timestamp but the old signature", payload,
			"t=" + strconv.FormatInt(signedAt.Add(time.Hour).Unix(), 10) + good[strings.Index(good, ","):],
			webhookSecret, signedAt.Add(time.Hour), ErrInvalidSignature},
		{"no header", payload, "", webhookSecret, signedAt, ErrInvalidSignature},
		{"garbage header", payload, "garbage", webhookSecret, signedAt, ErrInvalidSignature},
		{"no v1 signature", payload, "t=" + strconv.FormatInt(signedAt.Unix(), 10), webhookSecret, signedAt, ErrInvalidSignature},
		{"no secret configured", payload, good, "", signedAt, ErrInvalidSignature},
		{"another event type", event("invoice.paid", `{"id":"in_1","object":"invoice"}`), "", webhookSecret, signedAt, ErrIgnoredEvent},
		{"a session not made by invoiced", event(EventCheckoutCompleted, strings.Replace(paidSession, `"tenant_id": "ten_1", `, "", 1)), "", webhookSecret, signedAt, ErrIgnoredEvent},
		{"a verified payload that is not an event", []byte(`{"object":"checkout.session","id":"cs_1"}`), "", webhookSecret, signedAt, nil},
		{"an event about something else", event(EventCheckoutCompleted, `{"id":"pi_1","object":"payment_intent"}`), "", webhookSecret, signedAt, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			header := tt.header
			if header == "" && tt.name != "no header" {
				header = sign(tt.payload, webhookSecret, signedAt)
			}
			got, err := ParseWebhook(tt.payload, header, tt.secret, tt.now)
			if err == nil {
				t.Fatalf("ParseWebhook = %+v, want an error", got)
			}
			switch {
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("error %q, want %v", err, tt.want)
			case tt.want == nil && (errors.Is(err, ErrInvalidSignature) || errors.Is(err, ErrIgnoredEvent)):
				t.Errorf("error %q, want neither ErrInvalidSignature nor ErrIgnoredEvent", err)
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q contains the webhook secret", err)
			}
		})
	}
}
