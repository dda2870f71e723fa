package contract

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/internal/mailtest"
)

// The documented answers of Auxvault's "Invoice Sending & Delivery" page,
// copied verbatim.
const (
	auxvaultSendAnswer = `{
  "success": true,
  "data": {
    "invoiceId": "inv_abc123",
    "sentVia": ["email"],
    "sentTo": "customer@example.com",
    "sentAt": "2026-01-28T12:00:00Z",
    "deliveryStatus": "sent"
  }
}`
	auxvaultPaymentLinkAnswer = `{
  "success": true,
  "data": {
    "invoiceId": "inv_abc123",
    "paymentLink": "https://pay.auxvault.com/inv_abc123",
    "qrCodeUrl": "https://api.auxvault.com/qr/inv_abc123.png",
    "expiresAt": null
  }
}`
	auxvaultDeliveryStatusAnswer = `{
  "success": true,
  "data": {
    "invoiceId": "inv_abc123",
    "deliveries": [
      {
        "method": "email",
        "sentTo": "customer@example.com",
        "sentAt": "2026-01-28T12:00:00Z",
        "status": "delivered",
        "openedAt": "2026-01-28T12:15:00Z",
        "clickedAt": "2026-01-28T12:16:00Z"
      },
      {
        "method": "sms",
        "sentTo": "+1234567890",
        "sentAt": "2026-01-28T12:00:00Z",
        "status": "delivered"
      }
    ]
  }
}`
)

// auxvaultPhone stands in for the document's +1234567890, which is not a
// valid number.
const auxvaultPhone = "+14155552671"

// TestAuxvaultSendingAndDelivery sends every request example of
// Auxvault's sending and delivery page, as its curl shows it, to the
// binary, and holds each answer to the documented one and to what it
// means: the email, SMS and images that come out. The examples that show
// only a body get the headers the others show.
func TestAuxvaultSendingAndDelivery(t *testing.T) {
	t.Parallel()
	s := start(t)
	settings := map[string]any{
		"branding": map[string]any{"name": "ACME Corp", "email": "billing@acme.test",
			"address": map[string]any{"line1": "1 Market St", "city": "San Francisco", "postalCode": "94105", "country": "US"}},
		"email":    map[string]any{"provider": "outbox", "fromEmail": "billing@acme.test", "fromName": "ACME Corp", "tracking": true},
		"payments": map[string]any{"gateway": "static", "static": map[string]any{"urlTemplate": "https://pay.acme.test/{invoiceId}"}},
		"defaults": map[string]any{"language": "en", "gracePeriod": "1h", "autoEmailOnFinalize": false},
	}
	tenantID, token := s.tenant(t, "ACME Corp", settings)
	// headers are the ones the page's curl examples send.
	headers := map[string]string{"Authorization": "Bearer " + token, "X-Tenant-ID": tenantID, "Content-Type": "application/json"}
	getHeaders := map[string]string{"Authorization": "Bearer " + token, "X-Tenant-ID": tenantID}
	newInvoice := func(t *testing.T, id string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{
			"id": id, "number": "INV-" + strings.ToUpper(strings.TrimPrefix(id, "inv_")), "currency": "USD",
			"issueDate": time.Now().UTC().Format(time.DateOnly), "dueDate": time.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly),
			"customer": map[string]any{"name": "Jane Customer", "email": "customer@example.com",
				"address": map[string]any{"line1": "5 Main St", "city": "Austin", "postalCode": "73301", "country": "US"}},
			"lines": []any{map[string]any{"description": "Consulting", "quantity": "5", "unitPrice": "100.00", "taxRate": "0"}},
		})
		must(t, http.StatusCreated, s.do(t, "POST", "/api/v1/invoices", headers, string(body)))
	}
	// send posts body to path and checks the answer against the
	// documented send answer.
	send := func(t *testing.T, path, body string) map[string]any {
		t.Helper()
		r := must(t, http.StatusAccepted, s.do(t, "POST", path, headers, body))
		matchShape(t, "POST "+path, auxvaultSendAnswer, r.JSON)
		data, _ := r.object(t)["data"].(map[string]any)
		return data
	}

	t.Run("Send via Email", func(t *testing.T) {
		newInvoice(t, "inv_abc123")
		data := send(t, "/api/v1/invoices/inv_abc123/send", `{
    "sendVia": ["email"],
    "email": "customer@example.com",
    "subject": "Invoice from ACME Corp",
    "message": "Thank you for your business!",
    "attachPdf": true
  }`)
		if data["invoiceId"] != "inv_abc123" || data["sentTo"] != "customer@example.com" || data["deliveryStatus"] != "queued" {
			t.Errorf("answer = %v, want inv_abc123 sent to customer@example.com, queued", data)
		}
		checkRecent(t, "sentAt", data["sentAt"])
		e := invoiceEmails(t, s, "inv_abc123", 1)[0]
		if e.Header.Get("To") != "<customer@example.com>" && e.Header.Get("To") != "customer@example.com" {
			t.Errorf("To: %q, want customer@example.com", e.Header.Get("To"))
		}
		if e.Subject() != "Invoice from ACME Corp" || !strings.Contains(e.Text, "Thank you for your business!") {
			t.Errorf("subject %q, text %q: want the subject and message sent", e.Subject(), e.Text)
		}
		if pdf := e.Attachments["INV-ABC123.pdf"]; !bytes.HasPrefix(pdf, []byte("%PDF")) {
			t.Errorf("attachments %v, want the PDF INV-ABC123.pdf", slices.Collect(maps.Keys(e.Attachments)))
		}
	})

	t.Run("Send via SMS", func(t *testing.T) {
		newInvoice(t, "inv_sms")
		data := send(t, "/api/v1/invoices/inv_sms/send", `{
    "sendVia": ["sms"],
    "phone": "`+auxvaultPhone+`",
    "message": "New invoice for $500. Pay here: {{paymentLink}}"
  }`)
		if data["sentTo"] != auxvaultPhone || data["deliveryStatus"] != "queued" {
			t.Errorf("answer = %v, want sent to %s, queued", data, auxvaultPhone)
		}
		sms := smsOf(t, s, data, 1)[0]
		if sms["to"] != auxvaultPhone || !strings.Contains(sms["body"], "New invoice for $500. Pay here: http") || strings.Contains(sms["body"], "{{") {
			t.Errorf("SMS = %v, want the message to %s with the payment link filled in", sms, auxvaultPhone)
		}
	})

	// "SMS format": the SMS a send without a message carries.
	t.Run("SMS format", func(t *testing.T) {
		newInvoice(t, "inv_sms_format")
		data := send(t, "/api/v1/invoices/inv_sms_format/send", `{"sendVia": ["sms"], "phone": "`+auxvaultPhone+`"}`)
		body := smsOf(t, s, data, 1)[0]["body"]
		if !regexp.MustCompile(`^ACME Corp: New invoice for \$500\.00 due [^\n]+\.\nPay now: https?://\S+$`).MatchString(body) {
			t.Errorf("SMS = %q, want the documented format \"ACME Corp: New invoice for $500.00 due …\" then \"Pay now: <link>\"", body)
		}
	})

	// "SMS Customization": the custom message, on the SMS channel with the
	// number of the SMS example.
	t.Run("SMS Customization", func(t *testing.T) {
		newInvoice(t, "inv_sms_custom")
		data := send(t, "/api/v1/invoices/inv_sms_custom/send", `{"sendVia": ["sms"], "phone": "`+auxvaultPhone+`",
  "message": "Hi {{customerName}}! New invoice for ${{amount}}. Pay here: {{paymentLink}}"
}`)
		body := smsOf(t, s, data, 1)[0]["body"]
		if !strings.HasPrefix(body, "Hi Jane Customer! New invoice for $500.00. Pay here: http") {
			t.Errorf("SMS = %q, want the message with the customer's name, $500.00 and the payment link", body)
		}
	})

	t.Run("Send via Both Email + SMS", func(t *testing.T) {
		newInvoice(t, "inv_both")
		data := send(t, "/api/v1/invoices/inv_both/send", `{
    "sendVia": ["email", "sms"],
    "email": "customer@example.com",
    "phone": "`+auxvaultPhone+`"
  }`)
		recipients, _ := json.Marshal(data["recipients"])
		if want := `[{"method":"email","sentTo":"customer@example.com"},{"method":"sms","sentTo":"` + auxvaultPhone + `"}]`; data["sentTo"] != "customer@example.com" || string(recipients) != want {
			t.Errorf("sentTo %v, recipients %s; want customer@example.com and %s", data["sentTo"], recipients, want)
		}
		invoiceEmails(t, s, "inv_both", 1)
		if sms := smsOf(t, s, data, 1)[0]; sms["to"] != auxvaultPhone {
			t.Errorf("SMS to %s, want %s", sms["to"], auxvaultPhone)
		}
	})

	t.Run("Get Payment Link", func(t *testing.T) {
		newInvoice(t, "inv_link")
		must(t, http.StatusOK, s.do(t, "POST", "/api/v1/invoices/inv_link/finalize", headers, ""))
		r := must(t, http.StatusOK, s.do(t, "GET", "/api/v1/invoices/inv_link/payment-link", getHeaders, ""))
		matchShape(t, "GET …/payment-link", auxvaultPaymentLinkAnswer, r.JSON)
		data, _ := r.object(t)["data"].(map[string]any)
		if data["paymentLink"] != "https://pay.acme.test/inv_link" {
			t.Errorf("paymentLink = %v, want the static gateway's https://pay.acme.test/inv_link", data["paymentLink"])
		}
		// The QR code's URL works where no token can be sent, in an <img>.
		qrURL, _ := data["qrCodeUrl"].(string)
		resp, err := http.Get(qrURL)
		if err != nil {
			t.Fatal(err)
		}
		img := readAll(t, resp)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")) {
			t.Fatalf("GET %s without a token: %d %s, want a PNG", qrURL, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		authed := must(t, http.StatusOK, s.do(t, "GET", "/api/v1/invoices/inv_link/qr-code", getHeaders, ""))
		if !bytes.Equal(img, authed.Raw) {
			t.Errorf("qrCodeUrl's image differs from GET …/qr-code's")
		}
		resp, err = http.Get(strings.Replace(qrURL, "/qr-code", "A/qr-code", 1))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("a forged qrCodeUrl answered %d, want 404", resp.StatusCode)
		}
	})

	t.Run("Generate QR Code", func(t *testing.T) {
		r := must(t, http.StatusOK, s.do(t, "GET", "/api/v1/invoices/inv_link/qr-code", getHeaders, ""))
		if r.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(r.Raw, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("GET …/qr-code: %s, want a PNG", r.Header.Get("Content-Type"))
		}
		r = must(t, http.StatusOK, s.do(t, "GET", "/api/v1/invoices/inv_link/qr-code?size=400&format=svg", getHeaders, ""))
		if r.Header.Get("Content-Type") != "image/svg+xml" || !bytes.HasPrefix(r.Raw, []byte("<svg")) || !bytes.Contains(r.Raw, []byte(`width="400"`)) {
			t.Errorf("GET …/qr-code?size=400&format=svg: %s %.60s, want a 400 px SVG", r.Header.Get("Content-Type"), r.Raw)
		}
	})

	t.Run("Download PDF", func(t *testing.T) {
		r := must(t, http.StatusOK, s.do(t, "GET", "/api/v1/invoices/inv_abc123/pdf", getHeaders, ""))
		if r.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(r.Raw, []byte("%PDF")) {
			t.Errorf("GET …/pdf: %s %.8q, want a PDF", r.Header.Get("Content-Type"), r.Raw)
		}
	})

	t.Run("Delivery Status", func(t *testing.T) {
		newInvoice(t, "inv_status")
		data := send(t, "/api/v1/invoices/inv_status/send", `{
    "sendVia": ["email", "sms"],
    "email": "customer@example.com",
    "phone": "`+auxvaultPhone+`"
  }`)
		e := invoiceEmails(t, s, "inv_status", 1)[0]
		smsOf(t, s, data, 1)
		// The customer opens the email and clicks its payment link.
		var pixel, click string
		for _, m := range trackingURL.FindAllStringSubmatch(e.HTML, -1) {
			if strings.Contains(m[1], "/t/o/") {
				pixel = m[1]
			} else if click == "" {
				click = m[1]
			}
		}
		if pixel == "" || click == "" {
			t.Fatalf("no open pixel or tracked link in the email:\n%s", e.HTML)
		}
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, u := range []string{pixel, click} {
			resp, err := noRedirect.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		var got response
		eventually(t, 20*time.Second, "the email clicked and the SMS sent", func() bool {
			got = must(t, http.StatusOK, s.do(t, "GET", "/api/v1/invoices/inv_status/delivery-status", getHeaders, ""))
			ds := deliveriesOf(got)
			return len(ds) == 2 && ds[0]["clickedAt"] != nil && ds[1]["sentAt"] != nil
		})
		matchDeliveryStatus(t, auxvaultDeliveryStatusAnswer, got.JSON)
		ds := deliveriesOf(got)
		email, sms := ds[0], ds[1]
		if email["method"] != "email" || email["sentTo"] != "customer@example.com" || email["status"] != "clicked" {
			t.Errorf("email delivery = %v, want clicked, to customer@example.com", email)
		}
		opened, _ := time.Parse(time.RFC3339, str(email["openedAt"]))
		clicked, _ := time.Parse(time.RFC3339, str(email["clickedAt"]))
		sent, _ := time.Parse(time.RFC3339, str(email["sentAt"]))
		if sent.IsZero() || opened.Before(sent) || clicked.Before(opened) {
			t.Errorf("email sent %v, opened %v, clicked %v: want them in that order", email["sentAt"], email["openedAt"], email["clickedAt"])
		}
		if sms["method"] != "sms" || sms["sentTo"] != auxvaultPhone || sms["status"] != "sent" {
			t.Errorf("sms delivery = %v, want sent to %s", sms, auxvaultPhone)
		}
		for _, k := range []string{"deliveredAt", "openedAt", "clickedAt"} {
			if v, ok := sms[k]; ok {
				t.Errorf("sms delivery has %s %v; a time that has not come is left out", k, v)
			}
		}
	})

	t.Run("CC & BCC", func(t *testing.T) {
		newInvoice(t, "inv_cc")
		send(t, "/api/v1/invoices/inv_cc/send", `{
  "email": "customer@example.com",
  "cc": ["accounting@example.com"],
  "bcc": ["records@mycompany.com"]
}`)
		e := invoiceEmails(t, s, "inv_cc", 1)[0]
		if !strings.Contains(e.Header.Get("Cc"), "accounting@example.com") {
			t.Errorf("Cc: %q, want accounting@example.com", e.Header.Get("Cc"))
		}
		if e.Header.Get("Bcc") != "" || !strings.Contains(e.Header.Get("X-Invoiced-Envelope-To"), "records@mycompany.com") {
			t.Errorf("Bcc: %q, envelope %q: want records@mycompany.com only among the envelope recipients",
				e.Header.Get("Bcc"), e.Header.Get("X-Invoiced-Envelope-To"))
		}
	})

	t.Run("Reply-To", func(t *testing.T) {
		newInvoice(t, "inv_reply")
		send(t, "/api/v1/invoices/inv_reply/send", `{
  "email": "customer@example.com",
  "replyTo": "billing@mycompany.com"
}`)
		e := invoiceEmails(t, s, "inv_reply", 1)[0]
		if !strings.Contains(e.Header.Get("Reply-To"), "billing@mycompany.com") {
			t.Errorf("Reply-To: %q, want billing@mycompany.com", e.Header.Get("Reply-To"))
		}
	})

	t.Run("Scheduled Sending", func(t *testing.T) {
		newInvoice(t, "inv_later")
		at := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Hour).Format(time.RFC3339)
		data := send(t, "/api/v1/invoices/inv_later/send", `{
    "sendVia": ["email"],
    "email": "customer@example.com",
    "scheduledAt": "`+at+`"
  }`)
		if data["status"] != "scheduled" || data["deliveryStatus"] != "scheduled" || data["scheduledAt"] != at || data["sentAt"] != at {
			t.Errorf("answer = %v, want scheduled at %s", data, at)
		}
		r := must(t, http.StatusOK, s.do(t, "GET", "/api/v1/scheduled-sends", getHeaders, ""))
		list, _ := r.object(t)["data"].(map[string]any)
		sends, _ := list["sends"].([]any)
		found := false
		for _, x := range sends {
			if sd, _ := x.(map[string]any); sd["sendId"] == data["sendId"] {
				found = sd["sentTo"] == "customer@example.com" && sd["deliveryStatus"] == "scheduled"
			}
		}
		if !found {
			t.Errorf("GET /api/v1/scheduled-sends does not list %v, scheduled for customer@example.com: %s", data["sendId"], r.Raw)
		}
	})

	t.Run("Resend Invoice", func(t *testing.T) {
		data := send(t, "/api/v1/invoices/inv_abc123/resend", `{
    "sendVia": ["email"],
    "message": "Reminder: Invoice due in 3 days"
  }`)
		if data["kind"] != "resend" || data["sentTo"] != "customer@example.com" {
			t.Errorf("answer = %v, want a resend to the customer's email", data)
		}
		emails := invoiceEmails(t, s, "inv_abc123", 2)
		var reminder bool
		for _, e := range emails {
			reminder = reminder || strings.Contains(e.Text, "Reminder: Invoice due in 3 days")
		}
		if !reminder {
			t.Errorf("no email of inv_abc123 carries the resend's message")
		}
	})

	t.Run("Test Email Delivery", func(t *testing.T) {
		newInvoice(t, "inv_test_123")
		data := send(t, "/api/v1/invoices/inv_test_123/send", `{
    "sendVia": ["email"],
    "email": "test@example.com",
    "testMode": true
  }`)
		if data["testMode"] != true || data["sentTo"] != "test@example.com" {
			t.Errorf("answer = %v, want a test send to test@example.com", data)
		}
		if e := invoiceEmails(t, s, "inv_test_123", 1)[0]; !strings.Contains(e.Header.Get("To"), "test@example.com") {
			t.Errorf("To: %q, want test@example.com", e.Header.Get("To"))
		}
	})
}

// trackingURL finds the open pixel and tracked links of an email.
var trackingURL = regexp.MustCompile(`(?:src|href)="([^"]+/t/[oc]/[^"]+)"`)

// invoiceEmails waits until the outbox holds n emails of the invoice and
// returns them.
func invoiceEmails(t *testing.T, s *system, invoiceID string, n int) []mailtest.Email {
	t.Helper()
	var got []mailtest.Email
	eventually(t, 20*time.Second, "emails of "+invoiceID, func() bool {
		all, err := mailtest.Outbox(s.Outbox)
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, e := range all {
			if e.Header.Get("X-Invoiced-Invoice") == invoiceID {
				got = append(got, e)
			}
		}
		return len(got) >= n
	})
	return got
}

// smsOf waits until the outbox holds n SMS of the send answered with
// data and returns them.
func smsOf(t *testing.T, s *system, data map[string]any, n int) []map[string]string {
	t.Helper()
	ids, _ := data["deliveryIds"].([]any)
	var got []map[string]string
	eventually(t, 20*time.Second, "the SMS", func() bool {
		got = got[:0]
		files, _ := filepath.Glob(filepath.Join(s.Outbox, "sms", "*.json"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if slices.Contains(ids, any(m["id"])) {
				got = append(got, m)
			}
		}
		return len(got) >= n
	})
	return got
}

// matchDeliveryStatus holds a delivery-status answer to the documented
// one, each delivery to the documented delivery of its method: the
// document's email entry has openedAt and clickedAt, its SMS entry
// neither, which a check of every entry against the first would miss.
func matchDeliveryStatus(t *testing.T, documented string, got any) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(documented), &doc); err != nil {
		t.Fatal(err)
	}
	docData := doc["data"].(map[string]any)
	byMethod := map[string]string{}
	for _, d := range docData["deliveries"].([]any) {
		b, _ := json.Marshal(d)
		byMethod[d.(map[string]any)["method"].(string)] = string(b)
	}
	docData["deliveries"] = []any{}
	envelope, _ := json.Marshal(doc)
	matchShape(t, "GET …/delivery-status", string(envelope), got)

	answer, _ := got.(map[string]any)
	data, _ := answer["data"].(map[string]any)
	ds, _ := data["deliveries"].([]any)
	seen := map[string]bool{}
	for i, d := range ds {
		method, _ := d.(map[string]any)["method"].(string)
		want, ok := byMethod[method]
		if !ok {
			t.Errorf("deliveries[%d] has method %q, documented are email and sms", i, method)
			continue
		}
		seen[method] = true
		matchShape(t, "GET …/delivery-status deliveries["+method+"]", want, d)
	}
	for method := range byMethod {
		if !seen[method] {
			t.Errorf("GET …/delivery-status has no %s delivery", method)
		}
	}
}

// deliveriesOf returns the deliveries of a delivery-status answer.
func deliveriesOf(r response) []map[string]any {
	answer, _ := r.JSON.(map[string]any)
	data, _ := answer["data"].(map[string]any)
	list, _ := data["deliveries"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, d := range list {
		m, _ := d.(map[string]any)
		out = append(out, m)
	}
	return out
}

// checkRecent fails t unless v is an RFC 3339 time within a minute of now.
func checkRecent(t *testing.T, name string, v any) {
	t.Helper()
	at, err := time.Parse(time.RFC3339, str(v))
	if err != nil || time.Since(at).Abs() > time.Minute {
		t.Errorf("%s = %v, want an RFC 3339 time about now", name, v)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
