package contract

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers/twilio/twiliotest"
)

// The webhook payloads of Auxvault's "Invoice Sending & Delivery"
// document, section "Webhooks", verbatim.
const (
	auxvaultInvoiceSent = `{
  "type": "invoice.sent",
  "data": {
    "invoiceId": "inv_abc123",
    "sentVia": ["email", "sms"],
    "sentAt": "2026-01-28T12:00:00Z"
  }
}`
	auxvaultInvoiceDelivered = `{
  "type": "invoice.delivered",
  "data": {
    "invoiceId": "inv_abc123",
    "method": "email",
    "deliveredAt": "2026-01-28T12:01:00Z"
  }
}`
	auxvaultInvoiceOpened = `{
  "type": "invoice.opened",
  "data": {
    "invoiceId": "inv_abc123",
    "openedAt": "2026-01-28T12:15:00Z",
    "ipAddress": "192.168.1.1"
  }
}`
	auxvaultLinkClicked = `{
  "type": "invoice.payment_link_clicked",
  "data": {
    "invoiceId": "inv_abc123",
    "clickedAt": "2026-01-28T12:16:00Z"
  }
}`
)

// hookReceiver is a tenant's webhook endpoint on loopback: it keeps every
// request and answers 204.
type hookReceiver struct {
	mu  sync.Mutex
	got []hookRequest
	srv *httptest.Server
}

type hookRequest struct {
	Header http.Header
	Body   []byte
	Event  map[string]any
}

func newHookReceiver(t *testing.T) *hookReceiver {
	rc := &hookReceiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev map[string]any
		_ = json.Unmarshal(b, &ev)
		rc.mu.Lock()
		rc.got = append(rc.got, hookRequest{Header: r.Header.Clone(), Body: b, Event: ev})
		rc.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// ofType returns the requests that carried events of type typ.
func (rc *hookReceiver) ofType(typ string) []hookRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []hookRequest
	for _, r := range rc.got {
		if r.Event["type"] == typ {
			out = append(out, r)
		}
	}
	return out
}

// wait waits for the first event of type typ and returns it.
func (rc *hookReceiver) wait(t *testing.T, typ string) hookRequest {
	t.Helper()
	eventually(t, 20*time.Second, typ, func() bool { return len(rc.ofType(typ)) > 0 })
	return rc.ofType(typ)[0]
}

// verifyStandardWebhook checks a request's signature as a Standard
// Webhooks receiver does: base64 HMAC-SHA256, keyed with the secret's
// bytes, of "id.timestamp.body", among the "v1,…" signatures, with a
// timestamp within five minutes.
func verifyStandardWebhook(t *testing.T, secret string, r hookRequest) {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatalf("signing secret %q is not whsec_ and base64: %v", secret, err)
	}
	id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		t.Errorf("%v: webhook-timestamp %q is not a current Unix time", r.Event["type"], ts)
	}
	if id == "" || id != r.Event["id"] {
		t.Errorf("%v: webhook-id %q, event id %v", r.Event["type"], id, r.Event["id"])
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "." + string(r.Body)))
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	if !slices.Contains(strings.Fields(r.Header.Get("webhook-signature")), want) {
		t.Errorf("%v: webhook-signature %q does not sign the body", r.Event["type"], r.Header.Get("webhook-signature"))
	}
}

// signTwilio is X-Twilio-Signature as Twilio computes it:
// base64(HMAC-SHA1(authToken, url + each key and value, keys sorted)).
func signTwilio(authToken, fullURL string, form url.Values) string {
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

var trackedLink = regexp.MustCompile(`(?:src|href)="([^"]+/t/([oc])/([^"]+))"`)

// TestAuxvaultWebhooks sends an invoice as Auxvault's "Send via Both Email
// + SMS" does, to a tenant with open tracking, Twilio for SMS and a
// webhook endpoint, behind a proxy the deployment trusts; then opens the
// email, follows its Pay link and has Twilio report the SMS delivered.
// Each step's webhook has the shape of Auxvault's document and says what
// happened, signed per Standard Webhooks.
func TestAuxvaultWebhooks(t *testing.T) {
	t.Parallel()
	s := start(t, withEnv("INVOICED_TRUSTED_PROXIES=127.0.0.1/32"))
	settings := acmeSettings()
	settings["email"].(map[string]any)["tracking"] = true
	settings["sms"] = map[string]any{"provider": "twilio", "twilio": map[string]any{
		"accountSid": twiliotest.AccountSID, "authToken": twiliotest.AuthToken, "from": "+40700000001"}}
	settings["payments"] = map[string]any{"gateway": "static",
		"static": map[string]any{"urlTemplate": "https://pay.acme.test/{invoiceId}"}}
	tenantID, token := s.tenant(t, "ACME Corp", settings)
	rc := newHookReceiver(t)
	body, _ := json.Marshal(map[string]any{"url": rc.srv.URL + "/hooks"})
	hook := must(t, http.StatusCreated, s.do(t, "POST", "/api/v1/webhooks", bearer(token), string(body))).object(t)
	secret, _ := hook["data"].(map[string]any)["secret"].(string)

	invID := s.invoice(t, token, sampleInvoice("inv_abc123"))
	headers := map[string]string{"Authorization": "Bearer " + token, "X-Tenant-ID": tenantID, "Content-Type": "application/json"}
	must(t, http.StatusAccepted, s.do(t, "POST", "/api/v1/invoices/"+invID+"/send", headers, `{
    "sendVia": ["email", "sms"],
    "email": "customer@example.com",
    "phone": "+12015550123"
  }`))

	// invoice.sent: once, for both channels, when both have gone out.
	sent := rc.wait(t, "invoice.sent")
	matchShape(t, "invoice.sent", auxvaultInvoiceSent, sent.Event)
	data := sent.Event["data"].(map[string]any)
	if data["invoiceId"] != invID || fmt.Sprint(data["sentVia"]) != "[email sms]" {
		t.Errorf("invoice.sent data = %v, want sentVia [email sms] for %s", data, invID)
	}
	eventually(t, 20*time.Second, "the SMS at Twilio", func() bool { return len(s.Twilio.Messages()) == 1 })
	deliveries := must(t, http.StatusOK, s.do(t, "GET", "/api/v1/invoices/"+invID+"/delivery-status", headers, "")).object(t)
	var lastSent time.Time
	for _, d := range deliveries["data"].(map[string]any)["deliveries"].([]any) {
		d := d.(map[string]any)
		if d["status"] != "sent" {
			t.Errorf("%v delivery is %v, want sent", d["method"], d["status"])
		}
		if at := mustTime(t, fmt.Sprint(d["sentAt"])); at.After(lastSent) {
			lastSent = at
		}
	}
	if got := mustTime(t, fmt.Sprint(data["sentAt"])); !got.Equal(lastSent) {
		t.Errorf("invoice.sent sentAt = %v, want when the later delivery was sent (%v)", data["sentAt"], lastSent)
	}

	// invoice.opened: the email's pixel, fetched through the trusted proxy.
	emails := s.emails(t, 1)
	var pixel, pay string
	for _, m := range trackedLink.FindAllStringSubmatch(emails[0].HTML, -1) {
		switch {
		case m[2] == "o":
			pixel = m[1]
		case strings.HasSuffix(tokenParts(t, m[3]), "/pay"):
			pay = m[1]
		}
	}
	if pixel == "" || pay == "" {
		t.Fatalf("no open pixel or tracked Pay link in the email:\n%s", emails[0].HTML)
	}
	get := func(link string, header map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", link, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get(pixel, map[string]string{"X-Forwarded-For": "192.168.1.1"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("open pixel answered %d", resp.StatusCode)
	}
	opened := rc.wait(t, "invoice.opened")
	matchShape(t, "invoice.opened", auxvaultInvoiceOpened, opened.Event)
	if data := opened.Event["data"].(map[string]any); data["invoiceId"] != invID || data["ipAddress"] != "192.168.1.1" || data["method"] != "email" {
		t.Errorf("invoice.opened data = %v, want ipAddress 192.168.1.1 from X-Forwarded-For", data)
	}

	// invoice.payment_link_clicked: the email's Pay link, followed.
	resp := get(pay, nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "https://pay.acme.test/"+invID {
		t.Fatalf("Pay link answered %d to %q, want a redirect to the payment link", resp.StatusCode, loc)
	}
	clicked := rc.wait(t, "invoice.payment_link_clicked")
	matchShape(t, "invoice.payment_link_clicked", auxvaultLinkClicked, clicked.Event)
	if data := clicked.Event["data"].(map[string]any); data["invoiceId"] != invID || data["ipAddress"] != "127.0.0.1" {
		t.Errorf("invoice.payment_link_clicked data = %v, want the proxy's own address without X-Forwarded-For", data)
	}

	// invoice.delivered: Twilio's status callback for the SMS.
	form := url.Values{"MessageSid": {s.Twilio.Messages()[0].SID}, "AccountSid": {twiliotest.AccountSID},
		"MessageStatus": {"delivered"}, "To": {"+12015550123"}}
	cb := map[string]string{"Content-Type": "application/x-www-form-urlencoded",
		"X-Twilio-Signature": signTwilio(twiliotest.AuthToken, s.URL+"/callbacks/twilio", form)}
	must(t, http.StatusNoContent, s.do(t, "POST", "/callbacks/twilio", cb, form.Encode()))
	delivered := rc.wait(t, "invoice.delivered")
	matchShape(t, "invoice.delivered", auxvaultInvoiceDelivered, delivered.Event)
	if data := delivered.Event["data"].(map[string]any); data["invoiceId"] != invID || data["method"] != "sms" {
		t.Errorf("invoice.delivered data = %v, want method sms", data)
	}

	// Nothing above sent the invoice again.
	time.Sleep(time.Second)
	if n := len(rc.ofType("invoice.sent")); n != 1 {
		t.Errorf("%d invoice.sent webhooks, want 1", n)
	}
	for _, typ := range []string{"invoice.sent", "invoice.opened", "invoice.payment_link_clicked", "invoice.delivered"} {
		for _, r := range rc.ofType(typ) {
			verifyStandardWebhook(t, secret, r)
		}
	}
}

// tokenParts reads the ids a tracking token carries (base64url before its
// signature), to tell the Pay link from the others without following it.
func tokenParts(t *testing.T, token string) string {
	t.Helper()
	payload, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatalf("tracking token %q: %v", token, err)
	}
	return string(b)
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}
