package e2e

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers/ses/sns"
	"github.com/invoiced/invoiced/providers/ses/sns/snstest"
)

const sesTopic = "arn:aws:sns:us-east-1:123456789012:ses-events"

// sesEvent is a sample SES event record for messageID.
func sesEvent(t *testing.T, name, messageID string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "providers", "ses", "testdata", "events", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(raw), "0102019a4f6c2e1b-5b8e2f44-7d1c-4a8e-9f3b-2c6d8e1a0b7f-000000", messageID)
}

func (h *harness) postSNS(m *sns.Message) int {
	h.t.Helper()
	resp, err := http.Post(h.URL+"/callbacks/ses", "text/plain; charset=UTF-8", bytes.NewReader(snstest.Body(m)))
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// sesDelivery sends the invoice through the SES emulator and returns the
// SES message id of the new delivery.
func (h *harness) sesDelivery(token, invoiceID string, n int) string {
	h.t.Helper()
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/"+invoiceID+"/send", token, nil))
	var id string
	eventually(h.t.(*testing.T), 15*time.Second, "the SES send", func() bool {
		ds := h.deliveries(token, invoiceID)
		if len(ds) == n && ds[n-1]["status"] == "sent" {
			id = ds[n-1]["providerId"].(string)
			return true
		}
		return false
	})
	return id
}

func TestSESEventsThroughSNS(t *testing.T) {
	t.Parallel()
	h := setup(t, func(o *options) { o.ses = true })
	settings := sesSettings("billing@acme.test")
	settings["email"].(map[string]any)["ses"].(map[string]any)["eventTopicArns"] = []string{sesTopic}
	token := h.tenant("ACME SRL", settings)

	// Subscriptions: confirmed for an allowed topic only.
	if got := h.postSNS(h.SNS.Sign(h.SNS.SubscriptionConfirmation("arn:aws:sns:us-east-1:123456789012:other"), "2")); got != http.StatusForbidden {
		t.Fatalf("confirmation for a topic nobody allowed: %d", got)
	}
	if got := h.postSNS(h.SNS.Sign(h.SNS.SubscriptionConfirmation(sesTopic), "1")); got != http.StatusNoContent {
		t.Fatalf("confirmation: %d", got)
	}
	if n := len(h.SNS.Confirmations()); n != 1 {
		t.Fatalf("%d subscriptions confirmed, want 1", n)
	}

	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_ev")))
	first := h.sesDelivery(token, "inv_ev", 1)
	notify := func(event string) int {
		return h.postSNS(h.SNS.Sign(h.SNS.Notification(sesTopic, "", sesEvent(t, event, first)), "2"))
	}
	// Forgeries change nothing.
	altered := h.SNS.Sign(h.SNS.Notification(sesTopic, "", sesEvent(t, "delivery", first)), "2")
	altered.Message = strings.Replace(altered.Message, "Delivery", "Bounce", 1)
	old := h.SNS.Notification(sesTopic, "", sesEvent(t, "delivery", first))
	old.Timestamp = snstest.Timestamp(time.Now().Add(-2 * time.Hour))
	httpCert := h.SNS.Sign(h.SNS.Notification(sesTopic, "", sesEvent(t, "delivery", first)), "2")
	httpCert.SigningCertURL = strings.Replace(httpCert.SigningCertURL, "https://", "http://", 1)
	s3Cert := h.SNS.Sign(h.SNS.Notification(sesTopic, "", sesEvent(t, "delivery", first)), "2")
	s3Cert.SigningCertURL = strings.Replace(s3Cert.SigningCertURL, "sns.us-east-1.amazonaws.com", "s3.amazonaws.com", 1)
	wrongTopic := h.SNS.Sign(h.SNS.Notification("arn:aws:sns:us-east-1:123456789012:other", "", sesEvent(t, "delivery", first)), "2")
	forged := map[string]*sns.Message{
		"altered message": altered, "old timestamp": h.SNS.Sign(old, "2"), "http certificate URL": httpCert,
		"certificate on s3": s3Cert, "topic not allowed": wrongTopic,
	}
	for name, m := range forged {
		if got := h.postSNS(m); got != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, got)
		}
	}
	if d := h.deliveries(token, "inv_ev")[0]; d["status"] != "sent" {
		t.Fatalf("a forged event moved the delivery to %v", d["status"])
	}

	// Genuine events, out of order and repeated: never backwards.
	steps := []struct{ event, want string }{
		{"send", "sent"},
		{"open", "opened"},
		{"delivery", "opened"}, // late
		{"open", "opened"},     // again: joins the history
		{"click", "clicked"},
		{"delivery", "clicked"}, // late, and after a click: no trace
	}
	for _, s := range steps {
		if got := notify(s.event); got != http.StatusNoContent {
			t.Fatalf("%s: %d", s.event, got)
		}
		if d := h.deliveries(token, "inv_ev")[0]; d["status"] != s.want {
			t.Fatalf("after %s: %v, want %s", s.event, d["status"], s.want)
		}
	}
	d := h.deliveries(token, "inv_ev")[0]
	if got := strings.Join(historyOf(d), ","); got != "queued,sent,sent,opened,opened,clicked" {
		t.Errorf("history = %s", got)
	}
	// SES's open and click carry the reader's address, kept with them.
	for _, step := range d["history"].([]any) {
		step := step.(map[string]any)
		if st := step["status"]; (st == "opened" || st == "clicked") && step["ip"] != "192.0.2.1" {
			t.Errorf("the %s step from SES keeps ip %v, want SES's ipAddress 192.0.2.1", st, step["ip"])
		}
	}

	// A hard bounce on the next send suppresses the address.
	second := h.sesDelivery(token, "inv_ev", 2)
	if got := h.postSNS(h.SNS.Sign(h.SNS.Notification(sesTopic, "", sesEvent(t, "bounce-permanent", second)), "1")); got != http.StatusNoContent {
		t.Fatalf("bounce: %d", got)
	}
	if d := h.deliveries(token, "inv_ev")[1]; d["status"] != "bounced" {
		t.Fatalf("after a permanent bounce: %v", d["status"])
	}
	sup := h.must(http.StatusOK, h.do("GET", "/api/v1/suppressions", token, nil))
	if !strings.Contains(string(sup.Raw), "ana@example.com") {
		t.Fatalf("suppressions = %s", sup.Raw)
	}
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_ev/send", token, nil))
	eventually(t, 10*time.Second, "the send to the bounced address to fail", func() bool {
		ds := h.deliveries(token, "inv_ev")
		return len(ds) == 3 && ds[2]["status"] == "failed" && strings.Contains(ds[2]["error"].(string), "suppressed")
	})
}
