package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers/twilio/twiliotest"
)

func twilioSettings() map[string]any {
	s := acmeSettings()
	s["sms"] = map[string]any{"provider": "twilio", "twilio": map[string]any{
		"accountSid": twiliotest.AccountSID, "authToken": twiliotest.AuthToken, "from": "+40700000001"}}
	return s
}

func TestSMSThroughTwilio(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", twilioSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_tw")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_tw/send", token, map[string]any{"sendVia": []string{"sms"}}))
	eventually(t, 10*time.Second, "the SMS at Twilio", func() bool { return len(h.Twilio.Messages()) == 1 })
	m := h.Twilio.Messages()[0]
	if m.To != "+40712345678" || m.From != "+40700000001" || !strings.HasPrefix(m.Body, "ACME SRL: New invoice for €1,130.50 due 21 Dec 2026.\nPay now: ") ||
		!strings.HasSuffix(m.StatusCallback, "/callbacks/twilio") {
		t.Fatalf("Twilio got %+v", m)
	}
	eventually(t, 5*time.Second, "the delivery sent", func() bool {
		ds := h.deliveries(token, "inv_tw")
		return len(ds) == 1 && ds[0]["status"] == "sent"
	})
	if d := h.deliveries(token, "inv_tw")[0]; d["provider"] != "twilio" {
		t.Fatalf("delivery = %v", d)
	}
	assertNotLogged(t, h, twiliotest.AuthToken)
}

// TestTwilioFailureClasses sends one SMS per provider answer and checks
// what the delivery does: fail at once, or retry (throttling without using
// up an attempt) and then go out.
func TestTwilioFailureClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		code     int
		fails    int
		want     string // final delivery status
		attempts int
		errCode  string
	}{
		{"invalid number is permanent", 400, 21211, 1, "failed", 1, "twilio_21211"},
		{"unsubscribed recipient is permanent", 400, 21610, 1, "failed", 1, "twilio_21610"},
		{"throttling waits and retries", 429, 20429, 2, "sent", 3, ""},
		{"server error is retried", 500, 20500, 1, "sent", 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := setup(t)
			token := h.tenant("ACME SRL", twilioSettings())
			h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_f")))
			h.Twilio.FailNext(tt.fails, tt.status, tt.code, "simulated")
			if tt.status == 429 {
				h.Twilio.SetRetryAfter("1")
			}
			h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_f/send", token, map[string]any{"sendVia": []string{"sms"}}))
			eventually(t, 20*time.Second, "the delivery to settle as "+tt.want, func() bool {
				ds := h.deliveries(token, "inv_f")
				return len(ds) == 1 && ds[0]["status"] == tt.want
			})
			d := h.deliveries(token, "inv_f")[0]
			attempts := d["attempts"].([]any)
			if len(attempts) != tt.attempts {
				t.Fatalf("%d attempts, want %d: %v", len(attempts), tt.attempts, attempts)
			}
			if tt.errCode != "" {
				if code := attempts[0].(map[string]any)["code"]; code != tt.errCode {
					t.Errorf("attempt code = %v, want %s", code, tt.errCode)
				}
				if !strings.Contains(d["error"].(string), "simulated") {
					t.Errorf("error = %q, want Twilio's message", d["error"])
				}
			}
			wantSent := 0
			if tt.want == "sent" {
				wantSent = 1
			}
			if n := len(h.Twilio.Messages()); n != wantSent {
				t.Errorf("Twilio accepted %d messages, want %d", n, wantSent)
			}
		})
	}
}

func TestTransientFailuresGiveUpAfterTheConfiguredRetries(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.maxRetries = 2 })
	token := h.tenant("ACME SRL", twilioSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_g")))
	h.Twilio.FailNext(10, 503, 20503, "service unavailable")
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_g/send", token, map[string]any{"sendVia": []string{"sms"}}))
	eventually(t, 20*time.Second, "the delivery to fail", func() bool {
		ds := h.deliveries(token, "inv_g")
		return len(ds) == 1 && ds[0]["status"] == "failed"
	})
	d := h.deliveries(token, "inv_g")[0]
	if n := len(d["attempts"].([]any)); n != 3 {
		t.Fatalf("%d attempts, want 3 (the first and 2 retries)", n)
	}
	if e := d["error"].(string); !strings.Contains(e, "gave up after 3 attempts") || !strings.Contains(e, "503") {
		t.Fatalf("error = %q", e)
	}
}
