package e2e

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers/twilio/twiliotest"
)

// twilioSignature computes X-Twilio-Signature the way Twilio documents it:
// base64(HMAC-SHA1(authToken, url + sorted key+value pairs)).
func twilioSignature(authToken, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := fullURL
	for _, k := range keys {
		s += k + form.Get(k)
	}
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func (h *harness) twilioCallback(form url.Values, signature string) int {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.URL+"/callbacks/twilio", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", signature)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestTwilioCallbacks(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", twilioSettings())
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_cb")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_cb/send", token, map[string]any{"sendVia": []string{"sms"}}))
	eventually(t, 10*time.Second, "the SMS sent", func() bool {
		ds := h.deliveries(token, "inv_cb")
		return len(ds) == 1 && ds[0]["status"] == "sent"
	})
	sid := h.Twilio.Messages()[0].SID
	callback := func(status, errorCode string) url.Values {
		f := url.Values{"MessageSid": {sid}, "AccountSid": {twiliotest.AccountSID}, "MessageStatus": {status}}
		if errorCode != "" {
			f.Set("ErrorCode", errorCode)
		}
		return f
	}
	full := h.URL + "/callbacks/twilio"

	bad := callback("delivered", "")
	if got := h.twilioCallback(bad, twilioSignature("wrong-token", full, bad)); got != http.StatusForbidden {
		t.Fatalf("a wrongly signed callback got %d, want 403", got)
	}
	tampered := callback("delivered", "")
	sig := twilioSignature(twiliotest.AuthToken, full, tampered)
	tampered.Set("MessageStatus", "failed")
	if got := h.twilioCallback(tampered, sig); got != http.StatusForbidden {
		t.Fatalf("a tampered callback got %d, want 403", got)
	}
	if d := h.deliveries(token, "inv_cb")[0]; d["status"] != "sent" {
		t.Fatalf("a refused callback moved the delivery to %v", d["status"])
	}

	steps := []struct{ status, errorCode, want string }{
		{"delivered", "", "delivered"},
		{"sent", "", "delivered"},      // late: never backwards
		{"delivered", "", "delivered"}, // duplicate: a no-op
		{"undelivered", "30003", "failed"},
		{"delivered", "", "failed"}, // nothing follows a terminal status
	}
	for _, s := range steps {
		f := callback(s.status, s.errorCode)
		if got := h.twilioCallback(f, twilioSignature(twiliotest.AuthToken, full, f)); got != http.StatusNoContent {
			t.Fatalf("%s callback got %d", s.status, got)
		}
		if d := h.deliveries(token, "inv_cb")[0]; d["status"] != s.want {
			t.Fatalf("after %s: status %v, want %s", s.status, d["status"], s.want)
		}
	}
	d := h.deliveries(token, "inv_cb")[0]
	if got := strings.Join(historyOf(d), ","); got != "queued,sent,delivered,failed" {
		t.Errorf("history = %s", got)
	}
	if !strings.Contains(d["error"].(string), "30003") {
		t.Errorf("error = %v, want Twilio's error code", d["error"])
	}
	// Each change counted once, by whoever recorded it; late and repeated
	// callbacks not at all.
	wantSamples(t, h.scrape(), map[string]float64{
		`invoiced_deliveries_total{channel="sms",provider="twilio",status="sent"}`:      1,
		`invoiced_deliveries_total{channel="sms",provider="twilio",status="delivered"}`: 1,
		`invoiced_deliveries_total{channel="sms",provider="twilio",status="failed"}`:    1,
	})
}

var hrefPattern = regexp.MustCompile(`(?:src|href)="([^"]+/t/[oc]/[^"]+)"`)

func TestOpenAndClickTracking(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := acmeSettings()
	settings["email"].(map[string]any)["tracking"] = true
	token := h.tenant("ACME SRL", settings)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_t")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_t/send", token, nil))
	eventually(t, 10*time.Second, "the email", func() bool { return len(h.emails()) == 1 })
	raw := string(mustRead(t, h.emails()[0]))
	raw = strings.NewReplacer("=\r\n", "", "=\n", "", "=3D", "=").Replace(raw) // undo quoted-printable
	var pixel, view string
	for _, m := range hrefPattern.FindAllStringSubmatch(raw, -1) {
		switch {
		case strings.Contains(m[1], "/t/o/"):
			pixel = m[1]
		case strings.Contains(m[1], "/t/c/"):
			view = m[1]
		}
	}
	if pixel == "" || view == "" {
		t.Fatalf("no tracking pixel or link in the email:\n%s", raw)
	}

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range 2 { // the second open joins the history
		resp, err := http.Get(pixel)
		if err != nil || resp.Header.Get("Content-Type") != "image/gif" {
			t.Fatalf("pixel: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	resp, err := noRedirect.Get(view)
	if err != nil || resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/i/") {
		t.Fatalf("click: %v %v", err, resp)
	}
	resp.Body.Close()
	// A token altered to point elsewhere is not followed.
	resp, _ = noRedirect.Get(view[:len(view)-3] + "xyz")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("altered click token answered %d", resp.StatusCode)
	}
	resp.Body.Close()
	d := h.deliveries(token, "inv_t")[0]
	if d["status"] != "clicked" || d["openedAt"] == nil || d["clickedAt"] == nil {
		t.Fatalf("delivery = %v", d)
	}
	if got := strings.Join(historyOf(d), ","); got != "queued,sent,opened,opened,clicked" {
		t.Errorf("history = %s", got)
	}
	last := d["history"].([]any)[4].(map[string]any)
	if last["source"] != "tracking" || !strings.Contains(last["detail"].(string), "user agent") {
		t.Errorf("click entry = %v", last)
	}
	// The second open joined the history without moving the status, so
	// it is not counted.
	wantSamples(t, h.scrape(), map[string]float64{
		`invoiced_deliveries_total{channel="email",provider="outbox",status="opened"}`:  1,
		`invoiced_deliveries_total{channel="email",provider="outbox",status="clicked"}`: 1,
	})
}

func TestSuppressionsAndEmailHistory(t *testing.T) {
	t.Parallel()
	h := setup(t)
	token := h.tenant("ACME SRL", acmeSettings())
	if err := h.Store.Suppress(t.Context(), h.tenantID(token), "Bounced@Example.com", "bounce: 550 no such user"); err != nil {
		t.Fatal(err)
	}
	var list struct{ Data []map[string]any }
	_ = json.Unmarshal(h.must(http.StatusOK, h.do("GET", "/api/v1/suppressions", token, nil)).Raw, &list)
	if len(list.Data) != 1 || list.Data[0]["address"] != "bounced@example.com" || !strings.Contains(list.Data[0]["reason"].(string), "550") {
		t.Fatalf("suppressions = %v", list.Data)
	}
	h.must(http.StatusNotFound, h.do("DELETE", "/api/v1/suppressions/nobody@example.com", token, nil))
	h.must(http.StatusOK, h.do("DELETE", "/api/v1/suppressions/bounced@example.com", token, nil))
	_ = json.Unmarshal(h.must(http.StatusOK, h.do("GET", "/api/v1/suppressions", token, nil)).Raw, &list)
	if len(list.Data) != 0 {
		t.Fatalf("after DELETE: %v", list.Data)
	}
	// Another tenant sees none of it.
	other := h.tenant("B SRL", nil)
	_ = json.Unmarshal(h.must(http.StatusOK, h.do("GET", "/api/v1/suppressions", other, nil)).Raw, &list)
	if len(list.Data) != 0 {
		t.Fatal("suppressions leaked across tenants")
	}

	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_h")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_h/send", token, map[string]any{"subject": "Factura {{invoiceNumber}}"}))
	eventually(t, 10*time.Second, "the email sent", func() bool {
		ds := h.deliveries(token, "inv_h")
		return len(ds) == 1 && ds[0]["status"] == "sent"
	})
	r := h.must(http.StatusOK, h.do("GET", "/api/v1/invoices/inv_h/emails", token, nil))
	emails := r.Body["emails"].([]any)
	if len(emails) != 1 {
		t.Fatalf("emails = %s", r.Raw)
	}
	e := emails[0].(map[string]any)
	if e["to"] != "ana@example.com" || e["subject"] != "Factura INV-h" || e["deliveryStatus"] != "sent" || e["sentAt"] == nil {
		t.Fatalf("email entry = %v", e)
	}
}

// TestPayClickAfterPayment follows an email's tracked Pay link: to the
// payment link while the invoice is open, to the invoice page (which says
// Paid) once it has been paid another way.
func TestPayClickAfterPayment(t *testing.T) {
	t.Parallel()
	h := setup(t)
	settings := paymentSettings(map[string]any{"gateway": "static",
		"static": map[string]any{"urlTemplate": "https://pay.acme.test/{invoiceId}"}})
	settings["email"].(map[string]any)["tracking"] = true
	token := h.tenant("ACME SRL", settings)
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_pc")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_pc/send", token, nil))
	eventually(t, 10*time.Second, "the email", func() bool { return len(h.emails()) == 1 })
	raw := strings.NewReplacer("=\r\n", "", "=\n", "", "=3D", "=").Replace(string(mustRead(t, h.emails()[0])))
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	follow := func(link string) string {
		t.Helper()
		resp, err := noRedirect.Get(link)
		if err != nil || resp.StatusCode != http.StatusFound {
			t.Fatalf("click %s: %v %v", link, err, resp)
		}
		resp.Body.Close()
		return resp.Header.Get("Location")
	}
	var pay string
	for _, m := range hrefPattern.FindAllStringSubmatch(raw, -1) {
		if strings.Contains(m[1], "/t/c/") && strings.HasPrefix(follow(m[1]), "https://pay.acme.test/") {
			pay = m[1]
		}
	}
	if pay == "" {
		t.Fatalf("no tracked link to the payment link in the email:\n%s", raw)
	}
	h.must(http.StatusOK, h.do("POST", "/api/v1/invoices/inv_pc/mark-paid", token, nil))
	if got := follow(pay); !strings.Contains(got, "/i/") {
		t.Fatalf("the Pay link of a paid invoice leads to %s, want the invoice page", got)
	}
}
