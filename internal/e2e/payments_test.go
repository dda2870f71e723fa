package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/pdftest"
	"github.com/invoiced/invoiced/providers/razorpay/razorpaytest"
	"github.com/invoiced/invoiced/providers/stripe/stripetest"
)

func paymentSettings(payments map[string]any) map[string]any {
	s := acmeSettings()
	s["payments"] = payments
	return s
}

func TestStaticPaymentLinkInTheEmail(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", paymentSettings(map[string]any{"gateway": "static",
		"static": map[string]any{"urlTemplate": "https://pay.acme.test/{invoiceId}?amount={amount}&currency={currency}"}}))
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_p")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_p/send", token, nil))
	eventually(t, 10*time.Second, "the email", func() bool { return len(h.emails()) == 1 })
	const want = "https://pay.acme.test/inv_p?amount=1130.50&currency=EUR"
	inv := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_p", token, nil)).data()
	if inv["paymentLink"] != want {
		t.Fatalf("paymentLink = %v, want %s", inv["paymentLink"], want)
	}
	e := parseEmail(t, mustRead(t, h.emails()[0]))
	if !strings.Contains(e.Text, want) {
		t.Errorf("the email does not carry the payment link:\n%s", e.Text)
	}
	if text := pdftest.Text(t, e.Attachments["INV-p.pdf"]); !strings.Contains(text, "pay.acme.test") {
		t.Errorf("the PDF does not carry the payment link:\n%s", text)
	}
}

// stripeSignature signs payload as Stripe does: t=<ts>,v1=hex(HMAC-SHA256(secret, ts.payload)).
func stripeSignature(secret string, ts time.Time, payload []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.%s", ts.Unix(), payload)
	return fmt.Sprintf("t=%d,v1=%s", ts.Unix(), hex.EncodeToString(m.Sum(nil)))
}

func TestStripePaymentLinkAndPaidEvent(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.stripe = true })
	const whsec = "whsec_test_secret"
	token := h.tenant("ACME SRL", paymentSettings(map[string]any{"gateway": "stripe",
		"stripe": map[string]any{"secretKey": stripetest.TestKey, "webhookSecret": whsec}}))
	rc := newReceiver(t)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/webhooks", token, map[string]any{"url": rc.srv.URL, "events": []string{"invoice.paid"}}))
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_s")))
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_s/finalize", token, nil))

	pl := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_s/payment-link", token, nil)).data()
	if link, _ := pl["paymentLink"].(string); !strings.HasPrefix(link, "https://") {
		t.Fatalf("payment-link = %v", pl)
	}

	tenantID := h.tenantID(token)
	payload := []byte(fmt.Sprintf(`{"id":"evt_1","object":"event","type":"checkout.session.completed","api_version":"2025-01-27.acacia",
		"created":%d,"data":{"object":{"id":"cs_test_1","object":"checkout.session","payment_status":"paid","status":"complete",
		"amount_total":113050,"currency":"eur","metadata":{"tenant_id":%q,"invoice_id":"inv_s","invoice_number":"INV-s"}}}}`,
		time.Now().Unix(), tenantID))
	post := func(sig string) int {
		req, _ := http.NewRequest("POST", h.URL+"/callbacks/stripe/"+tenantID, bytes.NewReader(payload))
		req.Header.Set("Stripe-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(stripeSignature("whsec_wrong", time.Now(), payload)); got != http.StatusForbidden {
		t.Fatalf("a wrongly signed event got %d", got)
	}
	if got := post(stripeSignature(whsec, time.Now().Add(-time.Hour), payload)); got != http.StatusForbidden {
		t.Fatalf("an old event got %d", got)
	}
	if inv := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_s", token, nil)).data(); inv["status"] != "open" {
		t.Fatalf("a refused event changed the invoice to %v", inv["status"])
	}
	for range 2 { // Stripe may deliver an event twice
		if got := post(stripeSignature(whsec, time.Now(), payload)); got != http.StatusNoContent {
			t.Fatalf("the genuine event got %d", got)
		}
	}
	inv := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_s", token, nil)).data()
	if inv["status"] != "paid" || inv["paidBy"] != "stripe" || inv["amountDue"] != "0.00" {
		t.Fatalf("after payment: status %v by %v, due %v", inv["status"], inv["paidBy"], inv["amountDue"])
	}
	eventually(t, 10*time.Second, "invoice.paid", func() bool { return len(rc.received()) == 1 })
	time.Sleep(300 * time.Millisecond)
	if n := len(rc.received()); n != 1 {
		t.Fatalf("invoice.paid delivered %d times", n)
	}
}

func TestGatewayErrorDoesNotBlockFinalization(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", paymentSettings(map[string]any{"gateway": "razorpay",
		"razorpay": map[string]any{"keyId": razorpaytest.KeyID, "keySecret": razorpaytest.KeySecret}}))
	h.Razorpay.FailNext(3, http.StatusInternalServerError, "SERVER_ERROR", "The server encountered an error")
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_g")))
	r := h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_g/finalize", token, nil))
	if r.data()["status"] != "open" {
		t.Fatalf("finalize = %s", r.Raw)
	}
	var sawError bool
	eventually(t, 15*time.Second, "the link after a retry", func() bool {
		inv := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_g", token, nil)).data()
		if e, _ := inv["paymentLinkError"].(string); strings.Contains(e, "500") || strings.Contains(e, "server") {
			sawError = true
		}
		link, _ := inv["paymentLink"].(string)
		return strings.HasPrefix(link, "https://")
	})
	inv := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_g", token, nil)).data()
	if inv["paymentLinkError"] != nil && inv["paymentLinkError"] != "" {
		t.Errorf("the error stays after the link arrived: %v", inv["paymentLinkError"])
	}
	if len(h.Razorpay.Links()) != 1 {
		t.Fatalf("razorpay holds %d links, want 1", len(h.Razorpay.Links()))
	}
	if !sawError {
		t.Error("the gateway's error was never visible on the invoice")
	}
}
