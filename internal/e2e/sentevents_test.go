package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers/webhook"
)

// sentEvents returns the invoice.sent events rc received, by send id.
func sentEvents(rc *receiver) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, r := range rc.received() {
		if r.Event["type"] != "invoice.sent" {
			continue
		}
		data, _ := r.Event["data"].(map[string]any)
		id, _ := data["sendId"].(string)
		out[id] = append(out[id], data)
	}
	return out
}

// TestInvoiceSentOncePerSend sends invoices by email and SMS at once, so
// their two deliveries settle side by side on the worker, and expects one
// invoice.sent per send, naming both channels in the send's order.
func TestInvoiceSentOncePerSend(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", acmeSettings())
	rc := newReceiver(t)
	secret := h.must(http.StatusCreated, h.do("POST", "/api/v1/webhooks", token, map[string]any{"url": rc.srv.URL})).data()["secret"].(string)

	const sends = 5
	sendIDs := map[string]string{} // send id → invoice id
	for i := range sends {
		id := fmt.Sprintf("inv_once%d", i)
		h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice(id)))
		r := h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/"+id+"/send", token, map[string]any{"sendVia": []string{"email", "sms"}}))
		sendIDs[r.data()["sendId"].(string)] = id
	}
	eventually(t, 15*time.Second, "an invoice.sent for every send", func() bool { return len(sentEvents(rc)) == sends })
	// Any second event would follow the first within moments.
	time.Sleep(time.Second)

	for sendID, invoiceID := range sendIDs {
		got := sentEvents(rc)[sendID]
		if len(got) != 1 {
			t.Errorf("send %s: %d invoice.sent events, want 1: %v", sendID, len(got), got)
			continue
		}
		data := got[0]
		if data["invoiceId"] != invoiceID || fmt.Sprint(data["sentVia"]) != "[email sms]" ||
			fmt.Sprint(data["sentTo"]) != "[ana@example.com +40712345678]" {
			t.Errorf("send %s: invoice.sent data = %v", sendID, data)
		}
		// sentAt is when the later of the two deliveries was sent.
		var last time.Time
		for _, d := range h.deliveries(token, invoiceID) {
			if d["status"] != "sent" {
				t.Errorf("send %s: delivery %v is %v", sendID, d["id"], d["status"])
			}
			if at, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(d["sentAt"])); at.After(last) {
				last = at
			}
		}
		if sentAt, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(data["sentAt"])); last.IsZero() || !sentAt.Equal(last) {
			t.Errorf("send %s: sentAt %v, want the last delivery's %v", sendID, data["sentAt"], last)
		}
	}
	for _, r := range rc.received() {
		if err := webhook.Verify(secret, r.Header, r.Body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("%s: signature does not verify: %v", r.Event["type"], err)
		}
	}
}

// TestInvoiceSentOnlyWhenSomethingWasSent fails deliveries by sending to a
// suppressed address: a send whose one delivery fails fires
// invoice.delivery_failed and no invoice.sent; a send whose email fails
// but whose SMS goes out fires invoice.sent for the SMS alone, once the
// email has failed.
func TestInvoiceSentOnlyWhenSomethingWasSent(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", acmeSettings())
	if err := h.Store.Suppress(t.Context(), h.tenantID(token), "ana@example.com", "bounce: 550 no such user"); err != nil {
		t.Fatal(err)
	}
	rc := newReceiver(t)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/webhooks", token, map[string]any{"url": rc.srv.URL}))

	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_nothing")))
	failed := h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_nothing/send", token, nil)).data()["sendId"].(string)
	eventually(t, 10*time.Second, "invoice.delivery_failed", func() bool { return slices.Contains(rc.types(), "invoice.delivery_failed") })
	if d := h.deliveries(token, "inv_nothing")[0]; d["status"] != "failed" {
		t.Fatalf("delivery to a suppressed address is %v", d["status"])
	}

	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_half")))
	half := h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_half/send", token,
		map[string]any{"sendVia": []string{"email", "sms"}})).data()["sendId"].(string)
	eventually(t, 10*time.Second, "the invoice.sent of the second send", func() bool { return len(sentEvents(rc)[half]) == 1 })
	time.Sleep(500 * time.Millisecond)

	got := sentEvents(rc)
	if n := len(got[failed]); n != 0 {
		t.Errorf("a send that sent nothing fired %d invoice.sent: %v", n, got[failed])
	}
	if len(got) != 1 || len(got[half]) != 1 {
		t.Fatalf("invoice.sent events = %v, want one, for the second send", got)
	}
	if data := got[half][0]; fmt.Sprint(data["sentVia"]) != "[sms]" || fmt.Sprint(data["sentTo"]) != "[+40712345678]" {
		t.Errorf("invoice.sent of a send whose email failed = %v, want sentVia [sms]", data)
	}
	statuses := map[string]any{}
	for _, d := range h.deliveries(token, "inv_half") {
		statuses[d["method"].(string)] = d["status"]
	}
	if statuses["email"] != "failed" || statuses["sms"] != "sent" {
		t.Errorf("deliveries of the second send = %v", statuses)
	}
}
